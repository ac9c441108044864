"""rabbitmqctl, run as the node's user with argument lists; passwords travel on stdin, never in argv."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from hoist.addons import sysuser
from hoist.addons.amqp.config import NODE_NAME, definitions, password_hash
from hoist.addons.amqp.errors import AmqpError

TIMEOUT = 60.0


class RabbitCtl:
    def __init__(self, ctl: Path, env: dict[str, str], run_as: sysuser.RunAs) -> None:
        self.ctl = ctl
        self.env = env
        self.run_as = run_as

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """One rabbitmqctl command against hoist's node; the result, whatever its exit status."""
        try:
            return subprocess.run([str(self.ctl), "-q", "-n", NODE_NAME, *args], env=self.env, input=stdin,
                                  stdin=None if stdin is not None else subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=TIMEOUT, cwd=self.env["HOME"], **self.run_as.popen_kwargs())
        except subprocess.TimeoutExpired:
            raise AmqpError(f"rabbitmqctl {args[0]} did not answer within {TIMEOUT:g} s; is the RabbitMQ node "
                            "overloaded? Try again.") from None

    def check(self, *args: str, stdin: str | None = None) -> str:
        result = self.run(*args, stdin=stdin)
        if result.returncode != 0:
            raise AmqpError(f"rabbitmqctl {args[0]} failed: {(result.stderr or result.stdout).strip()[-400:]}")
        return result.stdout

    def create(self, vhost: str, user: str, password: str) -> None:
        """One vhost and one user with every right in it and none elsewhere, in a single import."""
        self.check("import_definitions", stdin=definitions(vhost, user, password_hash(password, os.urandom(4))))

    def delete(self, vhost: str, user: str) -> None:
        """Remove the vhost (its queues and messages) and the user; either already gone is fine."""
        for args in (("delete_vhost", vhost), ("delete_user", user)):
            result = self.run(*args)
            if result.returncode != 0 and "not exist" not in (result.stderr + result.stdout):
                raise AmqpError(f"rabbitmqctl {args[0]} {args[1]} failed: "
                                f"{(result.stderr or result.stdout).strip()[-400:]}")

    def vhosts(self) -> list[str]:
        return [line.strip() for line in self.check("list_vhosts", "name").splitlines()[1:] if line.strip()]
