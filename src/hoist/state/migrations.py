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
    # 2: accounts, access and audit
    [
        """CREATE TABLE collaborators (
            id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            UNIQUE (app_id, user_id)
        )""",
        """CREATE TABLE activity (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            user_email TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX activity_app ON activity(app_id, id)",
        "CREATE INDEX collaborators_user ON collaborators(user_id)",
    ],
    # 3: custom domains, installed certificates (SNI endpoints), automated certificates (ACM)
    [
        """CREATE TABLE domains (
            id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            hostname TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE sni_endpoints (
            id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            source TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (app_id, name)
        )""",
        """CREATE TABLE acm (
            app_id TEXT PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
            enabled INTEGER NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX domains_app ON domains(app_id)",
    ],
    # 4: ps:sleep (web dynos idle after HOIST_SLEEP_AFTER minutes without requests)
    [
        "ALTER TABLE apps ADD COLUMN sleep INTEGER NOT NULL DEFAULT 0",
    ],
]
MIGRATIONS.append(
    # 5: add-ons (Postgres, Redis), their backups and schedules, dataclips
    [
        """CREATE TABLE addons (
            id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            name TEXT NOT NULL UNIQUE,
            service TEXT NOT NULL,
            plan TEXT NOT NULL,
            state TEXT NOT NULL,
            config_vars TEXT NOT NULL,
            provider TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE backups (
            id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            addon_id TEXT,
            addon_name TEXT NOT NULL,
            num INTEGER NOT NULL,
            path TEXT NOT NULL,
            size INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL,
            source TEXT NOT NULL,
            message TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            finished_at TEXT,
            UNIQUE (app_id, num)
        )""",
        """CREATE TABLE backup_schedules (
            addon_id TEXT PRIMARY KEY REFERENCES addons(id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            keep INTEGER NOT NULL,
            next_run TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE dataclips (
            id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            addon_id TEXT NOT NULL REFERENCES addons(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            sql TEXT NOT NULL,
            token TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            UNIQUE (app_id, name)
        )""",
        "CREATE INDEX addons_app ON addons(app_id, created_at)",
        "CREATE INDEX backups_app ON backups(app_id, num)",
    ]
)
MIGRATIONS.append(
    # 6: Heroku Scheduler's jobs (times are UTC seconds since the epoch)
    [
        """CREATE TABLE scheduler_jobs (
            id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            addon_id TEXT NOT NULL REFERENCES addons(id) ON DELETE CASCADE,
            command TEXT NOT NULL,
            every TEXT NOT NULL,
            at TEXT NOT NULL DEFAULT '',
            next_run REAL NOT NULL,
            last_run REAL,
            last_dyno TEXT,
            last_status TEXT,
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX scheduler_jobs_app ON scheduler_jobs(app_id, created_at)",
        "CREATE INDEX scheduler_jobs_due ON scheduler_jobs(next_run)",
    ]
)
MIGRATIONS.append(
    # 7: each app's system user and the highest uid ever handed out (a new app never gets an old app's uid);
    # a release that goes live makes its config the app's config, in the same transaction (so the stored
    # config is always what the current release runs: a config change whose release fails changes nothing)
    [
        """CREATE TABLE app_users (
            app TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            uid INTEGER NOT NULL
        )""",
        """CREATE TABLE uid_high (
            one INTEGER PRIMARY KEY CHECK (one = 1),
            uid INTEGER NOT NULL
        )""",
        """CREATE TRIGGER release_live_config AFTER UPDATE OF status ON releases
           WHEN NEW.status = 'succeeded' AND OLD.status <> 'succeeded'
           BEGIN
               DELETE FROM config_vars WHERE app_id = NEW.app_id;
               INSERT INTO config_vars (app_id, key, value)
                   SELECT NEW.app_id, key, value FROM json_each(NEW.config);
           END""",
    ]
)
MIGRATIONS.append(
    # 8: app setups (POST /app-setups: an app created, built and released from a source tarball)
    [
        """CREATE TABLE app_setups (
            id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            user_id TEXT,
            status TEXT NOT NULL,
            failure_message TEXT,
            build_id TEXT,
            postdeploy_output TEXT,
            postdeploy_exit_code INTEGER,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX app_setups_app ON app_setups(app_id)",
    ]
)
MIGRATIONS.append(
    # 9: Heroku CI's test runs (issue 14) and deploys from a connected repository.
    [
        """CREATE TABLE ci_settings (
            app_id TEXT PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
            enabled INTEGER NOT NULL DEFAULT 0,
            time_limit REAL,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE test_runs (
            id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            commit_sha TEXT,
            source TEXT NOT NULL,
            status TEXT NOT NULL,
            exit_code INTEGER,
            message TEXT NOT NULL DEFAULT '',
            output TEXT NOT NULL DEFAULT '',
            user_id TEXT,
            created_at TEXT NOT NULL,
            finished_at TEXT,
            UNIQUE (app_id, number)
        )""",
        """CREATE TABLE repo_connections (
            app_id TEXT PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
            url TEXT NOT NULL,
            branch TEXT NOT NULL,
            wait_for_ci INTEGER NOT NULL DEFAULT 0,
            webhook_secret TEXT NOT NULL,
            credential_kind TEXT NOT NULL DEFAULT '',
            credential TEXT NOT NULL DEFAULT '',
            user_id TEXT NOT NULL,
            poll_interval REAL NOT NULL,
            last_seen TEXT,
            last_deployed TEXT,
            last_status TEXT NOT NULL DEFAULT '',
            last_error TEXT NOT NULL DEFAULT '',
            checked_at TEXT,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE repo_deliveries (
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            delivery_id TEXT NOT NULL,
            received_at TEXT NOT NULL,
            PRIMARY KEY (app_id, delivery_id)
        )""",
        """CREATE TABLE repo_deploys (
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            commit_sha TEXT NOT NULL,
            status TEXT NOT NULL,
            build_id TEXT,
            message TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            PRIMARY KEY (app_id, commit_sha)
        )""",
        "CREATE INDEX test_runs_app ON test_runs(app_id, number)",
    ]
)
MIGRATIONS.append(
    # 10: pipelines (apps coupled at a stage; promotions copy a slug downstream) and log drains (the URL is
    # a secret, kept like a config var)
    [
        """CREATE TABLE pipelines (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            owner_id TEXT NOT NULL REFERENCES users(id),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE pipeline_couplings (
            id TEXT PRIMARY KEY,
            pipeline_id TEXT NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,
            app_id TEXT NOT NULL UNIQUE REFERENCES apps(id) ON DELETE CASCADE,
            stage TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE pipeline_promotions (
            id TEXT PRIMARY KEY,
            pipeline_id TEXT NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,
            source_app_id TEXT NOT NULL,
            source_release_id TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE promotion_targets (
            id TEXT PRIMARY KEY,
            promotion_id TEXT NOT NULL REFERENCES pipeline_promotions(id) ON DELETE CASCADE,
            app_id TEXT NOT NULL,
            release_id TEXT,
            status TEXT NOT NULL,
            error_message TEXT
        )""",
        """CREATE TABLE log_drains (
            id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            url TEXT NOT NULL,
            token TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (app_id, url)
        )""",
        "CREATE INDEX pipeline_couplings_pipeline ON pipeline_couplings(pipeline_id)",
        "CREATE INDEX promotion_targets_promotion ON promotion_targets(promotion_id)",
    ]
)
MIGRATIONS.append(
    # 11: metrics over time (the dashboard's charts): one row per app, span length (step, in seconds:
    # 60 kept a day, 600 kept a week) and span start (unix seconds), fed by router lines and dyno samples
    [
        """CREATE TABLE metric_points (
            app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            step INTEGER NOT NULL,
            at INTEGER NOT NULL,
            requests INTEGER NOT NULL DEFAULT 0,
            s2xx INTEGER NOT NULL DEFAULT 0,
            s3xx INTEGER NOT NULL DEFAULT 0,
            s4xx INTEGER NOT NULL DEFAULT 0,
            s5xx INTEGER NOT NULL DEFAULT 0,
            h_errors INTEGER NOT NULL DEFAULT 0,
            timed INTEGER NOT NULL DEFAULT 0,
            p50 REAL,
            p95 REAL,
            p99 REAL,
            restarts INTEGER NOT NULL DEFAULT 0,
            memory TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (app_id, step, at)
        )""",
        "CREATE INDEX metric_points_age ON metric_points(step, at)",
    ]
)
