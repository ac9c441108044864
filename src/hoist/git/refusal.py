"""A smart-HTTP ref advertisement that carries only an error, so git prints it instead of prompting."""
from __future__ import annotations


def pkt_line(text: str) -> bytes:
    """One pkt-line: four hex digits of length (counting themselves), then the data."""
    data = text.encode()
    return f"{len(data) + 4:04x}".encode() + data


def error_advertisement(service: str, message: str) -> bytes:
    """The info/refs body for `service` that makes git stop with `fatal: remote error: MESSAGE`."""
    return pkt_line(f"# service={service}\n") + b"0000" + pkt_line(f"ERR {message}\n")
