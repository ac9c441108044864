"""What a release that did not start (or went live crashing) tells the user: what failed (the release
phase, or a web dyno at boot), what to do, the failed dyno's last lines and how it exited. Pure.

The same lines go to the pusher, to the release's output (`releases:output`, Heroku's
`output_stream_url`) and, through the API, to every command that made the release."""
from __future__ import annotations

from collections.abc import Sequence

from hoist.dynos.commands import DeployResult

ERR = " !     "
OUT = "       "
SHOWN = 20  # lines of a failed dyno's output shown


def excerpt(lines: Sequence[str], limit: int = SHOWN) -> list[str]:
    """The lines that say why: the end of the first traceback (where the app failed; later ones are often
    the server giving up, as gunicorn's HaltServer), then the last lines. Pure."""
    lines = list(lines)
    if len(lines) <= limit:
        return lines
    start = next((i for i, ln in enumerate(lines) if ln.startswith("Traceback (most recent call last)")), None)
    end = None
    if start is not None:
        end = next((i for i in range(start + 1, len(lines)) if lines[i] and not lines[i][0].isspace()), None)
    if start is None or end is None or end >= len(lines) - limit:
        return lines[-limit:]
    head = lines[max(start + 1, end - 5): end + 1]
    return head + ["..."] + lines[-(limit - len(head) - 1):]


def short_reason(result: DeployResult) -> str:
    """One clause for a release's description: `web.1 exited with status 3 while booting`."""
    if result.failure == "boot" and result.exit_status:
        daemon = " (it daemonized)" if "daemonized" in result.message else ""
        return f"{result.dyno} exited with status {result.exit_status} while booting{daemon}"
    return result.message.split(";", 1)[0]


def headline(version: int, previous: int | None, result: DeployResult) -> str:
    """The first line: which release, what failed, and what serves now."""
    if result.failure == "release":
        return f"Release v{version} failed: {result.message}"
    if not result.ok:
        keeps = f"the previous release keeps serving (v{previous})" if previous else "nothing else was serving"
        return f"Release v{version} failed to boot, so it was not deployed; {keeps}."
    return (f"Release v{version} is live, but {result.dyno or 'web'} crashed while booting: requests get H10 (App "
            "crashed) until it starts. hoist restarts it with backoff, and every config change or add-on restarts "
            "it too.")


def report(version: int, previous: int | None, result: DeployResult, hints: Sequence[str], *,
           lines_shown: bool = False) -> list[str]:
    """The report's lines, prefixed as build output is. `lines_shown`: the dyno's output already reached the
    reader (a release phase streams to the pusher), so it is not repeated."""
    out = [ERR + headline(version, previous, result)]
    if result.failure == "boot" and result.message != short_reason(result):
        out.append(ERR + result.message)
    out += [ERR + "Hint: " + h for h in hints]
    if result.dyno and not lines_shown:
        if result.lines:
            out.append(ERR + f"The last lines of {result.dyno}:")
            out += [OUT + line for line in excerpt(result.lines)]
        else:
            out.append(ERR + f"{result.dyno} printed nothing.")
    if result.exit_status:
        out.append(ERR + f"{result.dyno} exited with status {result.exit_status}"
                   + (" while booting." if result.failure == "boot" else "."))
    return out


def one_line(result: DeployResult, hints: Sequence[str]) -> str:
    """The message an API header carries (the full report is in the release's output)."""
    return "; ".join([result.message, *(f"hint: {h}" for h in hints[:1])])
