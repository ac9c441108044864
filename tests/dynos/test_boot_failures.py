"""Heroku's order: a release whose web dyno crashes at boot goes live while nothing serves (crashed, H10,
restarted), and is refused while the app serves; a web command that daemonizes is named as the cause."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Callable

from hoist.dynos.daemonized import daemon_flag, explain, holders, listening_inodes
from tests.dynos.conftest import PY, WEB, Rig

NEEDS_DB = f"{PY} -c \"import os; print('connecting'); os.environ['DATABASE_URL']\""
# A server that detaches into a session of its own (as `gunicorn --daemon` does), then the command exits 0.
DAEMON = (f"setsid -f {PY} -c \"import http.server as h, os\n"
          "h.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), h.BaseHTTPRequestHandler).serve_forever()\"; exit 0")


def test_a_first_release_that_crashes_at_boot_goes_live_crashed_and_the_next_one_fixes_it(
        run_rig: Callable[..., None]) -> None:
    async def body(rig: Rig) -> None:
        res = await rig.sup.deploy("app", rig.release({"web": NEEDS_DB}), {"web": 1})
        assert res.ok and res.failure == "boot"
        assert res.message == "web.1 exited with status 1 while booting"
        assert res.dyno == "web.1" and res.exit_status == "1"
        assert res.lines[0] == "connecting" and res.lines[-1] == "KeyError: 'DATABASE_URL'"
        assert rig.sup.apps["app"].release.version == 1  # released, as on Heroku
        assert rig.sup.web_backends()["app"] == ("crashed", [])  # the router answers H10
        await rig.until(lambda: rig.text().count("Starting process") >= 2, what="restarted with backoff")
        # Attaching the database is a config change: a new release, which boots, with no push.
        res = await rig.sup.deploy("app", rig.release({"web": WEB}, {"DATABASE_URL": "postgres://x"}), {"web": 1})
        assert res.ok and not res.failure, res.message
        assert rig.sup.web_backends()["app"][0] == "up"
        assert rig.sup.apps["app"].release.version == 2
    run_rig(body, stop_grace=2)


def test_once_the_app_serves_a_release_that_crashes_at_boot_is_refused(run_rig: Callable[..., None]) -> None:
    async def body(rig: Rig) -> None:
        assert (await rig.sup.deploy("app", rig.release({"web": WEB}), {"web": 1})).ok
        port = rig.dyno("web.1").port
        res = await rig.sup.deploy("app", rig.release({"web": NEEDS_DB}), {"web": 1})
        assert not res.ok and res.failure == "boot"
        assert res.message == "web.1 exited with status 1 while booting"
        assert res.lines[-1] == "KeyError: 'DATABASE_URL'"
        assert rig.sup.web_backends()["app"] == ("up", [("web.1", "127.0.0.1", port)])
        assert rig.sup.apps["app"].release.version == 1
    run_rig(body, stop_grace=2)


def test_a_web_command_that_daemonizes_is_named_and_its_server_stopped(run_rig: Callable[..., None]) -> None:
    async def body(rig: Rig) -> None:
        assert (await rig.sup.deploy("app", rig.release({"web": WEB}), {"web": 1})).ok
        started = time.monotonic()
        res = await rig.sup.deploy("app", rig.release({"web": DAEMON}), {"web": 1})
        assert not res.ok and res.failure == "boot" and res.exit_status == "0"
        assert res.message.startswith("web.1 exited with status 0 while booting and left `")
        assert res.message.endswith("` listening on $PORT in the background: the web command daemonized the "
                                    "server. A dyno's command must stay in the foreground (as on Heroku); run the "
                                    "server in the foreground and push again")
        assert time.monotonic() - started < 5
        await asyncio.sleep(0.2)
        assert not daemons(), "the detached server was stopped"
        assert rig.sup.web_backends()["app"][0] == "up" and rig.sup.apps["app"].release.version == 1
    run_rig(body, stop_grace=2)


def daemons() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and b"BaseHTTPRequestHandler).serve_forever" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            pass
    return found


def test_the_daemon_option_is_found_in_the_command() -> None:
    assert daemon_flag("gunicorn app:app --daemon") == "--daemon"
    assert daemon_flag("gunicorn -D app:app") == "-D"
    assert daemon_flag("uwsgi --daemonize=/tmp/log --http :$PORT") == "--daemonize=/tmp/log"
    assert daemon_flag("gunicorn app:app --log-level debug") is None
    assert explain("web.1", "gunicorn app:app --daemon", None) == (
        "web.1 exited with status 0 while booting: `--daemon` in the Procfile's web command daemonized the "
        "server. A dyno's command must stay in the foreground (as on Heroku); remove `--daemon` from the Procfile "
        "and push again")
    assert explain("web.1", "python setup.py", None) == (
        "web.1 exited with status 0 while booting: the web command ended, but it must keep running in the "
        "foreground and listen on $PORT (did it daemonize, or only set something up?)")


def test_listeners_are_found_by_port() -> None:
    import os
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        assert os.getpid() in holders(listening_inodes(port))
    assert holders(listening_inodes(port)) == []


def test_a_leftover_process_is_named_by_its_command() -> None:
    from hoist.dynos.daemonized import command_name

    assert command_name(["/h/envs/x/bin/python", "/h/envs/x/bin/gunicorn", "--daemon", "app:app"]) == \
        "gunicorn --daemon app:app"
    assert command_name(["/usr/sbin/uwsgi", "--http", ":5000"]) == "uwsgi --http :5000"
