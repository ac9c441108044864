"""One way to start a process of a release: its environment and spec, then
the scheduler. Formation dynos, the release phase, postdeploy and detached
one-off dynos are spawned here; attached one-off dynos take the same spec
to the scheduler's attached spawn."""
from __future__ import annotations

from typing import Callable, Mapping

from hoist.contracts.release import RunRelease
from hoist.dynos.environment import dyno_env
from hoist.dynos.scheduler import DynoProcess, DynoSpec, Scheduler


def release_spec(app: str, release: RunRelease, name: str, command: str, *, port: int | None = None,
                 extra_env: Mapping[str, str] | None = None, dyno_id: str = "",
                 formation: bool = False) -> DynoSpec:
    """What dyno `name` runs: `command` in the release's slug, with its environment. Pure.

    `extra_env` (a one-off's `-e`) wins over the config; DYNO always names the dyno."""
    env = dyno_env(config=release.config, app_dir=release.slug_dir, env_dir=release.env_dir, dyno=name, port=port)
    if extra_env:
        env.update(extra_env)
        env["DYNO"] = name
    return DynoSpec(app=app, name=name, command=command, cwd=release.slug_dir, env=env, release=release.id,
                    id=dyno_id, formation=formation)


async def spawn(scheduler: Scheduler, app: str, release: RunRelease, name: str, command: str,
                on_line: Callable[[str], None], *, port: int | None = None,
                extra_env: Mapping[str, str] | None = None, dyno_id: str = "",
                on_dropped: Callable[[int], None] | None = None, formation: bool = False) -> DynoProcess:
    """Start `command` as dyno `name` of `release`; `on_line` receives each line of its output."""
    spec = release_spec(app, release, name, command, port=port, extra_env=extra_env, dyno_id=dyno_id,
                        formation=formation)
    return await scheduler.spawn(spec, on_line, on_dropped)
