"""Deploys without git: `POST /sources`, a PUT to its put_url, `POST /apps/{app}/builds` with the
get_url, the output followed at output_stream_url with no token; `hoist builds:create`; and every bad
source refused with a clear error, the running release untouched and nothing written outside the app."""
from __future__ import annotations

import os
import tarfile
import uuid
from pathlib import Path

import httpx

from tests.e2e.harness import HoistServer, example_files, make_repo
from tests.e2e.heroku_cli import Heroku, heroku_bin
from tests.e2e.sources import checksum, entry, follow, start_build, tarball, upload, wait_status

APP = "tarball-app"


def test_a_build_from_a_tarball_streams_its_output_and_releases(server: HoistServer, workdir: Path) -> None:
    server.cli("apps:create", APP, "--no-remote")
    tgz = tarball(workdir / "hello.tgz", example_files("hello"), top="hello-main")  # GitHub's shape
    urls = upload(server, tgz)
    r = start_build(server, APP, urls["get_url"], checksum=checksum(tgz), version="v1.0")
    assert r.status_code == 201, r.text
    build = r.json()
    assert build["status"] == "pending" and build["source_blob"]["version"] == "v1.0"
    assert "/hoist/build-output/" in build["output_stream_url"]

    lines, seen = follow(server, APP, build)
    text = "\n".join(lines)
    assert "-----> Unpacking source tarball" in text and "-----> Python app detected" in text
    assert "Released v2" in text
    assert seen == {"pending"}, seen  # the output streamed while the build ran
    done = server.api("GET", f"/apps/{APP}/builds/{build['id']}").json()
    assert done["status"] == "succeeded" and done["release"]["id"]
    assert server.app_get(APP).text.startswith("Hello from hoist (web.1)")
    rel = server.api("GET", f"/apps/{APP}/releases").json()[-1]
    assert rel["description"] == "Deploy v1.0" and rel["current"]
    # The stream of a finished build is its whole output, and ends.
    assert httpx.get(build["output_stream_url"], timeout=30).text == text + "\n"
    assert httpx.get(build["output_stream_url"][:-2] + "00", timeout=30).status_code == 404
    if heroku_bin():
        heroku = Heroku(server, workdir / "heroku-home")
        assert "Deploy v1.0" in heroku("releases", "-a", APP).stdout


def test_hoist_builds_create_from_a_directory_and_from_a_tarball(server: HoistServer, workdir: Path) -> None:
    files = example_files("hello")
    files["app.py"] = files["app.py"].replace("from hoist", "from a directory")
    files[".gitignore"] = "secret.txt\n"
    repo = make_repo(workdir / "dir-app", files, server.env())
    (repo / "secret.txt").write_text("not for the build")
    (repo / "untracked.py").write_text("X = 1\n")  # untracked, not ignored: built (6 files with the example's 4 and .gitignore)
    out = server.cli("builds:create", "-a", APP, cwd=repo)
    assert "Packing 6 files" in out.stdout and "Released v3" in out.stdout
    assert server.app_get(APP).text.startswith("Hello from a directory")
    head = server.git(repo, "rev-parse", "HEAD").stdout.strip()
    assert server.api("GET", f"/apps/{APP}/releases").json()[-1]["description"] == f"Deploy {head[:8]}"

    files["app.py"] = files["app.py"].replace("from a directory", "from a tarball")
    tgz = tarball(workdir / "again.tgz", files)
    out = server.cli("builds:create", str(tgz), "-a", APP, "--version", "2.0")
    assert "Released v4" in out.stdout
    assert server.app_get(APP).text.startswith("Hello from a tarball")
    listed = server.cli("builds", "-a", APP).stdout
    assert listed.count("succeeded") == 3


def _escape_targets() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:8]
    return f"/tmp/hoist-escape-{tag}", f"hoist-escape-rel-{tag}"


def test_bad_tarballs_fail_their_build_and_write_nothing_outside(server: HoistServer, workdir: Path) -> None:
    absolute, relative = _escape_targets()
    ok = example_files("hello")
    bad = {
        "dotdot": [(f"../../../../../../tmp/{relative}", b"x")],
        "absolute": [(absolute, b"x")],
        "symlink": [entry("leak", tarfile.SYMTYPE, "/etc/passwd")],
        "symlink-up": [entry("leak", tarfile.SYMTYPE, "../../../../../../etc")],
        "hardlink": [entry("leak", tarfile.LNKTYPE, "../../../../hoist.db")],
        "device": [entry("null", tarfile.CHRTYPE)],
        "fifo": [entry("pipe", tarfile.FIFOTYPE)],
    }
    words = {"dotdot": "'..'", "absolute": "absolute path", "symlink": "outside the app",
             "symlink-up": "outside the app", "hardlink": "hard link", "device": "device file", "fifo": "fifo"}
    home = server.home
    slugs = home / "apps" / APP / "slugs"
    before = sorted(p.name for p in slugs.iterdir())
    for name, extra in bad.items():
        tgz = tarball(workdir / f"{name}.tgz", ok, extra=extra)  # type: ignore[arg-type]
        build = start_build(server, APP, upload(server, tgz)["get_url"]).json()
        lines, _ = follow(server, APP, build)
        done = wait_status(server, f"/apps/{APP}/builds/{build['id']}")
        assert done["status"] == "failed", (name, lines)
        text = "\n".join(lines)
        assert words[name] in text and "Build failed: nothing was built" in text, (name, text)
    assert not os.path.lexists(absolute) and not os.path.lexists(f"/tmp/{relative}")
    assert not any(p.name.startswith("hoist-escape") for p in Path("/tmp").iterdir())
    assert not any(os.path.lexists(home.parents[i] / relative) for i in range(3))
    assert sorted(p.name for p in slugs.iterdir()) == before  # no half-made slug, no .unpacking left
    assert [p.name for p in (home / "sources").iterdir() if p.name.startswith(".")] == []
    assert server.app_get(APP).text.startswith("Hello from a tarball")  # the running release is untouched


def test_bad_source_urls_and_checksums_are_refused_before_a_build(server: HoistServer, workdir: Path) -> None:
    tgz = tarball(workdir / "c.tgz", example_files("hello"))
    urls = upload(server, tgz)
    builds_before = len(server.api("GET", f"/apps/{APP}/builds").json())
    cases = [
        ({"url": urls["get_url"], "checksum": "SHA256:" + "0" * 64}, "checksum says"),
        ({"url": urls["get_url"], "checksum": "MD5:abc"}, "SHA256:<64 hex digits>"),
        ({"url": urls["put_url"]}, "get_url"),
        ({"url": urls["get_url"].replace("signature=", "signature=0")}, "not a valid get_url"),
        ({"url": "file:///etc/passwd"}, "file:// URLs are never fetched"),
        ({"url": f"http://127.0.0.1:{server.port}/apps"}, "HOIST_SOURCE_FETCH is off"),
        ({"url": "http://169.254.169.254/latest/meta-data"}, "HOIST_SOURCE_FETCH is off"),
        ({"url": "ftp://example.com/app.tgz"}, "http:// or https://"),
        ({}, "source_blob.url is required"),
    ]
    for blob, words in cases:
        r = server.api("POST", f"/apps/{APP}/builds", json={"source_blob": blob})
        assert r.status_code == 422 and words in r.json()["message"], (blob, r.text)
    r = server.api("POST", f"/apps/{APP}/builds", json={"source": "x"})
    assert r.status_code == 422 and "POST /sources" in r.json()["message"]
    assert len(server.api("GET", f"/apps/{APP}/builds").json()) == builds_before
    # a put_url's signature covers its id, kind and expiry
    bad_put = httpx.put(urls["put_url"].replace("kind=put", "kind=get"), content=b"x", timeout=30)
    assert bad_put.status_code == 403
    other = urls["put_url"].replace(urls["put_url"].split("/hoist/sources/")[1][:8], "00000000")
    assert httpx.put(other, content=b"x", timeout=30).status_code == 403
    assert httpx.get(urls["get_url"], timeout=30).content == tgz.read_bytes()
