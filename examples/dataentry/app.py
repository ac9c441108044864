"""The classic tutorial app: a form whose entries go into Postgres (DATABASE_URL)."""
import os

from flask import Flask, redirect, render_template_string, request
from flask_sqlalchemy import SQLAlchemy


def database_url():
    url = os.environ.get("DATABASE_URL", "sqlite://")  # in memory until a database is attached
    # Heroku (and hoist) hand out postgres://; SQLAlchemy 1.4+ only knows postgresql://.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    return url


app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = database_url()
# pool_pre_ping: a connection that died (database restart) is replaced instead of failing a request.
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
db = SQLAlchemy(app)


class Entry(db.Model):
    __tablename__ = "entries"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(200), nullable=False)
    value = db.Column(db.String(2000), nullable=False)
    created_at = db.Column(db.DateTime, server_default=db.func.now())


def create_tables():
    """The release phase: create missing tables (runs on every deploy and config change)."""
    if "DATABASE_URL" not in os.environ:
        print("No DATABASE_URL yet: add one with `hoist addons:create heroku-postgresql`")
        return
    with app.app_context():
        db.create_all()
    print("tables are ready")


PAGE = """<!doctype html><title>Data entry</title>
<h1>Data entry</h1>
<form method="post" action="/entries">
  <input name="name" placeholder="name" required> <input name="value" placeholder="value" required>
  <button>Save</button>
</form>
<p>{{ entries|length }} entries</p>
<table>{% for e in entries %}<tr><td>{{ e.name }}</td><td>{{ e.value }}</td></tr>{% endfor %}</table>
"""


@app.route("/")
def index():
    if "DATABASE_URL" not in os.environ:
        return "No database yet: run `hoist addons:create heroku-postgresql`.\n"
    entries = Entry.query.order_by(Entry.id).all()
    return render_template_string(PAGE, entries=entries)


@app.route("/entries", methods=["POST"])
def add_entry():
    db.session.add(Entry(name=request.form["name"], value=request.form["value"]))
    db.session.commit()
    return redirect("/", code=303)


@app.route("/count")
def count():
    return {"entries": Entry.query.count()}
