"""Heroku's `Range` header for list endpoints. Pure parsing and paging.

Forms seen from clients: `id ..`, `version ..; order=desc,max=1`,
`name ]a..z; max=10, order=asc`, `id ..; ;`."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence, TypeVar

DEFAULT_MAX = 200
LIMIT_MAX = 1000

T = TypeVar("T")

_RANGE_RE = re.compile(r"^\s*([a-z_]+)\s*(\]?)([^.;]*?)\.\.([^;]*?)\s*(?:;(.*))?$")


class RangeError(ValueError):
    pass


@dataclass(frozen=True)
class Range:
    field: str
    first: str | None = None
    first_exclusive: bool = False
    last: str | None = None
    max: int = DEFAULT_MAX
    order: str = "asc"


def parse_range(header: str | None, fields: Sequence[str], default_field: str) -> Range:
    """Parse a Range header; raise RangeError with a message naming the allowed fields."""
    if header is None or not header.strip():
        return Range(default_field)
    m = _RANGE_RE.match(header)
    if not m:
        raise RangeError(f"Invalid Range header {header!r}: use for example 'id ..; max=200, order=asc'.")
    field, excl, first, last, opts = m.groups()
    if field not in fields:
        raise RangeError(f"Cannot sort by {field!r}: the range fields are {', '.join(fields)}.")
    limit = DEFAULT_MAX
    order = "asc"
    for part in re.split(r"[,;]", opts or ""):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep:
            raise RangeError(f"Invalid Range option {part!r}: use max=N or order=asc|desc.")
        if key == "max":
            if not value.isdigit() or not 1 <= int(value) <= LIMIT_MAX:
                raise RangeError(f"Invalid Range max {value!r}: use a number from 1 to {LIMIT_MAX}.")
            limit = int(value)
        elif key == "order":
            if value not in ("asc", "desc"):
                raise RangeError(f"Invalid Range order {value!r}: use asc or desc.")
            order = value
        else:
            raise RangeError(f"Unknown Range option {key!r}: use max=N or order=asc|desc.")
    return Range(field, first.strip() or None, bool(excl), last.strip() or None, limit, order)


def page(items: Sequence[T], rng: Range, key: Callable[[T], Any]) -> tuple[list[T], Range | None]:
    """Sort, filter and cut a list; return the page and the Range of the next page, if more exist."""
    def comparable(v: Any) -> Any:
        return v

    ordered = sorted(items, key=key, reverse=rng.order == "desc")

    def coerce(bound: str, sample: Any) -> Any:
        if isinstance(sample, int):
            try:
                return int(bound)
            except ValueError:
                raise RangeError(f"Range bound {bound!r} must be a number for {rng.field}.") from None
        return bound

    selected = []
    for item in ordered:
        k = key(item)
        if rng.first is not None:
            lo = coerce(rng.first, k)
            if rng.order == "asc":
                if k < lo or (rng.first_exclusive and k == lo):
                    continue
            else:
                if k > lo or (rng.first_exclusive and k == lo):
                    continue
        if rng.last is not None:
            hi = coerce(rng.last, k)
            if (rng.order == "asc" and k > hi) or (rng.order == "desc" and k < hi):
                continue
        selected.append(item)
    result = selected[: rng.max]
    if len(selected) > rng.max:
        last_key = key(result[-1])
        return result, Range(rng.field, str(last_key), True, None, rng.max, rng.order)
    return result, None


def format_next_range(r: Range) -> str:
    return f"{r.field} ]{r.first or ''}..; max={r.max}, order={r.order}"
