"""Heroku Platform API v3 shapes for hoist's objects."""
from __future__ import annotations

from typing import Any

from hoist.platform.control import Platform
from hoist.dynos.runtime import Dyno
from hoist.state import releases as releases_t
from hoist.state import users as users_t
from hoist.state.apps import App
from hoist.state.builds import Build
from hoist.state.formation import Formation
from hoist.state.releases import Release
from hoist.state.users import User

REGION = {"id": "00000000-0000-0000-0000-000000000001", "name": "local"}
STACK = {"id": "00000000-0000-0000-0000-000000000024", "name": "heroku-24"}


def user(u: User) -> dict[str, Any]:
    return {"id": u.id, "email": u.email, "created_at": u.created_at, "updated_at": u.created_at,
            "name": u.email.split("@")[0], "verified": True, "two_factor_authentication": False,
            "allow_tracking": False, "beta": False, "default_organization": None, "default_team": None,
            "sms_number": None, "suspended_at": None, "delinquent_at": None, "last_login": None,
            "identity_provider": None, "federated": False, "country_of_residence": None}


def app(p: Platform, a: App) -> dict[str, Any]:
    owner = users_t.get_user(p.db, a.owner_id)
    slug_size = 0
    rel = releases_t.latest_slug_release(p.db, a.id)
    if rel and rel.slug_id:
        slug = releases_t.get_slug(p.db, rel.slug_id)
        slug_size = slug.size if slug else 0
    return {
        "id": a.id, "name": a.name, "web_url": p.web_url(a.name), "git_url": p.git_url(a.name),
        "created_at": a.created_at, "updated_at": a.updated_at, "released_at": a.released_at,
        "owner": {"id": a.owner_id, "email": owner.email if owner else None},
        "region": REGION, "stack": STACK, "build_stack": STACK, "generation": {"id": "cedar", "name": "cedar"},
        "maintenance": a.maintenance, "slug_size": slug_size, "repo_size": None,
        "create_status": "complete", "acm": False, "archived_at": None, "buildpack_provided_description": "Python",
        "internal_routing": None, "space": None, "organization": None, "team": None,
    }


def release(p: Platform, a: App, r: Release, current_version: int | None) -> dict[str, Any]:
    u = users_t.get_user(p.db, r.user_id) if r.user_id else None
    return {
        "id": r.id, "version": r.version, "description": r.description, "status": r.status,
        "current": r.version == current_version, "eligible_for_rollback": r.status == "succeeded",
        "created_at": r.created_at, "updated_at": r.updated_at,
        "user": {"id": r.user_id, "email": u.email if u else None},
        "app": {"id": a.id, "name": a.name},
        "slug": {"id": r.slug_id} if r.slug_id else None,
        "addon_plan_names": [], "artifacts": [], "output_stream_url": release_output_url(p, a, r),
    }


def release_output_url(p: Platform, a: App, r: Release) -> str | None:
    """A signed URL for the release phase's output (fetched without a token), if the release had one."""
    if not p.paths.release_log(a.name, r.id).exists():
        return None
    sig = p.signer.sign("release-output", a.id, r.id)
    return f"http://localhost:{p.settings.port}/hoist/release-output/{a.name}/{r.id}/{sig}"


def formation(a: App, f: Formation, command: str) -> dict[str, Any]:
    return {"id": f.id, "type": f.type, "quantity": f.quantity, "size": f.size, "command": command,
            "app": {"id": a.id, "name": a.name}, "created_at": f.created_at, "updated_at": f.updated_at}


def dyno(a: App, d: Dyno) -> dict[str, Any]:
    return {"id": d.id, "name": d.name, "type": d.type, "state": d.state, "command": d.command,
            "size": "standard-1X", "release": {"id": d.release.id, "version": d.release.version},
            "app": {"id": a.id, "name": a.name}, "attach_url": None,
            "created_at": d.state_since, "updated_at": d.state_since,
            "memory_mb": None if d.memory_mb is None else round(d.memory_mb, 1),
            "node": getattr(d.proc, "node", None)}  # hoist's own: the swarm node a dyno runs on (None: here)


def build(p: Platform, a: App, b: Build, base: str | None = None) -> dict[str, Any]:
    """A build; its output_stream_url is signed (the heroku CLI and other clients read it without a token)."""
    u = users_t.get_user(p.db, b.user_id) if b.user_id else None
    base = base or f"http://localhost:{p.settings.port}"
    return {"id": b.id, "status": b.status, "created_at": b.created_at, "updated_at": b.updated_at,
            "app": {"id": a.id}, "source_blob": {"version": b.source_version},
            "slug": {"id": b.slug_id} if b.slug_id else None,
            "release": {"id": b.release_id} if b.release_id else None,
            "user": {"id": b.user_id, "email": u.email if u else None},
            "output_stream_url": f"{base}/hoist/build-output/{b.id}/{p.signer.sign('build-output', b.id)}",
            "buildpacks": [{"url": "heroku/python", "name": "heroku/python"}], "stack": "heroku-24"}
