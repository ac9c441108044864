from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from hoist.git.remote import Credential, Mirror, RemoteError, check_branch, check_url, mask


@pytest.mark.parametrize("url", ["https://github.com/o/r.git", "http://127.0.0.1:9418/r", "git://host/r.git",
                                 "ssh://git@host/o/r.git", "git@github.com:o/r.git"])
def test_network_urls_are_accepted(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize("url", ["/srv/repo.git", "file:///etc", "ext::sh -c touch% /tmp/x", "--upload-pack=x",
                                 "https://", ""])
def test_local_paths_and_odd_transports_are_refused(url: str) -> None:
    with pytest.raises(RemoteError, match="not a repository URL"):
        check_url(url)


@pytest.mark.parametrize("branch", ["-x", "a..b", "a b", "main.lock", ""])
def test_bad_branch_names(branch: str) -> None:
    with pytest.raises(RemoteError):
        check_branch(branch)


def test_mask_hides_the_token_and_its_basic_auth_form() -> None:
    cred = Credential("token", "ghp_abc123")
    env = Mirror(Path("/nonexistent"), "https://h/r", "main", cred)._env(None)
    header = env["GIT_CONFIG_VALUE_0"]
    assert header.startswith("Authorization: Basic ") and "ghp_abc123" not in header
    assert mask(f"failed with ghp_abc123 and {header}", cred) == "failed with **** and Authorization: Basic ****"
    assert "ghp_abc123" not in repr(cred)


def test_a_refused_fetch_names_the_branch_and_leaves_no_key_behind(tmp_path: Path) -> None:
    bare = tmp_path / "src.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    # Served over nothing: port 9 on localhost refuses, as an unreachable repository does.
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----"
    mirror = Mirror(tmp_path / "mirror.git", "git://127.0.0.1:9/src.git", "main", Credential("deploy-key", key))
    with pytest.raises(RemoteError, match="could not fetch branch 'main' of git://127.0.0.1:9/src.git"):
        asyncio.run(mirror.fetch())
    assert not list((tmp_path / "mirror.git").glob("deploy-key-*"))
