#!/usr/bin/env python3
"""Images for a swarm from this host's own files: the command line over hoist.dynos.swarm.images
(where the code lives; hoist's swarm scheduler uses it too).

    python3 scripts/swarm_images.py base --python /root/.pyenv/versions/3.11.7 [--tag T] [--push]
    python3 scripts/swarm_images.py app BASE TAG --copy HOST_DIR:IMAGE_DIR ... [--push]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hoist.dynos.swarm.images import *  # noqa: E402,F401,F403 - the script's functions, as tests load them
from hoist.dynos.swarm.images import __doc__ as IMAGES_DOC, build_app, build_base, docker, push  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=IMAGES_DOC, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("base", help="import the runtime base image from this host's files")
    b.add_argument("--python", action="append", required=True, type=Path, help="a Python prefix (repeatable)")
    b.add_argument("--tag")
    b.add_argument("--push", action="store_true", help="tag as REGISTRY/hoist/base and push (HOIST_SWARM_REGISTRY)")
    a = sub.add_parser("app", help="build a slug layer on a base")
    a.add_argument("base")
    a.add_argument("tag")
    a.add_argument("--copy", action="append", default=[], help="HOST_DIR:IMAGE_DIR (repeatable)")
    a.add_argument("--push", action="store_true")
    args = ap.parse_args()
    if args.cmd == "base":
        res = build_base(args.python, args.tag)
        if args.push:
            remote = f"{os.environ['HOIST_SWARM_REGISTRY']}/{res['tag']}"
            docker("tag", res["tag"], remote)
            res["push_seconds"] = push(remote)
            res["remote"] = remote
    else:
        copies = [(Path(c.split(":", 1)[0]), c.split(":", 1)[1]) for c in args.copy]
        res = build_app(args.base, args.tag, copies)
        if args.push:
            res["push_seconds"] = push(args.tag)
    json.dump(res, sys.stdout)
    print()


if __name__ == "__main__":
    main()
