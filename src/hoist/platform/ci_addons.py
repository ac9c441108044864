"""A CI run's throwaway add-ons (app.json `environments.test.addons`): each provisioned fresh for the run by
the same provider that serves the app's own add-ons (a new Postgres database and role, a new Redis server),
never recorded on the app, and removed when the run ends, pass or fail."""
from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

from hoist.addons import plans
from hoist.addons.errors import AddonError
from hoist.contracts.appjson import AddonSpec
from hoist.platform.addons import AddonManager
from hoist.state.addons import Addon
from hoist.state.apps import App


class TestAddonError(Exception):
    """A test add-on could not be provisioned; the message says which and why."""
    __test__ = False


@contextlib.asynccontextmanager
async def throwaway_addons(manager: AddonManager, app: App, specs: Sequence[AddonSpec], directory: Path,
                           emit: Callable[[str], None]) -> AsyncIterator[dict[str, str]]:
    """Provision `specs` for one run (servers' files under `directory`, as the app's own add-ons'); yield the
    config vars they give; deprovision them all afterwards (each provider removes its files)."""
    made: list[tuple[Addon, dict[str, object]]] = []
    config: dict[str, str] = {}
    try:
        for spec in specs:
            try:
                plan = plans.parse_plan(spec.plan)
                service = plans.service(plan.service)
            except plans.PlanError as exc:
                raise TestAddonError(f"environments.test.addons: {exc}") from None
            if not service.suffixes:  # the scheduler: nothing to attach in a test run
                continue
            attach_as = spec.attach_as if isinstance(spec.attach_as, str) and spec.attach_as else service.attach_as
            names = service.vars_for(attach_as.upper())
            addon = Addon(str(uuid.uuid4()), app.id, plans.addon_name(service.name), service.name, plan.plan,
                          "provisioning", names, {}, "", "")
            emit(f"-----> Provisioning a throwaway {service.name} for the test run")
            try:
                provisioned = await manager.providers[service.kind].provision(addon, directory)
            except AddonError as exc:
                raise TestAddonError(f"could not provision the test add-on {service.name}: {exc}") from None
            made.append((addon, provisioned.provider))
            for var in names:
                config[var] = provisioned.url
        yield config
    finally:
        for addon, provider in reversed(made):
            gone = Addon(**{**addon.__dict__, "provider": provider, "state": "provisioned"})
            try:
                await manager.providers[plans.kind(addon.service)].deprovision(gone)
            except AddonError as exc:
                emit(f" !     The throwaway {addon.service} of the test run was not removed: {exc}")
