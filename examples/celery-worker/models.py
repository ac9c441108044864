"""The table the worker writes its results into (Postgres, from DATABASE_URL)."""
import os

from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


def database_url():
    url = os.environ.get("DATABASE_URL", "sqlite://")
    # Heroku (and hoist) hand out postgres://; SQLAlchemy only knows postgresql://.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    return url


class Result(db.Model):
    __tablename__ = "results"
    id = db.Column(db.Integer, primary_key=True)
    task_id = db.Column(db.String(64), unique=True, nullable=False)
    text = db.Column(db.Text, nullable=False)
    word_counts = db.Column(db.JSON, nullable=False)
    created_at = db.Column(db.DateTime, server_default=db.func.now())
