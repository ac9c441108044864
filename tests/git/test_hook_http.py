"""The hook's own HTTP/1.1 reading: chunked (a push's streamed output), a Content-Length (an error), to EOF."""
from __future__ import annotations

import socket

from hoist.git.hook import body_chunks, read_head, text_lines


def respond(raw: bytes) -> tuple[int, list[str]]:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(raw)
        theirs.shutdown(socket.SHUT_WR)
        with ours.makefile("rb") as f:
            status, headers = read_head(f)
            return status, list(text_lines(body_chunks(f, headers)))


def test_a_chunked_stream_becomes_lines_whatever_the_chunk_borders() -> None:
    body = b"-----> Build\n       d\xc3\xa9tail\n\x00hoist-result:ok\n"
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 5]), body[i:i + 5]) for i in range(0, len(body), 5))
    status, lines = respond(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
                            + chunks + b"0\r\n\r\n")
    assert status == 200
    assert lines == ["-----> Build", "       détail", "\x00hoist-result:ok"]


def test_an_error_with_a_length_and_a_body_to_the_end() -> None:
    assert respond(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\n\r\n{\"id\": \"x\"}\nTRAILING") == (
        401, ['{"id": "x"}'])
    assert respond(b"HTTP/1.1 500 Oops\r\n\r\nno length\nlast") == (500, ["no length", "last"])
