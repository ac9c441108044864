"""The app's own build steps: bin/pre_compile, bin/post_compile and Django's collectstatic."""
from __future__ import annotations

import os
import time
from pathlib import Path

from hoist.builder.errors import BuildError
from hoist.builder.install import build_env, site_packages_has
from hoist.builder.output import Runner


def run_hook(runner: Runner, source: Path, name: str, base_env: dict[str, str], env_dir: Path | None) -> None:
    """Run bin/<name> if the app has one (with bash when it is not executable)."""
    hook = source / "bin" / name
    if not hook.is_file():
        return
    runner.log.topic(f"Running bin/{name} hook")
    started = time.monotonic()
    # Without a shebang (or the executable bit) the kernel cannot run it; bash can.
    with open(hook, "rb") as f:
        has_shebang = f.read(2) == b"#!"
    argv = [str(hook)] if has_shebang and os.access(hook, os.X_OK) else ["bash", str(hook)]
    res = runner.run(argv, cwd=source, env=build_env(base_env, env_dir))
    if res.returncode != 0:
        raise BuildError(
            f"bin/{name} failed with exit status {res.returncode} (its output is above); "
            "fix the hook and push again"
        )
    runner.log.info(f"Done in {time.monotonic() - started:.2f} s")


def collectstatic_disabled(config: dict[str, str]) -> bool:
    """DISABLE_COLLECTSTATIC set to anything but empty/0/false turns collectstatic off."""
    return config.get("DISABLE_COLLECTSTATIC", "").strip().lower() not in ("", "0", "false", "no")


def collectstatic(runner: Runner, source: Path, base_env: dict[str, str], env_dir: Path) -> None:
    """Run `manage.py collectstatic --noinput` for Django apps; its failure fails the build."""
    if not (source / "manage.py").is_file() or not site_packages_has(env_dir, "django"):
        return
    if collectstatic_disabled(base_env):
        runner.log.topic("Skipping Django collectstatic since DISABLE_COLLECTSTATIC is set")
        return
    runner.log.topic("$ python manage.py collectstatic --noinput")
    started = time.monotonic()
    argv = [str(env_dir / "bin" / "python"), "manage.py", "collectstatic", "--noinput"]
    res = runner.run(argv, cwd=source, env=build_env(base_env, env_dir))
    if res.returncode != 0:
        tail = "\n".join(res.tail(15))
        raise BuildError(
            f"Django's collectstatic failed:\n{tail}\n"
            "Fix the error above (often STATIC_ROOT is missing in settings.py), or set "
            "DISABLE_COLLECTSTATIC=1 in the app's config to skip this step, then push again"
        )
    runner.log.info(f"Done in {time.monotonic() - started:.2f} s")
