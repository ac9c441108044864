"""`python -m hoist.builder`: run one build as a subprocess the server can kill and time out."""
from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
from pathlib import Path
from types import FrameType

from hoist.builder.builder import build
from hoist.builder.errors import BuildError
from hoist.builder.output import Log, Runner
from hoist.builder.pyversion import EOL_OPT_IN
from hoist.builder.request import BuildRequest
from hoist.contracts.build import read_metadata, write_result

# Variables of hoist itself or of whatever venv started us; the app's build must not see them.
_DROP_PREFIXES = ("HOIST_",)
_DROP_NAMES = {"VIRTUAL_ENV", "PYTHONHOME", "CONDA_PREFIX", "PYENV_VERSION", "UV_PROJECT_ENVIRONMENT"}


def build_environment(environ: dict[str, str]) -> dict[str, str]:
    """The environment builds run with: ours minus hoist's own variables, with LANG defaulted."""
    env = {k: v for k, v in environ.items() if not k.startswith(_DROP_PREFIXES) and k not in _DROP_NAMES}
    env.setdefault("LANG", "C.UTF-8")
    env.setdefault("HOME", "/tmp")
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    return env


def flag(value: str | None) -> bool:
    """A config var used as a switch: set to anything but empty, 0, false, no or off."""
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


def find_uv() -> str:
    """The uv binary shipped with the `uv` wheel hoist depends on (or the copy the server made
    reachable for app users, in HOIST_UV)."""
    if os.environ.get("HOIST_UV"):
        return os.environ["HOIST_UV"]
    from uv import find_uv_bin

    return str(find_uv_bin())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m hoist.builder", description="Build a pushed Python app.")
    p.add_argument("--source", required=True, type=Path, help="extracted tree of the pushed commit")
    p.add_argument("--app-home", required=True, type=Path, help="the app's private directory")
    p.add_argument("--uv-cache", required=True, type=Path, help="uv cache shared across builds")
    p.add_argument("--previous", type=Path, help="JSON metadata of the previous successful build")
    p.add_argument("--result", required=True, type=Path, help="where to write the result JSON")
    p.add_argument("--timeout", type=float, default=None, help="seconds before the build is killed")
    return p.parse_args(argv)


def _on_term(signum: int, frame: FrameType | None) -> None:
    # Raising lets `finally` blocks delete half-built envs before we go.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Run a build; exit 0 and write --result on success, exit 1 with ` !` lines on failure."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_term)
    log = Log()
    runner = Runner(log, args.timeout)
    try:
        source, app_home = args.source.resolve(), args.app_home.resolve()
        if not source.is_dir():
            raise BuildError(f"--source {source} is not a directory; pass the extracted tree of the push")
        app_home.mkdir(parents=True, exist_ok=True)
        args.uv_cache.mkdir(parents=True, exist_ok=True)
        request = BuildRequest(
            source=source, app_home=app_home, uv_cache=args.uv_cache.resolve(), uv=find_uv(),
            previous=read_metadata(args.previous) if args.previous else None, env=build_environment(dict(os.environ)),
            # An app's config var (the platform passes them all); the build env drops HOIST_ names, so read it here.
            allow_eol=flag(os.environ.get(EOL_OPT_IN)),
        )
        write_result(args.result, build(request, runner))
        return 0
    except BuildError as exc:
        log.error(str(exc))
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            log.error("The disk is full (no space left on device); free some space on the hoist "
                      "server (old releases, `uv cache prune`), then push again")
        else:
            log.error(f"{exc}; check the permissions and free space of the hoist directories, then push again")
    except (KeyboardInterrupt, SystemExit):
        log.error("Build was stopped (interrupted or terminated); push again to retry")
    finally:
        runner.close()
    log.error("Push rejected, failed to compile Python app.")
    return 1


if __name__ == "__main__":
    sys.exit(main())
