"""Pipeline promotions: the source app's current slug becomes a new release of each downstream app.

No rebuild: the slug directory and its virtualenv (relocatable, so a copy runs where it lands) are copied
into the target app (its own files, owned by its own user when isolated), and released with the target's
own config and add-ons, formation and release phase, as any deploy. A promotion is answered at once
(pending) and runs in the background; each target ends succeeded or failed with a message."""
from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from hoist.dynos.isolation import Isolation
from hoist.logs.line import PLATFORM
from hoist.paths import Paths
from hoist.platform.access import Access
from hoist.platform.errors import PlatformError
from hoist.platform.pipelines import Pipelines
from hoist.platform.releases import Releases
from hoist.state import apps as apps_t
from hoist.state import config as config_t
from hoist.state import formation as formation_t
from hoist.state import pipelines as pipelines_t
from hoist.state import releases as releases_t
from hoist.state.apps import App
from hoist.state.db import Database
from hoist.state.pipelines import Pipeline, Promotion, Target
from hoist.state.releases import Release, Slug
from hoist.state.users import User

ENV_MARKER = "hoist-env.json"  # the builder's sign of a finished virtualenv


def _copy_tree(src: Path, dst: Path) -> None:
    """cp -a beside the destination, then rename: a copy cut short never looks complete."""
    tmp = dst.with_name(f".tmp-{dst.name}-{uuid.uuid4().hex[:8]}")
    try:
        subprocess.run(["cp", "-a", "--reflink=auto", "--", str(src), str(tmp)], check=True, capture_output=True,
                       text=True, timeout=600)
        tmp.rename(dst)
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise PlatformError("promotion_failed", f"copying the slug failed: {exc.stderr.strip()[:300]}", 500) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


class Promotions:
    def __init__(self, db: Database, paths: Paths, isolation: Isolation | None, access: Access,
                 pipelines: Pipelines, releases: Releases) -> None:
        self.db = db
        self.paths = paths
        self.isolation = isolation
        self.access = access
        self.pipelines = pipelines
        self.releases = releases
        self._tasks: set[asyncio.Task[None]] = set()
        self._copying = threading.Lock()  # two promotions never copy into one app's envs at once

    def start(self, user: User, pipeline: Pipeline, source: App, targets: Sequence[App]) -> Promotion:
        """Check everything a promotion needs, record it (pending) and run it in the background."""
        coupling = pipelines_t.coupling_of_app(self.db, source.id)
        if coupling is None or coupling.pipeline_id != pipeline.id:
            raise PlatformError("invalid_params", f"{source.name} is not in pipeline {pipeline.name}: add it with "
                                f"`hoist pipelines:add {pipeline.name} -a {source.name} --stage staging`.", 422,
                                "pipeline_promotion")
        if not targets:
            raise PlatformError("invalid_params", f"Name at least one app of pipeline {pipeline.name} to promote "
                                f"{source.name} to (--to APP), or add one at the next stage.", 422, "pipeline_promotion")
        for target in targets:
            if not self.access.can_access(user, target):
                raise PlatformError("not_found", f"Couldn't find that app: {target.id!r}.", 404, "app")
            if target.id == source.id:
                raise PlatformError("invalid_params", f"Cannot promote {source.name} to itself: name a downstream "
                                    "app.", 422, "pipeline_promotion")
            tc = pipelines_t.coupling_of_app(self.db, target.id)
            if tc is None or tc.pipeline_id != pipeline.id:
                raise PlatformError("invalid_params", f"{target.name} is not in pipeline {pipeline.name}: add it "
                                    f"with `hoist pipelines:add {pipeline.name} -a {target.name} --stage production`"
                                    ", or promote to one of its apps (`hoist pipelines:info "
                                    f"{pipeline.name}`).", 422, "pipeline_promotion")
        release = releases_t.current_release(self.db, source.id)
        slug = releases_t.get_slug(self.db, release.slug_id) if release and release.slug_id else None
        if release is None or slug is None:
            raise PlatformError("invalid_params", f"{source.name} has no release to promote: deploy it first "
                                f"(`git push` to {source.name}), then promote.", 422, "pipeline_promotion")
        promotion = pipelines_t.create_promotion(self.db, pipeline.id, source.id, release.id,
                                                 [t.id for t in targets])
        task = asyncio.get_running_loop().create_task(self._run(user, promotion, source, release, slug))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return promotion

    async def _run(self, user: User, promotion: Promotion, source: App, release: Release, slug: Slug) -> None:
        for target_row in pipelines_t.targets(self.db, promotion.id):
            await self._promote_one(user, target_row, source, release, slug)

    async def _promote_one(self, user: User, row: Target, source: App, release: Release, slug: Slug) -> None:
        target = apps_t.get_app(self.db, row.app_id)
        if target is None:
            pipelines_t.finish_target(self.db, row.id, "failed", None, "the app was destroyed")
            return
        try:
            began = time.monotonic()
            new_slug = await asyncio.to_thread(self._copy_slug, source, slug, target)
            self.releases.logs.emit(target.name, PLATFORM, "api", f"Promoting {source.name} v{release.version}: "
                                    f"slug copied in {time.monotonic() - began:.2f}s")
            # New process types get Heroku's default scale (web=1, others 0, or app.json's), as on a push.
            defaults = {t: (1 if t == "web" else 0) for t in slug.process_types if t != "release"}
            for ptype, spec in (slug.app_json.formation.items() if slug.app_json else ()):
                if ptype in defaults:
                    defaults[ptype] = spec.quantity
            formation_t.ensure_types(self.db, target.id, defaults)
            commit = f" {slug.commit[:7]}" if slug.commit else ""
            rel, result = await self.releases.release(
                target, slug_id=new_slug.id, config=config_t.get_config(self.db, target.id),
                description=f"Promote {source.name} v{release.version}{commit}", user=user)
        except PlatformError as exc:
            pipelines_t.finish_target(self.db, row.id, "failed", None, exc.message)
            return
        except Exception as exc:  # the promotion says it failed instead of staying pending
            pipelines_t.finish_target(self.db, row.id, "failed", None, f"{type(exc).__name__}: {exc}")
            return
        if result.ok:
            pipelines_t.finish_target(self.db, row.id, "succeeded", rel.id)
        else:
            pipelines_t.finish_target(self.db, row.id, "failed", rel.id,
                                      f"release v{rel.version} failed: {result.message}")

    def _copy_slug(self, source: App, slug: Slug, target: App) -> Slug:
        """The slug (and its virtualenv, unless the target has it already) copied into the target app."""
        with self._copying:
            return self._copy_slug_locked(source, slug, target)

    def _copy_slug_locked(self, source: App, slug: Slug, target: App) -> Slug:
        new_id = str(uuid.uuid4())
        dst = self.paths.slug(target.name, new_id)
        dst.parent.mkdir(parents=True, exist_ok=True)
        _copy_tree(self.paths.slug(source.name, slug.id), dst)
        env_dir = slug.env_dir
        if env_dir and Path(env_dir).is_relative_to(self.paths.app(source.name)):
            # Beside the target's own envs under a dot name: its builds prune only their own keys.
            env = self.paths.app(target.name) / "envs" / f".promoted-{Path(env_dir).name}"
            if not (env / ENV_MARKER).is_file():
                env.parent.mkdir(parents=True, exist_ok=True)
                shutil.rmtree(env, ignore_errors=True)
                _copy_tree(Path(env_dir), env)
                if self.isolation is not None:
                    self.isolation.give(target.name, env)
            env_dir = str(env)
        if self.isolation is not None:
            self.isolation.give(target.name, dst)
        return releases_t.create_slug(
            self.db, target.id, slug_id=new_id, commit=slug.commit, process_types=slug.process_types,
            env_dir=env_dir, python_version=slug.python_version, size=slug.size, app_json=slug.app_json)

    async def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
