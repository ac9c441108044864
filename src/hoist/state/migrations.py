"""Schema migrations. Append only: a released entry is never edited, so an
upgrade replays exactly the steps an older database has not seen yet."""
from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    # 1: the push-to-deploy core
    [
        """CREATE TABLE users (
            id TEXT PRIMARY KEY,
            email TEXT NOT NULL UNIQUE,
            password_hash TEXT,
            is_admin INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE tokens (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            token_hash TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            expires_at TEXT,
            last_used_at TEXT
        )""",
        """CREATE TABLE apps (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            owner_id TEXT NOT NULL REFERENCES users(id),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            released_at TEXT,
            maintenance INTEGER NOT NULL DEFAULT 0,
            build_metadata TEXT
        )""",
        """CREATE TABLE slugs (
            id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            commit_sha TEXT,
            process_types TEXT NOT NULL,
            env_dir TEXT,
            python_version TEXT,
            size INTEGER NOT NULL DEFAULT 0,
            app_json TEXT,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE builds (
            id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            user_id TEXT REFERENCES users(id),
            status TEXT NOT NULL,
            source_version TEXT,
            slug_id TEXT REFERENCES slugs(id),
            release_id TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE releases (
            id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            slug_id TEXT REFERENCES slugs(id),
            config TEXT NOT NULL,
            description TEXT NOT NULL,
            status TEXT NOT NULL,
            user_id TEXT REFERENCES users(id),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (app_id, version)
        )""",
        """CREATE TABLE config_vars (
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (app_id, key)
        )""",
        """CREATE TABLE formation (
            id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            type TEXT NOT NULL,
            quantity INTEGER NOT NULL,
            size TEXT NOT NULL DEFAULT 'standard-1X',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (app_id, type)
        )""",
        "CREATE INDEX releases_app ON releases(app_id, version)",
        "CREATE INDEX builds_app ON builds(app_id, created_at)",
    ],
    # 2: ps:sleep (web dynos idle after HOIST_SLEEP_AFTER minutes without requests)
    [
        "ALTER TABLE apps ADD COLUMN sleep INTEGER NOT NULL DEFAULT 0",
    ],
]
