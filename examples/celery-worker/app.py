"""Flask by example, deployed: the web dyno queues work on RabbitMQ, a Celery worker does it and stores
the result in Postgres, and the web dyno reads it from there."""
from flask import Flask, jsonify, request

from models import Result, database_url, db
from tasks import count_words

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = database_url()
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
db.init_app(app)


@app.get("/")
def index():
    return "Word counter: POST some text to /start, then GET /results/<task id>.\n"


@app.post("/start")
def start():
    text = request.form.get("text") or request.get_data(as_text=True)
    if not text.strip():
        return jsonify(error="send some text"), 400
    task = count_words.delay(text)
    return jsonify(task_id=task.id), 202


@app.get("/results/<task_id>")
def results(task_id):
    row = Result.query.filter_by(task_id=task_id).first()
    if row is None:
        return jsonify(status="pending"), 202
    return jsonify(status="done", word_counts=row.word_counts, created_at=row.created_at.isoformat())


def create_tables():
    """The release phase: create missing tables."""
    import os
    if "DATABASE_URL" not in os.environ:
        print("No DATABASE_URL yet: add one with `hoist addons:create heroku-postgresql`")
        return
    with app.app_context():
        db.create_all()
    print("tables are ready")
