"""Pipelines: apps coupled at a stage (development, staging, production; review), each app in at most one.

Who may do what: a user sees a pipeline they own or one holding an app they can access; coupling an app
needs access to that app; destroying a pipeline is for its owner and the admin. Promotions (promote.py)
need access to the source and to every target."""
from __future__ import annotations

from hoist import names
from hoist.logs.store import LogStore
from hoist.platform.access import Access, audit
from hoist.platform.errors import PlatformError
from hoist.state import apps as apps_t
from hoist.state import pipelines as pipelines_t
from hoist.state.apps import App
from hoist.state.db import Database
from hoist.state.pipelines import STAGES, Coupling, Pipeline
from hoist.state.users import User


def check_stage(stage: object) -> str:
    if not isinstance(stage, str) or stage not in STAGES:
        raise PlatformError("invalid_params", f"Stage {stage!r} is not one of {', '.join(STAGES)}: "
                            "give --stage staging (or production, development, review).", 422, "pipeline_coupling")
    return stage


class Pipelines:
    def __init__(self, db: Database, logs: LogStore, access: Access) -> None:
        self.db = db
        self.logs = logs
        self.access = access

    # ----- what a user may see -----

    def can_see(self, user: User, pipeline: Pipeline) -> bool:
        if user.is_admin or pipeline.owner_id == user.id:
            return True
        return any(self.access.can_access(user, app) for app in self.apps(pipeline))

    def visible(self, user: User) -> list[Pipeline]:
        return [p for p in pipelines_t.list_pipelines(self.db) if self.can_see(user, p)]

    def find(self, user: User, id_or_name: str) -> Pipeline:
        pipeline = pipelines_t.get_pipeline(self.db, id_or_name)
        if pipeline is None or not self.can_see(user, pipeline):
            raise PlatformError("not_found", f"Couldn't find that pipeline: {id_or_name!r}. `hoist pipelines` "
                                "lists yours.", 404, "pipeline")
        return pipeline

    def apps(self, pipeline: Pipeline) -> list[App]:
        found = (apps_t.get_app(self.db, c.app_id) for c in pipelines_t.couplings(self.db, pipeline.id))
        return [a for a in found if a is not None]

    def couplings(self, user: User, pipeline: Pipeline) -> list[tuple[Coupling, App]]:
        """The pipeline's apps the user can access, with their stage."""
        out = []
        for c in pipelines_t.couplings(self.db, pipeline.id):
            app = apps_t.get_app(self.db, c.app_id)
            if app is not None and self.access.can_access(user, app):
                out.append((c, app))
        return out

    def coupling_of(self, user: User, app: App) -> Coupling:
        coupling = pipelines_t.coupling_of_app(self.db, app.id)
        if coupling is None:
            raise PlatformError("not_found", f"{app.name} is not in a pipeline. Add it with `hoist pipelines:add "
                                f"PIPELINE -a {app.name} --stage staging`.", 404, "pipeline_coupling")
        return coupling

    def find_coupling(self, user: User, coupling_id: str) -> tuple[Coupling, App]:
        coupling = pipelines_t.get_coupling(self.db, coupling_id)
        app = apps_t.get_app(self.db, coupling.app_id) if coupling else None
        if coupling is None or app is None or not self.access.can_access(user, app):
            raise PlatformError("not_found", f"Couldn't find that pipeline coupling: {coupling_id!r}.", 404,
                                "pipeline_coupling")
        return coupling, app

    # ----- changes -----

    def create(self, user: User, name: object) -> Pipeline:
        if not isinstance(name, str):
            raise PlatformError("invalid_params", "Give the pipeline a name, e.g. `hoist pipelines:create myapp "
                                "-a myapp-staging --stage staging`.", 422, "pipeline")
        try:
            names.app_name(name)
        except names.InvalidName:
            raise PlatformError("invalid_params", f"Pipeline name {name!r} is not valid: 3 to 30 characters, lower "
                                "case letters, digits and dashes, starting with a letter.", 422, "pipeline") from None
        if pipelines_t.get_pipeline(self.db, name) is not None:
            raise PlatformError("invalid_params", f"A pipeline named {name} exists already: choose another name.",
                                422, "pipeline")
        return pipelines_t.create_pipeline(self.db, name, user.id)

    def couple(self, user: User, pipeline: Pipeline, app: App, stage: object) -> Coupling:
        stage = check_stage(stage)
        existing = pipelines_t.coupling_of_app(self.db, app.id)
        if existing is not None:
            other = pipelines_t.get_pipeline(self.db, existing.pipeline_id)
            raise PlatformError("invalid_params", f"{app.name} is already in pipeline "
                                f"{other.name if other else existing.pipeline_id} ({existing.stage}): remove it "
                                f"first with `hoist pipelines:remove -a {app.name}`.", 422, "pipeline_coupling")
        coupling = pipelines_t.add_coupling(self.db, pipeline.id, app.id, stage)
        audit(self.db, app, user, "pipeline-add", f"{pipeline.name} as {stage}")
        return coupling

    def set_stage(self, user: User, coupling: Coupling, app: App, stage: object) -> Coupling:
        pipelines_t.set_stage(self.db, coupling.id, check_stage(stage))
        audit(self.db, app, user, "pipeline-stage", str(stage))
        updated = pipelines_t.get_coupling(self.db, coupling.id)
        assert updated is not None
        return updated

    def uncouple(self, user: User, coupling: Coupling, app: App) -> None:
        pipelines_t.delete_coupling(self.db, coupling.id)
        audit(self.db, app, user, "pipeline-remove", coupling.pipeline_id)

    def destroy(self, user: User, pipeline: Pipeline) -> None:
        if not (user.is_admin or pipeline.owner_id == user.id):
            raise PlatformError("forbidden", f"Only the owner of pipeline {pipeline.name} or the admin can destroy "
                                "it.", 403, "pipeline")
        pipelines_t.delete_pipeline(self.db, pipeline.id)  # its couplings go with it; the apps stay
