"""Pure parsing of command-line arguments: KEY=VALUE pairs and scale specs."""
from __future__ import annotations

import re

from hoist import names

_SCALE_RE = re.compile(r"^([a-zA-Z0-9_-]+)([=+-])(\d+)(?::\S+)?$")


class ArgError(ValueError):
    pass


def parse_config_pairs(pairs: list[str]) -> dict[str, str]:
    """`KEY=value` arguments to a dict; the value may contain '=' and be empty."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ArgError(f"{pair!r} is not KEY=VALUE: write for example GREETING=hello")
        try:
            names.config_key(key)
        except names.InvalidName as exc:
            raise ArgError(str(exc)) from None
        out[key] = value
    return out


def parse_scale(args: list[str], current: dict[str, int]) -> dict[str, int]:
    """`web=2 worker+1 worker-1` to absolute quantities, given the current ones."""
    out: dict[str, int] = {}
    for arg in args:
        m = _SCALE_RE.match(arg)
        if not m:
            raise ArgError(f"{arg!r} is not a scale: write TYPE=N, TYPE+N or TYPE-N (for example web=2)")
        ptype, op, n = m.group(1), m.group(2), int(m.group(3))
        base = out.get(ptype, current.get(ptype, 0))
        qty = n if op == "=" else base + n if op == "+" else base - n
        if qty < 0:
            raise ArgError(f"{arg} would scale {ptype} below 0 (it has {base})")
        out[ptype] = qty
    return out
