"""The RQ worker of Flask by Example, reading the Redis To Go URL as the tutorial does."""
import os

import redis
from rq import Queue, Worker

listen = ["default"]
conn = redis.from_url(os.getenv("REDISTOGO_URL", "redis://localhost:6379"))

if __name__ == "__main__":
    Worker([Queue(name, connection=conn) for name in listen], connection=conn).work()
