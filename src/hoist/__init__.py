"""hoist: a self-hosted Heroku for Python web apps."""
from __future__ import annotations

__version__ = "0.1.0"
