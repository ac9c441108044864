"""Benchmark: gunicorn direct vs through hoist's router vs through nginx (prints ratios).

Run: /work/venv/bin/python bench/router.py [--rounds 3] [--seconds 5]
Needs wrk and nginx on PATH. Not a test; everything listens on 127.0.0.1.
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


def wrk(port: int, seconds: int, host: str, scheme: str = "http",
        conns: int = 32) -> tuple[float, float, float, int]:
    """Run wrk once; return (requests/s, p50 ms, p99 ms, non-2xx + socket errors)."""
    threads = min(2, conns)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency", "-H", f"Host: {host}",
         f"{scheme}://127.0.0.1:{port}/"], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    errs = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|errors: connect|"
                                          r"read|write|timeout) (\d+)", out))
    return rps, _ms(*p50.groups()), _ms(*p99.groups()), errs  # type: ignore[union-attr]


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
        wait_port(rtls)  # the router has written its default certificate: nginx serves the same one
        cert = d / "ca" / "hosts" / "_default"
        (d / "nginx.conf").write_text(NGINX_CONF.format(d=d, up=up, port=nport, tls_port=ntls,
                                                        cert=cert / "cert.pem", key=cert / "key.pem"))
        procs.append(subprocess.Popen(["nginx", "-p", str(d), "-c", str(d / "nginx.conf"),
                                       "-g", "daemon off;"], stderr=subprocess.DEVNULL))
        try:
            for p in (up, rport, nport, ntls):
                wait_port(p)
            targets = {"a direct": (up, "http"), "b hoist": (rport, "http"), "c nginx": (nport, "http"),
                       "d hoistTLS": (rtls, "https"), "e nginxTLS": (ntls, "https")}
            results: dict[str, list[tuple[float, float, float, int]]] = {k: [] for k in targets}
            for rnd in range(args.rounds):
                for name, (port, scheme) in targets.items():
                    res = wrk(port, args.seconds, "hello.localhost", scheme)
                    results[name].append(res)
                    print(f"round {rnd + 1} {name:9s} {res[0]:9.0f} req/s  p50 {res[1]:6.2f} ms"
                          f"  p99 {res[2]:6.2f} ms  errors {res[3]}", flush=True)
            med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v),
                       statistics.median(r[2] for r in v)) for k, v in results.items()}
            print("\nmedians (wrk -t2 -c32, gunicorn -w 2 sync, 2 cores shared by everything)")
            for k, (rps, p50, p99) in med.items():
                print(f"  {k:9s} {rps:9.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
            a = med["a direct"][0]
            print(f"ratio b/a (hoist/direct) throughput {med['b hoist'][0] / a:.2f}")
            print(f"ratio c/a (nginx/direct) throughput {med['c nginx'][0] / a:.2f}")
            print(f"ratio b/c (hoist/nginx)  throughput {med['b hoist'][0] / med['c nginx'][0]:.2f}")
            print(f"ratio d/a (hoist TLS/direct) throughput {med['d hoistTLS'][0] / a:.2f}")
            print(f"ratio e/a (nginx TLS/direct) throughput {med['e nginxTLS'][0] / a:.2f}")
            print(f"ratio d/e (hoist TLS/nginx TLS) throughput {med['d hoistTLS'][0] / med['e nginxTLS'][0]:.2f}")
            low = {k: statistics.median(wrk(port, 2, "hello.localhost", "http", conns=1)[1]
                                        for _ in range(args.rounds))
                   for k, port in (("direct", up), ("hoist", rport), ("nginx", nport))}
            print(f"low load (1 connection) p50: direct {low['direct']:.3f} ms, hoist {low['hoist']:.3f} ms "
                  f"(+{low['hoist'] - low['direct']:.3f}), nginx {low['nginx']:.3f} ms "
                  f"(+{low['nginx'] - low['direct']:.3f})")
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
