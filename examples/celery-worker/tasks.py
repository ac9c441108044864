"""The Celery app. RabbitMQ Bigwig hands out one URL for consumers (RX) and one for producers (TX):
the worker reads from the first, the web dyno publishes to the second."""
import os
from collections import Counter

from celery import Celery

LOCAL = "amqp://guest:guest@localhost:5672//"

RX = os.environ.get("RABBITMQ_BIGWIG_RX_URL") or os.environ.get("CLOUDAMQP_URL", LOCAL)
TX = os.environ.get("RABBITMQ_BIGWIG_TX_URL") or os.environ.get("CLOUDAMQP_URL", LOCAL)

celery = Celery("tasks", broker=RX)
celery.conf.broker_read_url = RX
celery.conf.broker_write_url = TX
celery.conf.broker_connection_retry_on_startup = True


@celery.task(bind=True)
def count_words(self, text):
    from app import app
    from models import Result, db

    counts = Counter(word.strip(".,;:!?\"'").lower() for word in text.split())
    counts.pop("", None)
    with app.app_context():
        db.session.add(Result(task_id=self.request.id, text=text, word_counts=dict(counts.most_common(10))))
        db.session.commit()
    print(f"counted {sum(counts.values())} words for task {self.request.id}")
    return len(counts)
