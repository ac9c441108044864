"""Argument lists that run one of hoist's own modules in a child process.

The child imports hoist from the same place as this process (a checkout's
src/ or site-packages) without PYTHONPATH, which would leak into the apps'
own Python processes that builds and hooks start."""
from __future__ import annotations

import sys
from pathlib import Path

import hoist

HOIST_PARENT = str(Path(hoist.__file__).resolve().parent.parent)
_BOOT = ("import sys, runpy; sys.path.insert(0, sys.argv.pop(1)); m = sys.argv.pop(1); "
         "runpy.run_module(m, run_name='__main__', alter_sys=True)")


def module_argv(module: str, *args: str) -> list[str]:
    """`python -m MODULE ARGS...`, importing hoist from where this process did."""
    return [sys.executable, "-c", _BOOT, HOIST_PARENT, module, *args]
