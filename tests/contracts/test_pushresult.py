from __future__ import annotations

from hoist.contracts.pushresult import read_result_line, result_line


def test_the_hooks_result_line() -> None:
    assert read_result_line(result_line(True).rstrip("\n")) is True
    assert read_result_line(result_line(False).rstrip("\n")) is False
    assert read_result_line("-----> Launching...") is None
