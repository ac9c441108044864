"""Settings, declared once: name, environment variable, type, default, help.

Precedence: explicit value (CLI flag) > environment (HOIST_*) > default.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping


def _default_home() -> str:
    if os.geteuid() == 0:  # a server install: per-app users must be able to reach their apps
        return "/var/lib/hoist"
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return str(base / "hoist")


def _setting(default: Any, env: str, help: str) -> Any:
    return field(default=default, metadata={"env": env, "help": help})


@dataclass(frozen=True)
class Settings:
    home: Path = _setting(Path(_default_home()), "HOIST_HOME", "where hoist keeps its state, repos, slugs and logs")
    port: int = _setting(5000, "HOIST_PORT", "the HTTP port: platform API + git at localhost:PORT, apps at APP.localhost:PORT")
    tls_port: int = _setting(5443, "HOIST_TLS_PORT", "the HTTPS port (certificates from hoist's local CA, or your own)")
    host: str = _setting("127.0.0.1", "HOIST_BIND", "address the router listens on")
    domain: str = _setting("", "HOIST_DOMAIN", "extra domain under which apps are served as APP.<domain>")
    boot_timeout: float = _setting(60.0, "HOIST_BOOT_TIMEOUT", "seconds a web dyno has to bind $PORT (R10)")
    stop_grace: float = _setting(30.0, "HOIST_STOP_GRACE", "seconds between SIGTERM and SIGKILL when a dyno stops")
    build_timeout: float = _setting(900.0, "HOIST_BUILD_TIMEOUT", "seconds a build may take before it is killed")
    request_timeout: float = _setting(30.0, "HOIST_REQUEST_TIMEOUT", "seconds the router waits for a response (H12)")
    log_lines: int = _setting(1500, "HOIST_LOG_LINES", "log lines kept per app")
    pythons: str = _setting("", "HOIST_PYTHONS", "where pyenv interpreters are mirrored for app users (default HOME/pythons; must be on the same filesystem as pyenv)")
    rate_limit: int = _setting(4500, "HOIST_RATE_LIMIT", "API requests per hour per token (a token bucket, as Heroku's)")
    max_push_mb: int = _setting(1024, "HOIST_MAX_PUSH_MB", "largest git push body accepted, in MiB")
    dyno_nofile: int = _setting(10000, "HOIST_DYNO_NOFILE", "open files per dyno process (rlimit), when isolated")
    dyno_nproc: int = _setting(512, "HOIST_DYNO_NPROC", "processes per app user (rlimit), when isolated")
    dyno_rlimit_data_mb: int = _setting(2048, "HOIST_DYNO_RLIMIT_DATA_MB", "data segment per dyno process in MiB (rlimit, a hard stop above the R14/R15 quota), when isolated")
    postgres_url: str = _setting("", "HOIST_POSTGRES_URL", "admin URL of an existing PostgreSQL server to provision on, instead of hoist's own cluster")
    pg_port: int = _setting(0, "HOIST_PG_PORT", "port (on 127.0.0.1) of the TLS front apps' DATABASE_URLs name; 0 = chosen once and kept in HOIST_HOME/postgres/front.json")
    dataclip_timeout: float = _setting(5.0, "HOIST_DATACLIP_TIMEOUT", "seconds a dataclip query may run before it is stopped")
    acme_directory: str = _setting("https://acme-v02.api.letsencrypt.org/directory", "HOIST_ACME_DIRECTORY",
                                   "ACME directory URL for certs:auto (Let's Encrypt by default)")
    acme_email: str = _setting("", "HOIST_ACME_EMAIL", "contact e-mail for the ACME account (expiry notices)")
    acme_ca_bundle: str = _setting("", "HOIST_ACME_CA_BUNDLE", "CA file to trust the ACME server with (tests, private ACME)")
    sleep_after: float = _setting(30.0, "HOIST_SLEEP_AFTER", "minutes without requests before a sleeping app's web dynos idle (fractions allowed)")
    dyno_memory_mb: float = _setting(512.0, "HOIST_DYNO_MEMORY_MB", "memory quota per dyno in MB: over it logs R14")
    memory_kill_factor: float = _setting(2.0, "HOIST_MEMORY_KILL_FACTOR", "a dyno over quota x this factor is restarted (R15)")
    memory_interval: float = _setting(5.0, "HOIST_MEMORY_INTERVAL", "seconds between dyno memory samples")
    log_rate: float = _setting(2000.0, "HOIST_LOG_RATE", "log lines per second one dyno may write before lines are dropped (L10)")
    rendezvous_port: int = _setting(0, "HOIST_RENDEZVOUS_PORT", "TLS port (on 127.0.0.1) where `run` attaches to one-off dynos; 0 = any free port")
    firewall: str = _setting("auto", "HOIST_FIREWALL", "guard web dyno ports with nftables (only the app and hoist connect; not the network): auto (when root and nft works), on (required), off")
    rabbitmq_bin: str = _setting("/usr/lib/rabbitmq/bin", "HOIST_RABBITMQ_BIN", "where Debian's rabbitmq-server package keeps rabbitmq-server and rabbitmqctl (the node of the rabbitmq-bigwig, cloudamqp and amqp add-ons)")
    scheduler_tick: float = _setting(600.0, "HOIST_SCHEDULER_TICK", "seconds between runs of a `scheduler:add --every 10m` job (Heroku Scheduler's shortest interval: at :00, :10, ... UTC); lower it to try jobs out quickly")
    drain_buffer: int = _setting(10000, "HOIST_DRAIN_BUFFER", "log lines each log drain holds while its receiver is slow or down; beyond it lines are dropped and counted (L10)")
    drain_ca_file: str = _setting("", "HOIST_DRAIN_CA_FILE", "a PEM file of CA certificates trusted for syslog+tls:// and https:// drains, besides the system's (a private receiver's CA)")
    run_time_limit: float = _setting(86400.0, "HOIST_RUN_TIME_LIMIT", "seconds a one-off dyno may run before it is stopped")
    source_max_mb: int = _setting(512, "HOIST_SOURCE_MAX_MB", "largest source tarball accepted at a `POST /sources` put_url or fetched for a build, in MiB")
    source_unpacked_mb: int = _setting(1024, "HOIST_SOURCE_UNPACKED_MB", "largest size a source tarball may unpack to, in MiB (counted while it unpacks: a decompression bomb stops there)")
    source_max_files: int = _setting(100000, "HOIST_SOURCE_MAX_FILES", "most entries a source tarball may unpack to")
    source_url_ttl: float = _setting(3600.0, "HOIST_SOURCE_URL_TTL", "seconds the put_url and get_url of `POST /sources` stay valid")
    source_fetch: bool = _setting(False, "HOIST_SOURCE_FETCH", "let builds and app setups fetch source_blob URLs from outside hoist (http/https; never private, loopback or link-local addresses)")
    local_pg: str = _setting("", "HOIST_LOCAL_PG", "where `hoist pg:local` keeps the local PostgreSQL that pg:pull/pg:push and the heroku CLI use on your side (default: hoist-local-postgres beside HOIST_HOME)")
    ci_time_limit: float = _setting(1800.0, "HOIST_CI_TIME_LIMIT", "seconds a CI test run may take before it fails (ci:enable --time-limit sets one app's)")
    repo_poll: float = _setting(60.0, "HOIST_REPO_POLL", "seconds between fetches of a connected repository (the webhook's fallback)")
    scheduler: str = _setting("local", "HOIST_SCHEDULER", "where dynos run: local (processes on this machine) or swarm (services on the Docker Swarm that DOCKER_HOST manages; `scripts/local-swarm up 3` prints the settings)")
    swarm_registry: str = _setting("", "HOIST_SWARM_REGISTRY", "HOST:PORT of the registry slug images are pushed to and every swarm node pulls from (logged in through DOCKER_CONFIG)")
    swarm_host_addr: str = _setting("", "HOIST_SWARM_HOST_ADDR", "this manager's address as the swarm nodes reach it (a private, cluster-only address): with HOIST_SCHEDULER=swarm the add-on servers also listen there and swarm dynos' add-on URLs name it, and one-offs on the nodes attach back to it")
    swarm_attach_port: int = _setting(0, "HOIST_SWARM_ATTACH_PORT", "TLS port on HOIST_SWARM_HOST_ADDR where one-off dynos' swarm tasks attach back to hoist (`run`, `run:detached`, release phase); 0 = any free port")
    max_webhook_mb: int = _setting(25, "HOIST_MAX_WEBHOOK_MB", "largest webhook payload accepted, in MiB (GitHub sends at most 25 MB)")

    @property
    def local_pg_dir(self) -> Path:
        """The local PostgreSQL's directory (HOIST_LOCAL_PG, else beside the home)."""
        return Path(self.local_pg).expanduser() if self.local_pg else self.home.parent / "hoist-local-postgres"

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> "Settings":
        """Build settings from overrides (non-None values win), then the environment, then defaults."""
        environ = os.environ if environ is None else environ
        overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw: Any
            if f.name in overrides:
                raw = overrides[f.name]
            elif f.metadata["env"] in environ and environ[f.metadata["env"]] != "":
                raw = environ[f.metadata["env"]]
            else:
                continue
            values[f.name] = _coerce(f.name, f.metadata["env"], raw, type(f.default))
        return cls(**values)


def _coerce(name: str, env: str, raw: Any, kind: Any) -> Any:
    try:
        if kind is bool:
            return str(raw).lower() in ("1", "true", "yes", "on")
        if issubclass(kind, Path):
            return Path(raw).expanduser().resolve()
        return kind(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{env}={raw!r} is not a valid {kind.__name__} for {name}; fix or unset it") from None
