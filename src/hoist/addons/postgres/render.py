"""Pure renderers for dataclip results: CSV, JSON and an escaped HTML table."""
from __future__ import annotations

import csv
import datetime as dt
import decimal
import html
import io
import json
import uuid
from collections.abc import Sequence
from typing import Any

Rows = Sequence[Sequence[Any]]


def plain(value: Any) -> Any:
    """Turn one database value into a JSON-friendly Python value."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return str(value)


def text(value: Any) -> str:
    """Render one value as text; NULL becomes the empty string, JSON values stay JSON."""
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def to_csv(columns: Sequence[str], rows: Rows) -> str:
    """RFC 4180 CSV with a header line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([text(v) for v in row])
    return out.getvalue()


def to_json(columns: Sequence[str], rows: Rows) -> str:
    """Heroku dataclip JSON shape: ``{"fields": [...], "values": [[...], ...]}``."""
    return json.dumps({"fields": list(columns), "values": [[plain(v) for v in row] for row in rows]},
                      ensure_ascii=False)


def to_html_table(columns: Sequence[str], rows: Rows) -> str:
    """An HTML ``<table>`` with every header and cell escaped; NULL shows as an empty, marked cell."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = []
    for row in rows:
        cells = "".join('<td class="null"></td>' if v is None else f"<td>{html.escape(text(v))}</td>"
                        for v in row)
        body.append(f"<tr>{cells}</tr>")
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>\n"
