"""One-off dynos end to end: `hoist run` (pipes and a real pty), exit statuses,
stdin, the dyno's environment, `run:detached` into the logs, and the
rendezvous secret (wrong or reused: closed, nothing runs)."""
from __future__ import annotations

import os
import pty
import select
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.harness import HoistServer, example_files, make_repo

APP = "runner"


@pytest.fixture(scope="module")
def app(server: HoistServer, workdir: Path) -> str:
    server.cli("apps:create", APP)
    repo = make_repo(workdir / "repo", example_files("hello"), server.env())
    server.git(repo, "remote", "add", "hoist", f"{server.url}/{APP}.git")
    server.push(repo)
    server.cli("config:set", "GREETING=hello-from-config", "-a", APP)
    return APP


def test_run_prints_output_and_exits_zero(server: HoistServer, app: str) -> None:
    proc = server.cli("run", "-a", app, "python", "-c", "print(1+1)")
    assert proc.stdout == "2\n"


def test_exit_status_passes_through(server: HoistServer, app: str) -> None:
    assert server.cli("run", "-a", app, "false", check=False).returncode == 1
    assert server.cli("run", "-a", app, "--", "sh", "-c", "exit 42", check=False).returncode == 42
    missing = server.cli("run", "-a", app, "no-such-command", check=False)
    assert missing.returncode == 127
    assert "no-such-command: command not found" in missing.stdout


def test_stdin_is_piped_in(server: HoistServer, app: str) -> None:
    proc = server.cli("run", "-a", app, "cat", input="hi\nthere\n")
    assert proc.stdout == "hi\nthere\n"
    proc = server.cli("run", "-a", app, "python", "-c", "import sys; print(len(sys.stdin.read()))",
                      input="x" * 300_000)
    assert proc.stdout.strip() == "300000"


def test_dyno_environment(server: HoistServer, app: str) -> None:
    out = server.cli("run", "-a", app, "-e", "EXTRA=1", "echo $DYNO $GREETING $EXTRA; pwd; test -t 0 || echo notty")
    first, cwd, tty = out.stdout.splitlines()
    dyno, greeting, extra = first.split()
    assert dyno.startswith("run.") and len(dyno) == 8 and dyno[4:].isdigit()
    assert (greeting, extra, tty) == ("hello-from-config", "1", "notty")
    assert "/slugs/" in cwd


def test_detached_output_goes_to_logs(server: HoistServer, app: str) -> None:
    out = server.cli("run:detached", "-a", app, "echo detached-$((6*7))").stdout
    name = out.split(", ")[1].split()[0]
    assert name.startswith("run.")
    deadline = time.monotonic() + 15
    logs = ""
    while time.monotonic() < deadline:
        logs = server.cli("logs", "-a", app, "-n", "200").stdout
        if f"heroku[{name}]: Process exited with status 0" in logs:
            break
        time.sleep(0.2)
    assert f"app[{name}]: detached-42" in logs
    assert f"heroku[{name}]: Process exited with status 0" in logs


def test_ps_stop_of_a_one_off_stops_it_for_good(server: HoistServer, app: str) -> None:
    name = server.cli("run:detached", "-a", app, "sleep 300").stdout.split(", ")[1].split()[0]
    assert server.cli("ps:stop", name, "-a", app).stdout == f"Stopping {name} on {app}... done\n"
    deadline = time.monotonic() + 15
    while name in server.cli("ps", "-a", app).stdout and time.monotonic() < deadline:
        time.sleep(0.2)
    assert name not in server.cli("ps", "-a", app).stdout


def test_ctrl_c_without_a_tty_stops_the_one_off(server: HoistServer, app: str) -> None:
    env = {**server.env(), "HOIST_API_URL": server.url, "HOIST_API_KEY": server.token}
    proc = subprocess.Popen([sys.executable, "-m", "hoist", "run", "--no-tty", "-a", app, "sleep", "300"], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 30
    while "sleep 300" not in server.cli("ps", "-a", app).stdout and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)  # the CLI is in its bridge now
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 130
    deadline = time.monotonic() + 15
    while "sleep 300" in server.cli("ps", "-a", app).stdout and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "sleep 300" not in server.cli("ps", "-a", app).stdout


def test_pty_session(server: HoistServer, app: str) -> None:
    """`hoist run python` in a real terminal: a usable REPL, ^C interrupts, exit status passes."""
    env = server.env()
    env.update(HOIST_API_URL=server.url, HOIST_API_KEY=server.token, TERM="xterm")
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec at once
        os.execve(sys.executable, [sys.executable, "-m", "hoist", "run", "-a", app, "python"], env)
    buf = b""

    def until(text: bytes, timeout: float = 30) -> None:
        nonlocal buf
        deadline = time.monotonic() + timeout
        while text not in buf and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.2)[0]:
                try:
                    buf += os.read(fd, 4096)
                except OSError:
                    break
        assert text in buf, buf[-500:]
        buf = buf[buf.index(text) + len(text):]

    try:
        until(b">>> ")
        os.write(fd, b"print(6*7)\r")
        until(b"42\r\n")
        os.write(fd, b"import os; os.isatty(0), os.environ['TERM'], os.environ['DYNO'][:4]\r")
        until(b"(True, 'xterm', 'run.')")
        os.write(fd, b"import time; time.sleep(60)\r")
        time.sleep(0.5)
        os.write(fd, b"\x03")
        until(b"KeyboardInterrupt")
        os.write(fd, b"exit(3)\r")
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 3
    finally:
        os.close(fd)


def _rendezvous(server: HoistServer, secret_url: str, secret: str) -> tuple[bytes, bool]:
    """Connect to the attach URL's host and port with `secret`; return what came back and whether it closed."""
    host, port = secret_url.split("//")[1].split("/")[0].split(":")
    ctx = ssl.create_default_context(cafile=str(server.home / "tls" / "ca.pem"))
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=host) as tls:
            tls.sendall(secret.encode() + b"\r\n")
            got = b""
            closed = False
            tls.settimeout(10)
            while len(got) < 200:
                try:
                    chunk = tls.recv(4096)
                except (ssl.SSLError, OSError):
                    chunk = b""
                if not chunk:
                    closed = True
                    break
                got += chunk
                if b"ran-" in got:
                    break
            return got, closed


def test_wrong_and_reused_secrets_are_closed(server: HoistServer, app: str, workdir: Path) -> None:
    drop = workdir / "drop"
    drop.mkdir(exist_ok=True)
    drop.chmod(0o1777)  # the dyno runs as the app's user (when root), not as hoist
    marker = drop / "ran-marker"
    r = server.api("POST", f"/apps/{app}/dynos",
                   json={"command": f"touch {marker}; echo ran-ok", "attach": True, "force_no_tty": True})
    assert r.status_code == 201, r.text
    url = r.json()["attach_url"]
    assert url.startswith("rendezvous://127.0.0.1:")
    secret = url.rsplit("/", 1)[1]
    got, closed = _rendezvous(server, url, "not-the-secret")
    assert got == b"" and closed
    time.sleep(0.3)
    assert not marker.exists()  # nothing ran for a wrong secret
    got, _ = _rendezvous(server, url, secret)
    assert got.startswith(b"rendezvous\r\n") and b"ran-ok" in got
    got, closed = _rendezvous(server, url, secret)
    assert got == b"" and closed  # single use
    assert marker.exists()


def test_bad_requests(server: HoistServer, app: str) -> None:
    r = server.api("POST", f"/apps/{app}/dynos", json={"attach": True})
    assert r.status_code == 422 and r.json()["id"] == "invalid_params" and "command" in r.json()["message"]
    r = server.api("POST", f"/apps/{app}/dynos", json={"command": "true", "env": {"1BAD": "x"}})
    assert r.status_code == 422 and "env" in r.json()["message"]
    r = server.api("POST", f"/apps/{app}/dynos", json={"command": "true", "bogus": 1})
    assert r.status_code == 422 and "bogus" in r.json()["message"]
    r = server.api("POST", f"/apps/{app}/dynos", json={"command": "true"}, token="wrong")
    assert r.status_code == 401 and r.json()["id"] == "unauthorized"
    server.cli("apps:create", "empty-run")
    r = server.api("POST", "/apps/empty-run/dynos", json={"command": "true"})
    assert r.status_code == 422 and "push" in r.json()["message"]


def test_time_limit_stops_forgotten_dynos(server: HoistServer, app: str) -> None:
    r = server.api("POST", f"/apps/{app}/dynos", json={"command": "sleep 60", "time_to_live": 1})
    assert r.status_code == 201, r.text
    name = r.json()["name"]
    deadline = time.monotonic() + 20
    logs = ""
    while time.monotonic() < deadline and f"heroku[{name}]: Process exited" not in logs:
        time.sleep(0.3)
        logs = server.cli("logs", "-a", app, "-n", "300").stdout
    assert f"heroku[{name}]: Stopping: the one-off dyno ran past its time limit of 1 seconds" in logs
    assert f"heroku[{name}]: Process exited with status 143" in logs
