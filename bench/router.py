"""Benchmark: gunicorn direct vs through hoist's router vs through nginx (prints ratios).

Run: /work/venv/bin/python bench/router.py [--rounds 3] [--seconds 5] [--baseline REV] [--no-tls]
Needs wrk and nginx on PATH. Not a test; everything listens on 127.0.0.1.
--baseline REV also runs the router of git revision REV ("b0"): before/after in one run.
CPU is user+sys seconds of the proxy's processes (nginx: master and workers) per
1,000 requests, from /proc/PID/stat: steadier than req/s on a shared machine.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
HELLO = 'from flask import Flask\napp = Flask(__name__)\n\n@app.route("/")\ndef hi():\n' \
        '    return "Hello, world!"\n'
NGINX_CONF = """
worker_processes 1;
error_log {d}/error.log warn;
pid {d}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  upstream app {{ server 127.0.0.1:{up}; keepalive 16; }}
  server {{
    listen 127.0.0.1:{port};
    listen 127.0.0.1:{tls_port} ssl;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:1m;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    location / {{
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Port $server_port;
      proxy_set_header X-Request-Id $request_id;
      proxy_buffering off;
    }}
  }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int) -> None:
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listening on {port}")


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def cpu_ticks(pids: list[int]) -> int:
    """user+sys clock ticks used so far by pids."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])
    return total


def wrk(port: int, seconds: int, host: str, scheme: str = "http", conns: int = 32,
        pids: list[int] | None = None) -> tuple[float, float, float, int, float]:
    """Run wrk once; return (requests/s, p50 ms, p99 ms, non-2xx + socket errors,
    CPU ms of pids per 1,000 requests)."""
    threads = min(2, conns)
    t0 = cpu_ticks(pids or [])
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency", "-H", f"Host: {host}",
         f"{scheme}://127.0.0.1:{port}/"], capture_output=True, text=True, check=True).stdout
    ticks = cpu_ticks(pids or []) - t0
    n = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    cpu = ticks / os.sysconf("SC_CLK_TCK") * 1000 / max(n, 1) * 1000
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    errs = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|errors: connect|"
                                          r"read|write|timeout) (\d+)", out))
    return rps, _ms(*p50.groups()), _ms(*p99.groups()), errs, cpu  # type: ignore[union-attr]


def children(pid: int) -> list[int]:
    """Direct child processes of pid (gunicorn's workers, nginx's workers)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out += [int(c) for c in text]
    return out


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def idle_rss(pid: int, port: int, n: int = 1000) -> tuple[int, int]:
    """Router RSS before and after n idle keep-alive connections (each did one request)."""
    before = rss_kib(pid)
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET / HTTP/1.1\r\nHost: hello.localhost\r\n\r\n")
        socks.append(s)
    for s in socks:
        buf = b""
        while not buf.endswith(b"Hello, world!"):
            buf += s.recv(4096)
    time.sleep(0.5)
    after = rss_kib(pid)
    for s in socks:
        s.close()
    return before, after


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--baseline", metavar="REV", help="also bench the router of this git revision")
    ap.add_argument("--no-tls", action="store_true", help="skip the HTTPS rows")
    args = ap.parse_args()
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "hello.py").write_text(HELLO)
        up, rport, nport, rtls, ntls = free_port(), free_port(), free_port(), free_port(), free_port()
        procs.append(subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{up}", "hello:app"], cwd=d,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        (d / "routes.json").write_text(json.dumps({"apps": {"hello": {
            "hosts": ["hello.localhost"], "state": "up",
            "backends": [{"dyno": "web.1", "addr": f"127.0.0.1:{up}"}]}}}))
        router = subprocess.Popen(
            [sys.executable, "-m", "hoist.router", "--listen", f"127.0.0.1:{rport}",
             "--routes", str(d / "routes.json"), "--tls-listen", f"127.0.0.1:{rtls}",
             "--ca-dir", str(d / "ca")], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=dict(os.environ, PYTHONPATH=str(ROOT / "src")))
        procs.append(router)
        base: subprocess.Popen[bytes] | None = None
        bport = free_port()
        if args.baseline:
            (d / "base").mkdir()
            tar = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline, "src"],
                                 capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(d / "base")], input=tar, check=True)
            base = subprocess.Popen(
                [sys.executable, "-m", "hoist.router", "--listen", f"127.0.0.1:{bport}",
                 "--routes", str(d / "routes.json")], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, env=dict(os.environ, PYTHONPATH=str(d / "base" / "src")))
            procs.append(base)
        wait_port(rtls)  # the router has written its default certificate: nginx serves the same one
        cert = d / "ca" / "hosts" / "_default"
        (d / "nginx.conf").write_text(NGINX_CONF.format(d=d, up=up, port=nport, tls_port=ntls,
                                                        cert=cert / "cert.pem", key=cert / "key.pem"))
        procs.append(subprocess.Popen(["nginx", "-p", str(d), "-c", str(d / "nginx.conf"),
                                       "-g", "daemon off;"], stderr=subprocess.DEVNULL))
        try:
            for port in (up, rport, nport, ntls) + ((bport,) if base else ()):
                wait_port(port)
            gunicorn_pids = children(procs[0].pid)
            nginx_pids = [procs[-1].pid, *children(procs[-1].pid)]
            targets = {"a direct": (up, "http", gunicorn_pids)}
            if base is not None:
                targets["b0 before"] = (bport, "http", [base.pid])
            targets.update({"b hoist": (rport, "http", [router.pid]),
                            "c nginx": (nport, "http", nginx_pids)})
            if not args.no_tls:
                targets.update({"d hoistTLS": (rtls, "https", [router.pid]),
                                "e nginxTLS": (ntls, "https", nginx_pids)})
            results: dict[str, list[tuple[float, float, float, int, float]]] = {k: [] for k in targets}
            for rnd in range(args.rounds):
                for name, (port, scheme, pids) in targets.items():
                    res = wrk(port, args.seconds, "hello.localhost", scheme, pids=pids)
                    results[name].append(res)
                    print(f"round {rnd + 1} {name:10s} {res[0]:9.0f} req/s  p50 {res[1]:6.2f} ms"
                          f"  p99 {res[2]:6.2f} ms  errors {res[3]}  cpu {res[4]:5.0f} ms/1k",
                          flush=True)
            med = {k: tuple(statistics.median(r[i] for r in v) for i in (0, 1, 2, 4))
                   for k, v in results.items()}
            print("\nmedians (wrk -t2 -c32, gunicorn -w 2 sync, 2 cores shared by everything);"
                  "\ncpu = user+sys ms per 1,000 requests of the proxy (of gunicorn for direct)")
            for k, (rps, p50, p99, cpu) in med.items():
                print(f"  {k:10s} {rps:9.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
                      f"  cpu {cpu:5.0f} ms/1k")
            a = med["a direct"][0]
            if base is not None:
                print(f"ratio b0/a (before/direct) throughput {med['b0 before'][0] / a:.2f}")
            print(f"ratio b/a (hoist/direct) throughput {med['b hoist'][0] / a:.2f}")
            print(f"ratio c/a (nginx/direct) throughput {med['c nginx'][0] / a:.2f}")
            print(f"ratio b/c (hoist/nginx)  throughput {med['b hoist'][0] / med['c nginx'][0]:.2f}")
            print(f"cpu per 1k requests: hoist {med['b hoist'][3]:.0f} ms, nginx "
                  f"{med['c nginx'][3]:.0f} ms (hoist/nginx {med['b hoist'][3] / med['c nginx'][3]:.2f})")
            if not args.no_tls:
                print(f"ratio d/a (hoist TLS/direct) throughput {med['d hoistTLS'][0] / a:.2f}")
                print(f"ratio e/a (nginx TLS/direct) throughput {med['e nginxTLS'][0] / a:.2f}")
                print(f"ratio d/e (hoist TLS/nginx TLS) throughput "
                      f"{med['d hoistTLS'][0] / med['e nginxTLS'][0]:.2f}")
            lows = [("direct", up), ("hoist", rport), ("nginx", nport)]
            if base is not None:
                lows.append(("before", bport))
            samples: dict[str, list[float]] = {k: [] for k, _ in lows}
            for _ in range(args.rounds):  # alternating, like the throughput rounds
                for k, port in lows:
                    samples[k].append(wrk(port, 2, "hello.localhost", "http", conns=1)[1])
            low = {k: statistics.median(v) for k, v in samples.items()}
            print("low load (1 connection) p50: " + ", ".join(
                f"{k} {v:.3f} ms" + ("" if k == "direct" else f" (+{v - low['direct']:.3f})")
                for k, v in low.items()))
            before, after = idle_rss(router.pid, rport)
            print(f"router RSS: {before / 1024:.1f} MiB before, {after / 1024:.1f} MiB with 1000 "
                  f"idle keep-alive connections ({(after - before) / 1000:.1f} KiB each)")
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()


if __name__ == "__main__":
    main()
