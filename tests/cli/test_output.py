"""cli/output.py: what a list command prints, with and without --json."""
from __future__ import annotations

import json

import pytest

from hoist.cli.output import listing

ROWS = [{"name": "a", "n": 1}, {"name": "bbbb", "n": 22}]


def test_json_is_the_apis_answer_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    listing(ROWS, as_json=True, title="T", headers=["Name"], row=lambda r: [r["name"]], empty="none")
    assert json.loads(capsys.readouterr().out) == ROWS


def test_a_table_under_its_title_with_aligned_columns(capsys: pytest.CaptureFixture[str]) -> None:
    listing(ROWS, as_json=False, title="app Things", headers=["Name", "N"], row=lambda r: [r["name"], r["n"]],
            empty="No things.")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "=== app Things"
    assert lines[1].split() == ["Name", "N"] and lines[3].split() == ["a", "1"] and lines[4].split() == ["bbbb", "22"]
    assert lines[3].index("1") == lines[4].index("22") == lines[1].index(" N") + 1  # columns line up


def test_nothing_to_list_says_how_to_add_one(capsys: pytest.CaptureFixture[str]) -> None:
    listing([], as_json=False, title="app Things", headers=["Name"], row=lambda r: [r], empty="No things. Add one with X.")
    assert capsys.readouterr().out.splitlines() == ["=== app Things", "No things. Add one with X."]
    listing([], as_json=False, headers=["Name"], row=lambda r: [r])  # no `empty`: the bare header row
    assert capsys.readouterr().out.splitlines()[0] == "Name"
