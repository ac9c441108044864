"""The builder: turns a pushed source tree into a slug (app dir + immutable virtualenv).

Run it as `python -m hoist.builder`: the server runs each build as a subprocess it can
time out and kill, and reads back the BuildResult (hoist.contracts.build) it writes.
"""
from __future__ import annotations

from hoist.builder.errors import BuildError, ProcfileError
from hoist.builder.procfile import parse_procfile

__all__ = ["BuildError", "ProcfileError", "parse_procfile"]
