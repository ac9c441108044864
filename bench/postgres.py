"""Benchmark hoist's Postgres add-on: provisioning time, and backup/restore vs pg_dump/pg_restore by hand.

Usage: python bench/postgres.py [--size-mb 200] [--creates 10] [--repeat 1]
Starts a throwaway cluster in a temp dir (or uses HOIST_POSTGRES_URL), prints figures, cleans up.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import psycopg  # noqa: E402

from hoist.addons.postgres import backups, provision  # noqa: E402
from hoist.addons.postgres.bins import find_bin  # noqa: E402
from hoist.addons.postgres.cluster import Cluster  # noqa: E402
from hoist.addons.postgres.provision import Credentials  # noqa: E402
from hoist.addons.postgres.urls import without_password  # noqa: E402

ROW_BYTES = 200  # rough on-disk bytes per generated row, heap + index


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def generate(creds: Credentials, size_mb: int) -> None:
    """Fill a database with about `size_mb` MB of mixed rows (text, numbers, timestamps, jsonb)."""
    rows = size_mb * 1024 * 1024 // ROW_BYTES
    with psycopg.connect(creds.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE events (id bigint PRIMARY KEY, account int, kind text, amount numeric(12,2),"
                     " at timestamptz, payload jsonb, note text)")
        conn.execute(
            "INSERT INTO events SELECT g, g %% 5000, (ARRAY['view','click','buy','refund'])[1 + g %% 4],"
            " (g %% 100000) / 100.0, timestamptz '2024-01-01' + g * interval '1 second',"
            " jsonb_build_object('ua', 'agent-' || (g %% 97), 'ref', md5(g::text)),"
            " repeat(md5((g * 7)::text), 1) FROM generate_series(1, %s) g", (rows,))
        conn.execute("CREATE INDEX events_account ON events (account)")
        conn.execute("VACUUM ANALYZE events")


def by_hand_dump(url: str, dest: Path) -> None:
    bare, password = without_password(url)
    env = {**os.environ, "PGPASSWORD": password}
    subprocess.run([str(find_bin("pg_dump")), "-Fc", "-f", str(dest), "-d", bare], env=env, check=True)


def by_hand_restore(src: Path, url: str) -> None:
    bare, password = without_password(url)
    env = {**os.environ, "PGPASSWORD": password}
    subprocess.run([str(find_bin("pg_restore")), "--clean", "--if-exists", "--no-owner", "--no-acl",
                    "-d", bare, str(src)], env=env, check=True)


def db_size(admin_url: str, database: str) -> int:
    with psycopg.connect(admin_url) as conn:
        row = conn.execute("SELECT pg_database_size(%s)", (database,)).fetchone()
    assert row is not None
    return int(row[0])


def row_count(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM events").fetchone()
    assert row is not None
    return int(row[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--creates", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hoist-pg-bench-"))
    cluster: Cluster | None = None
    try:
        admin_url = os.environ.get("HOIST_POSTGRES_URL", "")
        if not admin_url:
            cluster = Cluster(work / "postgres" / "data")
            print(f"cluster init+start: {timed(cluster.start):.2f} s")
            admin_url = cluster.admin_url()

        times = []
        for i in range(args.creates):
            start = time.perf_counter()
            creds = provision.create(admin_url, f"bench-create-{i}")
            times.append(time.perf_counter() - start)
            provision.destroy(admin_url, creds.database, creds.user)
        print(f"provision.create: median {statistics.median(times) * 1000:.0f} ms, "
              f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms over {args.creates}")

        src = provision.create(admin_url, "bench-src")
        gen = timed(lambda: generate(src, args.size_mb))
        size = db_size(admin_url, src.database)
        rows = row_count(src.url)
        print(f"generated {rows:,} rows, database size {size / 2**20:.0f} MB in {gen:.1f} s")

        results: dict[str, list[float]] = {k: [] for k in ("dump_hand", "dump_hoist", "restore_hand",
                                                           "restore_hoist")}
        for r in range(args.repeat):
            hand_file, hoist_file = work / f"hand-{r}.dump", work / f"hoist-{r}.dump"
            results["dump_hand"].append(timed(lambda: by_hand_dump(src.url, hand_file)))
            results["dump_hoist"].append(timed(lambda: backups.capture(src.url, hoist_file)))
            t_hand = provision.create(admin_url, f"bench-hand-{r}")
            t_hoist = provision.create(admin_url, f"bench-hoist-{r}")
            results["restore_hand"].append(timed(lambda: by_hand_restore(hand_file, t_hand.url)))
            results["restore_hoist"].append(timed(lambda: backups.restore(hoist_file, t_hoist.url)))
            assert row_count(t_hand.url) == row_count(t_hoist.url) == rows
            print(f"dump files: by hand {hand_file.stat().st_size / 2**20:.1f} MB, "
                  f"hoist {hoist_file.stat().st_size / 2**20:.1f} MB")
            for t in (t_hand, t_hoist):
                provision.destroy(admin_url, t.database, t.user)
            hand_file.unlink()
            hoist_file.unlink()

        print(f"\n{'operation':<10} {'by hand':>10} {'hoist':>10} {'hoist/hand':>11}")
        for op in ("dump", "restore"):
            hand, hoist = statistics.median(results[f"{op}_hand"]), statistics.median(results[f"{op}_hoist"])
            print(f"{op:<10} {hand:>9.2f}s {hoist:>9.2f}s {hoist / hand:>10.2f}x")
        provision.destroy(admin_url, src.database, src.user)
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
