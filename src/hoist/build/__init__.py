"""The builder: turns a pushed source tree into a slug (app dir + immutable virtualenv).

Run it as `python -m hoist.build`; the server also uses `parse_procfile`.
"""
from __future__ import annotations

from hoist.build.errors import BuildError, ProcfileError
from hoist.build.procfile import parse_procfile

__all__ = ["BuildError", "ProcfileError", "parse_procfile"]
