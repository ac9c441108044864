"""A connected repository, fetched: one branch of a remote repository mirrored into a bare repository of
hoist's, and a commit of it read out as the tar stream a push sends.

Credentials never reach an argument list or a log: a token goes to git as an HTTP header through git's
GIT_CONFIG_* environment, a deploy key as a 0600 file for ssh; every message is masked before it leaves.
Only network transports are allowed (no file:// or ext::, which would read the server's own disk)."""
from __future__ import annotations

import asyncio
import base64
import os
import re
import urllib.parse
import shlex
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

FETCH_TIMEOUT = 120.0
_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/].*$")
_SHA = re.compile(r"^[0-9a-f]{40}$")


class RemoteError(Exception):
    """The repository could not be reached or read; the message (masked) says why and what to do."""


@dataclass(frozen=True)
class Credential:
    kind: str = ""  # "" | token | deploy-key
    secret: str = field(default="", repr=False)


def check_url(url: str) -> str:
    """A repository URL hoist may fetch: https, http, git or ssh (scp-like user@host:path too)."""
    url = url.strip()
    if re.match(r"^(https?|git|ssh)://[^\s/]+/\S+$", url) or _SCP_LIKE.match(url):
        return url
    raise RemoteError(f"{url!r} is not a repository URL hoist can fetch: use https://host/owner/repo.git, "
                      "git://host/repo.git, ssh://git@host/owner/repo.git or git@host:owner/repo.git")


def host_of(url: str) -> tuple[str, int]:
    """The host and port a checked repository URL connects to (scp-like `user@host:path` is ssh). Pure."""
    if _SCP_LIKE.match(url):
        return url.split("@", 1)[1].split(":", 1)[0], 22
    parts = urllib.parse.urlsplit(url)
    default = {"https": 443, "http": 80, "git": 9418, "ssh": 22}[parts.scheme]
    return parts.hostname or "", parts.port or default


def check_branch(branch: str) -> str:
    if not re.match(r"^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}$", branch) or branch.endswith((".lock", "/")):
        raise RemoteError(f"{branch!r} is not a branch name; give one such as main")
    return branch


def mask(text: str, credential: Credential) -> str:
    """`text` with the credential (and its Basic-auth form) replaced by ****."""
    if not credential.secret:
        return text
    for secret in (credential.secret, _basic(credential.secret)):
        text = text.replace(secret, "****")
    return text


def _basic(token: str) -> str:
    user, sep, password = token.partition(":")
    pair = token if sep else f"x-access-token:{token}"
    return base64.b64encode(pair.encode()).decode()


class Mirror:
    """The bare repository under the app's directory holding the connected branch."""

    def __init__(self, path: Path, url: str, branch: str, credential: Credential) -> None:
        self.path = path
        self.url = url
        self.branch = branch
        self.credential = credential

    def _env(self, key_file: str | None) -> dict[str, str]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.path),
               "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "/bin/false", "SSH_ASKPASS": "/bin/false",
               "GIT_ALLOW_PROTOCOL": "http:https:git:ssh", "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}
        if self.credential.kind == "token":
            env.update({"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.extraHeader",
                        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {_basic(self.credential.secret)}"})
        ssh = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new",
               "-o", f"UserKnownHostsFile={self.path / 'known_hosts'}"]
        if key_file:
            ssh += ["-i", key_file, "-o", "IdentitiesOnly=yes"]
        env["GIT_SSH_COMMAND"] = shlex.join(ssh)
        return env

    async def _git(self, *args: str, timeout: float = FETCH_TIMEOUT, key_file: str | None = None) -> str:
        proc = await asyncio.create_subprocess_exec(
            "git", "--git-dir", str(self.path), *args, env=self._env(key_file),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise RemoteError(f"git {args[0]} took longer than {timeout:g} s; is {self.url} reachable?") from None
        if proc.returncode != 0:
            lines = [ln for ln in err.decode("utf-8", "replace").splitlines() if ln.strip()]
            detail = "; ".join(lines[-3:]) or f"git exited with status {proc.returncode}"
            raise RemoteError(mask(detail, self.credential))
        return out.decode("utf-8", "replace").strip()

    async def fetch(self) -> str:
        """Fetch the branch (force: a rewritten history replaces the old one); return its head commit."""
        if not (self.path / "HEAD").exists():
            self.path.mkdir(parents=True, exist_ok=True, mode=0o700)  # hoist's alone: the app's source
            self.path.chmod(0o700)
            await self._git("init", "--bare", "--quiet")
        key_file = None
        try:
            if self.credential.kind == "deploy-key":
                fd, key_file = tempfile.mkstemp(prefix="deploy-key-", dir=self.path)
                with os.fdopen(fd, "w") as f:  # mkstemp makes it 0600
                    f.write(self.credential.secret.rstrip("\n") + "\n")
            ref = f"refs/heads/{self.branch}"
            try:
                await self._git("fetch", "--quiet", "--no-tags", "--prune", self.url, f"+{ref}:{ref}",
                                key_file=key_file)
            except RemoteError as exc:
                raise RemoteError(f"could not fetch branch {self.branch!r} of {mask(self.url, self.credential)}: "
                                  f"{exc}") from None
            return await self._git("rev-parse", f"{ref}^{{commit}}")
        finally:
            if key_file:
                os.unlink(key_file)

    async def has_commit(self, commit: str) -> bool:
        if not _SHA.match(commit):
            return False
        try:
            await self._git("cat-file", "-e", f"{commit}^{{commit}}")
            return True
        except RemoteError:
            return False

    async def is_ancestor(self, older: str, newer: str) -> bool:
        """True when `older` is in `newer`'s history (and not the same commit)."""
        if older == newer:
            return False
        try:
            await self._git("merge-base", "--is-ancestor", older, newer)
            return True
        except RemoteError:
            return False

    async def archive(self, commit: str) -> AsyncIterator[bytes]:
        """The commit's tree as a tar stream (what `git push`'s hook sends)."""
        proc = await asyncio.create_subprocess_exec(
            "git", "--git-dir", str(self.path), "archive", "--format=tar", commit, env=self._env(None),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        assert proc.stdout is not None
        try:
            while True:
                chunk = await proc.stdout.read(262144)
                if not chunk:
                    break
                yield chunk
            if await proc.wait() != 0:
                raise RemoteError(f"git archive of {commit[:8]} failed")
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
