"""What a config change must be before it is stored: names hoist accepts, and values `exec` can hand to a
dyno. A value with a NUL cannot be in any process's environment; Linux refuses an environment string over
MAX_ARG_STRLEN (32 pages: 131072 bytes with its NUL) and a whole argv plus environment over ARG_MAX (a
quarter of the stack limit: 2 MiB by default). A config that breaks these would make every later release
fail until the variable is unset, so it is refused at the boundary: 422, naming the key and the limit."""
from __future__ import annotations

import os
from collections.abc import Mapping

from hoist import names
from hoist.platform.errors import PlatformError

MAX_ARG_STRLEN = 32 * 4096  # the kernel's limit for one argument or environment string, its NUL included
HEADROOM = 64 * 1024  # what hoist adds beside the config (PORT, DYNO, PATH, HOME, ...) and the command line
POINTER = 8  # execve also counts a pointer per string


def arg_max() -> int:
    """The most bytes of arguments and environment `exec` accepts here (sysconf ARG_MAX)."""
    try:
        return int(os.sysconf("SC_ARG_MAX"))
    except (ValueError, OSError):
        return 128 * 1024  # POSIX's minimum, a safe floor


def _size(key: str, value: str) -> int:
    """Bytes of KEY=VALUE in a process's environment, its terminating NUL included."""
    return len(key.encode()) + 1 + len(value.encode()) + 1


def _invalid(message: str) -> PlatformError:
    return PlatformError("invalid_params", message, 422, "config_vars")


def check_change(current: Mapping[str, str], changes: Mapping[str, str | None]) -> dict[str, str]:
    """The config after `changes` (a value sets a key, None unsets it), if a dyno can be started with it;
    otherwise PlatformError (422 invalid_params) saying which key breaks which limit and what to do."""
    for key, value in changes.items():
        try:
            names.config_key(key)
        except names.InvalidName as exc:
            raise _invalid(str(exc)) from None
        if value is None:
            continue
        if "\0" in value:
            raise _invalid(f"The value of {key} contains a NUL character (\\0), which no process environment can "
                           f"hold. Remove it and try again (binary data can go in base64-encoded).")
        try:
            value.encode()
        except UnicodeEncodeError:
            raise _invalid(f"The value of {key} is not valid Unicode text (it has a lone surrogate); send it as "
                           "UTF-8 text and try again.") from None
        if _size(key, value) > MAX_ARG_STRLEN:
            raise _invalid(f"{key} is {_size(key, value) - 1} bytes as {key}=VALUE; one config var can be at most "
                           f"{MAX_ARG_STRLEN - 1} bytes (Linux's MAX_ARG_STRLEN, the most exec accepts for one "
                           f"environment variable). Put large data in a file, an add-on or object storage, and its "
                           f"location in {key}.")
    config = {k: v for k, v in current.items() if k not in changes}
    config.update({k: v for k, v in changes.items() if v is not None})
    total = sum(_size(k, v) + POINTER for k, v in config.items())
    limit = arg_max() - HEADROOM
    if total > limit:
        largest = sorted(config, key=lambda k: -_size(k, config[k]))[:3]
        raise _invalid(f"With this change the app's config vars would take {total} bytes of a dyno's environment, "
                       f"and at most {limit} fit (ARG_MAX, {arg_max()} bytes here, less {HEADROOM} for what hoist "
                       f"adds). Unset or shorten config vars (the largest: "
                       f"{', '.join(f'{k} ({_size(k, config[k]) - 1} bytes)' for k in largest)}) and try again.")
    return config
