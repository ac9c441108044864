"""Flask by Example with a job queue: the web dyno enqueues, the worker dyno counts, Redis carries both."""
import os

from flask import Flask, jsonify, request
from redis import Redis
from rq import Queue
from rq.job import Job

from counter import count_words

conn = Redis.from_url(os.environ.get("REDISTOGO_URL", "redis://localhost:6379"))
q = Queue(connection=conn)
app = Flask(__name__)


@app.get("/")
def index():
    return "Word counter: POST some text to /start, then GET /results/<job id>.\n"


@app.post("/start")
def start():
    text = request.form.get("text") or request.get_data(as_text=True)
    job = q.enqueue(count_words, text, result_ttl=3600)
    return jsonify(job_id=job.id), 202


@app.get("/results/<job_id>")
def results(job_id):
    job = Job.fetch(job_id, connection=conn)
    if not job.is_finished:
        return jsonify(status=job.get_status()), 202
    return jsonify(status="done", word_counts=job.return_value())
