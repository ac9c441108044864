"""What the pages show, read from the platform (no changes here): rows for the
apps list and the sections of an app page."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from hoist.platform.control import Platform
from hoist.platform.schedules import describe
from hoist.dashboard import chart, metrics
from hoist.state import config as config_t
from hoist.state import formation as formation_t
from hoist.state import releases as releases_t
from hoist.state import users as users_t
from hoist.state.apps import App
from hoist.state.users import User

LOG_WINDOW = 5000  # log lines scanned for metrics (the store keeps fewer)


def duration(seconds: float | None) -> str:
    """`42s`, `5m 3s`, `2h 10m`, `3d 4h` (pure)."""
    if seconds is None:
        return ""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def _since(iso: str) -> float | None:
    try:
        return time.time() - datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def app_state(p: Platform, app: App) -> str:
    """One word for the apps list: maintenance, asleep, crashed, starting, up, or idle (no dynos)."""
    if app.maintenance:
        return "maintenance"
    running = p.dynos(app)
    if not running:
        return "asleep" if p.asleep(app) else "idle"
    states = {d.state for d in running}
    for word in ("crashed", "starting"):
        if word in states:
            return word
    return "up" if "up" in states else sorted(states)[0]


def apps_rows(p: Platform, user: User) -> list[dict[str, Any]]:
    rows = []
    for app in sorted(p.visible_apps(user), key=lambda a: a.name):
        rel = releases_t.current_release(p.db, app.id)
        rows.append({"name": app.name, "state": app_state(p, app), "web_url": p.web_url(app.name),
                     "release": rel})
    return rows


def dynos(p: Platform, app: App) -> list[dict[str, Any]]:
    out = []
    for d in p.dynos(app):
        out.append({"name": d.name, "type": d.type, "state": d.state, "release": d.release.version,
                    "memory_mb": None if d.memory_mb is None else round(d.memory_mb, 1),
                    "uptime": duration(_since(d.state_since)) if d.state == "up" else "",
                    "since": d.state_since, "command": d.command})
    return out


def formation(p: Platform, app: App) -> list[dict[str, Any]]:
    run = p.current_run(app)
    cmds = run.process_types if run else {}
    return [{"type": f.type, "quantity": f.quantity, "command": cmds.get(f.type, "")}
            for f in formation_t.list_formation(p.db, app.id) if f.type in cmds or not cmds]


def releases(p: Platform, app: App, limit: int = 20) -> list[dict[str, Any]]:
    current = releases_t.current_release(p.db, app.id)
    out = []
    for r in reversed(releases_t.list_releases(p.db, app.id)[-limit:]):
        u = users_t.get_user(p.db, r.user_id) if r.user_id else None
        out.append({"version": r.version, "description": r.description, "status": r.status,
                    "created_at": r.created_at, "user": u.email if u else "",
                    "current": current is not None and r.version == current.version,
                    "can_rollback": r.status == "succeeded" and (current is None or r.version != current.version)})
    return out


def addons(p: Platform, app: App) -> list[dict[str, Any]]:
    return [{"name": a.name, "plan": f"{a.service}:{a.plan}", "state": a.state, "vars": ", ".join(a.config_vars)}
            for a in p.addons.list(app)]


def scheduler(p: Platform, app: App) -> dict[str, Any] | None:
    """The Scheduler card: None when the app has no scheduler add-on."""
    if p.addons is None or not any(a.service == "scheduler" for a in p.addons.list(app)):
        return None
    schedules = p.addons.schedules
    jobs = [{"id": j.id, "schedule": describe(j), "command": j.command, "next": _utc(j.next_run),
             "last": _last_run(j.last_run, j.last_status, j.last_dyno)} for j in schedules.list(app)]
    return {"jobs": jobs}


def _last_run(at: float | None, status: str | None, dyno: str | None) -> str:
    if at is None:
        return "never"
    shown = f"exit {status}" if (status or "").isdigit() else ("running" if status == "starting" else status or "")
    return f"{_utc(at)}, {shown}" + (f" ({dyno})" if dyno else "")


def _utc(t: float | None) -> str:
    return "" if t is None else datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def metrics_view(p: Platform, app: App, window_min: int) -> dict[str, Any]:
    """The request summary of the last window_min minutes, chart bars, and dyno memory bars."""
    now = time.time()
    summary = metrics.app_summary(p.logs.recent(app.name, LOG_WINDOW), now, window_min * 60)
    n = len(summary.buckets)
    labels = [f"{n - i} min ago" if n - i > 1 else "last minute" for i in range(n)]
    quota = float(p.settings.dyno_memory_mb)
    mem = [d | {"bar": chart.meter(d["memory_mb"], quota)} for d in dynos(p, app) if d["memory_mb"] is not None]
    return {"summary": summary, "window": window_min,
            "bars": chart.bars(summary.buckets, labels, width=800, height=80),
            "memory": mem, "quota": quota}


def app_page(p: Platform, app: App, window_min: int) -> dict[str, Any]:
    ds = dynos(p, app)
    return {"app": app, "web_url": p.web_url(app.name), "git_url": p.git_url(app.name),
            "state": app_state(p, app), "dynos": ds, "formation": formation(p, app),
            "releases": releases(p, app), "config": config_t.get_config(p.db, app.id),
            "addons": addons(p, app), "scheduler": scheduler(p, app), "metrics": metrics_view(p, app, window_min),
            "log_dynos": sorted({d["name"] for d in ds} | {d["type"] for d in ds})}
