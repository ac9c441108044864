"""Find an app's dyno processes on this machine by a marker in their environment."""
from __future__ import annotations

import os
from pathlib import Path


def dyno_groups(marker: str) -> dict[str, set[int]]:
    """DYNO name -> process groups of live processes whose environment holds `marker` (KEY=VALUE)."""
    want = marker.encode()
    out: dict[str, set[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            env = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if want not in env or fields[0] == "Z":
            continue
        dyno = next((e[5:].decode() for e in env if e.startswith(b"DYNO=")), "?")
        out.setdefault(dyno, set()).add(int(fields[2]))
    return out
