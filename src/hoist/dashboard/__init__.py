"""The web dashboard at /dashboard/: server-rendered pages over the same
Platform operations as the API, behind a cookie session with CSRF tokens."""
from __future__ import annotations

from hoist.dashboard.routes import routes

__all__ = ["routes"]
