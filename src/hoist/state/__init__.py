"""State: the SQLite database and small typed functions per table."""
from __future__ import annotations
