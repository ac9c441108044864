"""The smallest tutorial app: Flask behind gunicorn, configured by env vars."""
import os

from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    return f"{os.environ.get('GREETING', 'Hello')} from hoist ({os.environ.get('DYNO', '?')})\n"
