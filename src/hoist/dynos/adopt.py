"""Adoption: a restarted hoist takes over the dynos the previous one left running, instead of
starting them again. A dyno is adopted into its app only when it runs the app's current release
and its name is in the formation (web.2 with web=2); every other survivor — an older release, a
scaled-down or one-off dyno, a deploy's dynos that were still booting — is stopped. Adopted web
dynos are UP at once: they were serving, and the router (adopted too) never stopped routing to them.

Called only before the supervisor's loop runs (`offer` before the apps are loaded, `claim` by
`load`, `reject_rest` once every app is loaded), so nothing else changes dynos meanwhile."""
from __future__ import annotations

from collections.abc import Container, Mapping

from hoist.dynos.lifecycle import Lifecycle
from hoist.dynos.runtime import AppRuntime, Dyno
from hoist.dynos.scheduler import Survivor
from hoist.logs.line import PLATFORM


class Offers:
    def __init__(self) -> None:
        self.by_app: dict[str, list[Survivor]] = {}
        self.adopted = 0

    def offer(self, survivors: list[Survivor]) -> None:
        for s in survivors:
            self.by_app.setdefault(s.app, []).append(s)

    def claim(self, rt: AppRuntime, life: Lifecycle, now: float) -> None:
        """Adopt the app's survivors that its current release and formation want (the rest wait for
        `reject_rest`)."""
        rel = rt.release
        if rel is None or rt.name not in self.by_app:
            return
        wanted = {f"{ptype}.{n}" for ptype, qty in rt.formation.items()
                  if ptype in rel.process_types and ptype != "release" for n in range(1, qty + 1)}
        keep: list[Survivor] = []
        for s in self.by_app.pop(rt.name):
            if s.release == rel.id and s.name in wanted and s.name not in rt.dynos and s.proc.returncode is None:
                ptype, _, number = s.name.rpartition(".")
                d = rt.dynos[s.name] = Dyno(rt.name, ptype, int(number), rel, port=s.port, proc=s.proc, id=s.id)
                life.adopted(d, now)
                d.state_since = s.since or d.state_since
                self.adopted += 1
            else:
                keep.append(s)
        if keep:
            self.by_app[rt.name] = keep

    def reject_rest(self, life: Lifecycle, known: Container[str]) -> int:
        """Stop every survivor no app claimed (SIGTERM, SIGKILL soon after); return how many. Those of
        `known` apps say so in the app's log."""
        rest = [s for survivors in self.by_app.values() for s in survivors]
        self.by_app.clear()
        for s in rest:
            if s.app in known:
                life.logs.emit(s.app, PLATFORM, s.name, "Stopping a process left running by the previous hoist: "
                                                       "the app's current release and formation do not include it")
            life.end_group(s.proc, s.port, s.id)
        return len(rest)


def name_now(renamed: Mapping[str, str], app: str) -> str:
    """The name an app adopted as `app` has now, after the renames since (old -> new)."""
    seen = {app}
    while app in renamed and renamed[app] not in seen:
        app = renamed[app]
        seen.add(app)
    return app
