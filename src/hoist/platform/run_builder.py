"""One build, run as `python -m hoist.builder` in a subprocess the platform can time out
and kill: as the app's own user when hoist isolates apps, seeing only the app's config
vars and the machine's network settings. Its output goes to the pusher line by line;
its result comes back as a BuildResult."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping

from hoist.contracts.build import BuildResult, read_result
from hoist.dynos.isolation import Isolation
from hoist.dynos.pythons import builder_argv, builder_python, compile_builder_code, reachable_import_paths, reachable_uv
from hoist.launch import module_argv
from hoist.paths import Paths
from hoist.procs import killpg
from hoist.settings import Settings

BUILDER = "hoist.builder"

# The machine's network settings (its CA bundle, proxies, package index) are
# the operator's, not hoist's secrets: builds need them to reach PyPI.
NETWORK_VARS = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PIP_CERT",
                "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
                "UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_EXTRA_INDEX_URL", "UV_NATIVE_TLS", "UV_INSECURE_HOST")


def build_env(config: Mapping[str, str], app_home: Path) -> dict[str, str]:
    """The builder sees the app's config vars (as Heroku's build does) and the machine's network
    settings, not the rest of hoist's own environment."""
    env = {k: os.environ[k] for k in NETWORK_VARS if k in os.environ}
    env.update(config)
    env.update({
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(app_home),
        "LANG": env.get("LANG", "C.UTF-8"),
    })
    return env


async def run_builder(settings: Settings, paths: Paths, iso: Isolation | None, app: str, slug_dir: Path,
                      config: Mapping[str, str], previous: Mapping[str, Any] | None,
                      emit: Callable[[str], None]) -> BuildResult | None:
    """Build the unpacked tree in slug_dir (as the app's user when `iso`); None when the build failed (it
    said why in its output)."""
    app_home = paths.app(app)
    with tempfile.TemporaryDirectory(prefix="hoist-build-") as tmp:
        result_file = Path(tmp) / "result.json"
        # Isolated builds get a uv cache of their own: a cache shared between app users
        # would let one app plant packages that another app's build installs.
        uv_cache = app_home / "cache" / "uv" if iso else paths.uv_cache
        if iso:
            # Once per server: the app's user cannot write the builder's bytecode itself.
            await asyncio.to_thread(compile_builder_code, builder_python(paths.pythons),
                                    reachable_import_paths(paths.pythons))
        build_args = ("--source", str(slug_dir), "--app-home", str(app_home), "--uv-cache", str(uv_cache),
                      "--result", str(result_file), "--timeout", str(settings.build_timeout))
        args = builder_argv(paths.pythons, BUILDER, *build_args) if iso else module_argv(BUILDER, *build_args)
        if previous:
            prev = Path(tmp) / "previous.json"
            prev.write_text(json.dumps(previous))
            args += ["--previous", str(prev)]
        env = build_env(config, app_home)
        extra: dict[str, object] = {}
        if iso:
            user = iso.run_as(app)
            iso.give(app, slug_dir)
            iso.give(app, Path(tmp))
            env.update({"HOME": str(user.home), "PYENV_ROOT": str(paths.pythons),
                        "HOIST_UV": reachable_uv(paths.pythons)})
            extra = {"user": user.uid, "group": user.gid, "extra_groups": []}
        proc = await asyncio.create_subprocess_exec(
            *args, env=env, cwd=str(slug_dir), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
            **extra,  # type: ignore[arg-type]
        )
        assert proc.stdout is not None
        try:
            async with asyncio.timeout(settings.build_timeout + 30):
                while True:
                    raw = await proc.stdout.readline()
                    if not raw:
                        break
                    emit(raw.decode("utf-8", "replace").rstrip("\n"))
                rc = await proc.wait()
        except TimeoutError:
            killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            emit(f" !     Build timed out after {settings.build_timeout:g} s and was stopped; "
                 "raise HOIST_BUILD_TIMEOUT if your build needs longer.")
            return None
        except BaseException:
            killpg(proc.pid, signal.SIGKILL)
            raise
        if rc != 0 or not result_file.exists():
            return None
        return read_result(result_file)
