"""The frames between hoist and a one-off's swarm task (dialback.py keeps its own copy: it runs alone). Pure.

A frame is a kind byte, a 4-byte big-endian length and that many bytes. hoist sends I (stdin bytes), E (end of
stdin), S (a signal number, decimal), W (window size, ROWSxCOLS); the task sends O (output bytes) and X (the
exit status, decimal; negative: killed by that signal)."""
from __future__ import annotations

import struct

HEAD = struct.Struct("!cI")
MAX_FRAME = 1 << 20  # the task sends at most 64 KiB at once: anything larger is not the task talking


class FrameError(ValueError):
    """The peer sent something that is no frame."""


def encode(kind: bytes, data: bytes = b"") -> bytes:
    return HEAD.pack(kind, len(data)) + data


class Decoder:
    """Bytes in, whole frames out, whatever the bytes' chunking."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[bytes, bytes]]:
        self.buf += data
        frames: list[tuple[bytes, bytes]] = []
        while len(self.buf) >= HEAD.size:
            kind, n = HEAD.unpack_from(self.buf)
            if n > MAX_FRAME or kind not in b"IESWOX":
                raise FrameError(f"not a frame (kind {kind!r}, {n} bytes)")
            if len(self.buf) < HEAD.size + n:
                break
            frames.append((kind, bytes(self.buf[HEAD.size:HEAD.size + n])))
            del self.buf[:HEAD.size + n]
        return frames


def exit_status(data: bytes) -> int | None:
    """The X frame's status, or None if it is not a number."""
    text = data.decode("ascii", "replace").strip()
    return int(text) if text.lstrip("-").isdigit() else None
