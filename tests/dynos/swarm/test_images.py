"""The slug layer's Dockerfile (pure): each copy's destination is one path, also with a space in it. The
shell form (`COPY c0/ /srv/My Apps/slug/`) made Docker read `/srv/My` as a second source and the build
failed with "COPY failed: file not found in build context ... stat srv/My" (seen on a real engine)."""
from __future__ import annotations

import json
from pathlib import Path

from hoist.dynos.swarm.images import dockerfile


def test_copy_destinations_with_spaces_stay_one_path() -> None:
    text = dockerfile("10.0.0.1:5000/hoist/base:abc", [(Path("/h/slug"), "/srv/My Apps/slug"),
                                                       (Path("/h/venv"), "/srv/My Apps/venv/")], {}, {"a": "b c"})
    copies = [line for line in text.splitlines() if line.startswith("COPY ")]
    assert [json.loads(line.split(" ", 2)[2]) for line in copies] == [["c0/", "/srv/My Apps/slug/"],
                                                                     ["c1/", "/srv/My Apps/venv/"]]
    assert all(line.startswith("COPY --chown=dyno:dyno [") for line in copies)
    assert text.splitlines()[0] == "FROM 10.0.0.1:5000/hoist/base:abc" and text.endswith("USER dyno\n")
