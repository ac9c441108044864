"""The builder: turns a pushed source tree into a slug (app dir + immutable virtualenv).

Run it as `python -m hoist.builder`; the server also uses `parse_procfile`.
"""
from __future__ import annotations

from hoist.builder.errors import BuildError, ProcfileError
from hoist.builder.procfile import parse_procfile

__all__ = ["BuildError", "ProcfileError", "parse_procfile"]
