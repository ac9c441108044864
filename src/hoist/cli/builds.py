"""builds, builds:output, builds:create (a build from a directory or tarball, without git push)."""
from __future__ import annotations

import os
import subprocess
import tarfile
import tempfile
from pathlib import Path

import click
import httpx

from hoist.cli.context import CliContext
from hoist.cli.errors import HoistError
from hoist.cli.options import app_option, pass_ctx
from hoist.cli.output import table


@click.command("builds")
@app_option
@pass_ctx
def builds(c: CliContext) -> None:
    """List the app's builds."""
    app = c.app()
    items = c.client().get_all(f"/apps/{app}/builds")
    table(["ID", "Status", "Version", "Created"],
          [(b["id"], b["status"], (b["source_blob"]["version"] or "")[:8], b["created_at"]) for b in reversed(items)])


@click.command("builds:output")
@app_option
@click.argument("build_id", required=False)
@pass_ctx
def builds_output(c: CliContext, build_id: str | None) -> None:
    """Print a build's full output (default: the newest build)."""
    app = c.app()
    client = c.client()
    if build_id is None:
        items = client.get_all(f"/apps/{app}/builds")
        if not items:
            raise HoistError("this app has no builds yet: git push or `hoist builds:create` to build")
        build_id = items[-1]["id"]
    click.echo(client.request("GET", f"/apps/{app}/builds/{build_id}/output").text, nl=False)


def _git(directory: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=directory, capture_output=True, timeout=60)


def source_files(directory: Path) -> list[str]:
    """What a build of `directory` gets: in a git work tree, the files git would commit (tracked, and
    untracked ones .gitignore does not exclude); elsewhere every file but `.git/`."""
    listed = _git(directory, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if listed.returncode == 0:
        names = sorted({n for n in listed.stdout.decode().split("\0") if n})
        return [n for n in names if os.path.lexists(directory / n)]
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        found += [os.path.relpath(os.path.join(root, f), directory) for f in sorted(files)]
    return found


def pack(directory: Path, dest: Path) -> int:
    """Write `directory`'s source files to the gzipped tarball `dest`; return how many."""
    names = source_files(directory)
    if not names:
        raise HoistError(f"{directory} has no files to build")
    with tarfile.open(dest, "w:gz") as tar:
        for name in names:
            tar.add(directory / name, arcname=name, recursive=False)
    return len(names)


@click.command("builds:create")
@app_option
@click.argument("source", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--version", "version", help="the source's version (default: the git commit of DIR, if any)")
@pass_ctx
def builds_create(c: CliContext, source: Path | None, version: str | None) -> None:
    """Build and release DIR (default: here) or TARBALL without git push; the output streams as it runs."""
    app = c.app()
    client = c.client()
    source = source or Path(".")
    with tempfile.TemporaryDirectory(prefix="hoist-source-") as tmp:
        if source.is_dir():
            tarball = Path(tmp) / "source.tgz"
            count = pack(source, tarball)
            click.echo(f"Packing {count} files of {source.resolve()}... done, {tarball.stat().st_size / 1e6:.1f} MB")
            if version is None:
                head = _git(source, "rev-parse", "HEAD")
                version = head.stdout.decode().strip() if head.returncode == 0 else None
        else:
            tarball = source
        urls = client.post("/sources")["source_blob"]
        click.echo("Uploading source... ", nl=False)
        with tarball.open("rb") as f:
            try:
                put = httpx.put(urls["put_url"], content=f, timeout=600)
            except httpx.HTTPError as exc:
                raise HoistError(f"the upload to {urls['put_url'].split('?')[0]} failed: {exc}") from None
        if put.status_code >= 400:
            raise HoistError(f"the upload was refused (HTTP {put.status_code}): {put.text[:300]}")
        checksum = put.json()["checksum"]
        click.echo("done")
        blob = {"url": urls["get_url"], "checksum": checksum, **({"version": version} if version else {})}
        build = client.post(f"/apps/{app}/builds", {"source_blob": blob})
    for line in client.stream_lines(build["output_stream_url"]):
        click.echo(line)
    status = client.get(f"/apps/{app}/builds/{build['id']}")["status"]
    if status != "succeeded":
        raise HoistError(f"build {build['id']} {status}; see the output above (`hoist builds:output {build['id']}`)")


COMMANDS = [builds, builds_output, builds_create]
