"""app.json, parsed in one place: env specs, formation, add-ons, scripts and
the web health check, as Heroku's app.json schema names them.

The builder parses the pushed file (`parse`) and hands the result on inside
its BuildResult; the slug row keeps it as the JSON of `AppJson.to_json()`,
read back with `from_json`. Both go through the same validation, so every
reader sees the same typed value. Pure: no I/O."""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from hoist import names


class AppJsonError(ValueError):
    """app.json is malformed; the message names the field (or line) and the fix."""


@dataclass(frozen=True, slots=True)
class EnvSpec:
    """One entry of app.json's `env`: a default value, a generator, or a required key."""
    required: bool
    value: str | None = None
    description: str | None = None
    generator: str | None = None


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    """One entry of app.json's `formation`."""
    quantity: int
    size: str | None = None


@dataclass(frozen=True, slots=True)
class AddonSpec:
    """One entry of app.json's `addons`; `attach_as` and `options` are kept as written."""
    plan: str
    attach_as: Any = None
    options: Any = None


@dataclass(frozen=True, slots=True)
class TestEnv:
    """app.json's `environments.test` (Heroku CI): its scripts, throwaway add-ons and env, as written."""
    scripts: Mapping[str, str] = field(default_factory=dict)  # test-setup, test
    addons: tuple[AddonSpec, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def test(self) -> str | None:
        return self.scripts.get("test")

    @property
    def setup(self) -> str | None:
        return self.scripts.get("test-setup")


@dataclass(frozen=True, slots=True)
class AppJson:
    formation: Mapping[str, ProcessSpec] = field(default_factory=dict)
    env: Mapping[str, EnvSpec] = field(default_factory=dict)
    addons: tuple[AddonSpec, ...] = ()
    scripts: Mapping[str, str] = field(default_factory=dict)
    healthchecks: Mapping[str, Any] | None = None  # Heroku's `healthchecks` object, as written
    name: str | None = None
    description: str | None = None
    stack: str | None = None
    test_env: TestEnv | None = None  # environments.test

    @property
    def postdeploy(self) -> str | None:
        """scripts.postdeploy: the command run once after the app's first release."""
        return self.scripts.get("postdeploy")

    @property
    def web_health_path(self) -> str | None:
        """The web process's startup health check path, if any."""
        checks = self.healthchecks or {}
        for check in checks.get("web") or []:
            path = check.get("path") if isinstance(check, dict) else None
            if isinstance(path, str) and path.startswith("/"):
                return path
        return None

    def to_json(self) -> dict[str, Any]:
        """The normalised form the build result and the slug row carry; `from_json` reads it back."""
        data: dict[str, Any] = {
            "formation": {k: _dump_process(p) for k, p in self.formation.items()},
            "env": {k: _dump_env(e) for k, e in self.env.items()},
            "addons": [_dump_addon(a) for a in self.addons],
            "scripts": dict(self.scripts),
            "healthchecks": self.healthchecks,
        }
        if self.test_env is not None:
            t = self.test_env
            data["environments"] = {"test": {"scripts": dict(t.scripts), "env": dict(t.env),
                                             "addons": [_dump_addon(a) for a in t.addons]}}
        for key, value in (("name", self.name), ("description", self.description), ("stack", self.stack)):
            if value is not None:
                data[key] = value
        return data


def parse(text: str) -> AppJson:
    """Parse the text of an app.json; a malformed file raises AppJsonError naming the line."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AppJsonError(
            f"app.json is not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}; "
            "fix that line (or delete app.json) and push again"
        ) from None
    return from_json(data)


def from_json(data: Any) -> AppJson:
    """Validate and normalise a decoded app.json (as written, or as `to_json` wrote it)."""
    if not isinstance(data, dict):
        raise AppJsonError("app.json must contain a JSON object like {\"formation\": {...}}; fix it and push again")
    text = {key: data[key] for key in ("name", "description", "stack") if isinstance(data.get(key), str)}
    return AppJson(
        formation=_formation(data.get("formation")),
        env=_env(data.get("env")),
        addons=_addons(data.get("addons")),
        scripts=_scripts(data.get("scripts")),
        healthchecks=_healthchecks(data),
        test_env=_test_env(data.get("environments")),
        **text,
    )


def resolve_env(
    spec: Mapping[str, EnvSpec] | Mapping[str, Mapping[str, Any]], config: Mapping[str, str],
    secret: Callable[[], str] = lambda: secrets.token_hex(32),
) -> tuple[dict[str, str], list[str]]:
    """Apply app.json's `env` to an app's config: return (defaults to set for keys not in config,
    messages for required keys still missing). Entries may be EnvSpecs or app.json's own objects."""
    defaults: dict[str, str] = {}
    missing: list[str] = []
    for key, raw in spec.items():
        if key in config:
            continue
        entry = raw if isinstance(raw, EnvSpec) else _env_entry(key, raw)
        if entry.value is not None:
            defaults[key] = entry.value
        elif entry.generator == "secret":
            defaults[key] = secret()
        elif entry.required:
            missing.append(f"{key}" + (f" ({entry.description})" if entry.description else ""))
    return defaults, missing


def _fail(what: str, fix: str) -> AppJsonError:
    return AppJsonError(f"app.json: {what}; {fix}")


def _formation(value: Any) -> dict[str, ProcessSpec]:
    if value is None:
        return {}
    items: list[tuple[str, Any]]
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):  # the older list form: [{"process": "web", "quantity": 1}]
        items = [(str(v.get("process") or v.get("type")), v) for v in value if isinstance(v, dict)]
    else:
        raise _fail("`formation` must be an object", 'write it as {"web": {"quantity": 1}}')
    out: dict[str, ProcessSpec] = {}
    for kind, spec in items:
        try:
            names.process_type(kind)
        except names.InvalidName as exc:
            raise _fail(f"formation: {exc}", "rename the process type") from None
        spec = spec if isinstance(spec, dict) else {}
        quantity = spec.get("quantity", 1)
        if isinstance(quantity, str) and quantity.isdigit():
            quantity = int(quantity)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            raise _fail(f"formation.{kind}.quantity is {quantity!r}", "use a whole number such as 1")
        size = spec.get("size")
        out[kind] = ProcessSpec(quantity, size if isinstance(size, str) else None)
    return out


def _env(value: Any) -> dict[str, EnvSpec]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail("`env` must be an object", 'write it as {"SECRET_KEY": {"generator": "secret"}}')
    out: dict[str, EnvSpec] = {}
    for key, spec in value.items():
        try:
            names.config_key(key)
        except names.InvalidName as exc:
            raise _fail(f"env: {exc}", "rename the variable") from None
        out[key] = _env_entry(key, spec)
    return out


def _env_entry(key: str, spec: Any) -> EnvSpec:
    if isinstance(spec, (str, int, float, bool)):  # shorthand: "KEY": "value"
        spec = {"value": str(spec)}
    if not isinstance(spec, Mapping):
        raise _fail(f"env.{key} must be a string or an object", 'use {"value": "...", "required": true}')

    def text(name: str) -> str | None:
        return str(spec[name]) if spec.get(name) is not None else None

    return EnvSpec(
        required=bool(spec.get("required", "value" not in spec and "generator" not in spec)),
        value=text("value"), description=text("description"), generator=text("generator"),
    )


def _addons(value: Any) -> tuple[AddonSpec, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail("`addons` must be a list", 'write it as ["heroku-postgresql"]')
    out: list[AddonSpec] = []
    for item in value:
        if isinstance(item, str):
            out.append(AddonSpec(item))
        elif isinstance(item, dict) and isinstance(item.get("plan"), str):
            out.append(AddonSpec(item["plan"], item.get("as"), item.get("options")))
        else:
            raise _fail(f"addon entry {item!r} has no plan", 'use "heroku-postgresql" or {"plan": "heroku-postgresql"}')
    return tuple(out)


def _scripts(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail("`scripts` must be an object", 'write it as {"postdeploy": "python manage.py seed"}')
    out: dict[str, str] = {}
    for name, command in value.items():
        if isinstance(command, dict):  # {"postdeploy": {"command": "...", "size": ...}}
            command = command.get("command")
        if not isinstance(command, str) or not command.strip():
            raise _fail(f"scripts.{name} has no command", "give it a command string")
        out[str(name)] = command
    return out


def _test_env(value: Any) -> TestEnv | None:
    """environments.test: scripts (test-setup, test), addons, env (plain values: no generators here)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _fail("`environments` must be an object", 'write it as {"test": {"scripts": {"test": "pytest"}}}')
    test = value.get("test")
    if test is None:
        return None
    if not isinstance(test, dict):
        raise _fail("`environments.test` must be an object", 'write it as {"scripts": {"test": "pytest"}}')
    env = test.get("env")
    env = {} if env is None else env
    if not isinstance(env, dict):
        raise _fail("environments.test.env must be an object", 'write it as {"DJANGO_DEBUG": "1"}')
    out: dict[str, str] = {}
    for key, raw in env.items():
        try:
            names.config_key(key)
        except names.InvalidName as exc:
            raise _fail(f"environments.test.env: {exc}", "rename the variable") from None
        if isinstance(raw, dict):
            raw = raw.get("value")
        if not isinstance(raw, (str, int, float, bool)):
            raise _fail(f"environments.test.env.{key} has no value", 'give it a string: {"KEY": "value"}')
        out[key] = str(raw).lower() if isinstance(raw, bool) else str(raw)
    scripts = _scripts(test.get("scripts"))
    return TestEnv(scripts=scripts, addons=_addons(test.get("addons")), env=out)


def _healthchecks(data: dict[str, Any]) -> dict[str, Any] | None:
    """Health checks: Heroku's `healthchecks` object, or a bare `healthcheck` path for convenience."""
    checks = data.get("healthchecks")
    if isinstance(checks, dict):
        return checks
    path = data.get("healthcheck") or data.get("health_check_path")
    if isinstance(path, str) and path.startswith("/"):
        return {"web": [{"type": "startup", "path": path}]}
    if checks is not None or path is not None:
        raise _fail("`healthchecks` is malformed", 'use {"web": [{"type": "startup", "path": "/health"}]}')
    return None


def _dump_process(p: ProcessSpec) -> dict[str, Any]:
    return {"quantity": p.quantity} | ({"size": p.size} if p.size is not None else {})


def _dump_env(e: EnvSpec) -> dict[str, Any]:
    data: dict[str, Any] = {"required": e.required}
    for name, value in (("value", e.value), ("description", e.description), ("generator", e.generator)):
        if value is not None:
            data[name] = value
    return data


def _dump_addon(a: AddonSpec) -> dict[str, Any]:
    data: dict[str, Any] = {"plan": a.plan}
    for name, value in (("as", a.attach_as), ("options", a.options)):
        if value is not None:
            data[name] = value
    return data
