"""The platform's loops that run beside the API once the apps are restored (the metrics history, Heroku
Scheduler's runs, the connected repositories' polling): started by name, cancelled together at stop."""
from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class Background:
    def __init__(self) -> None:
        self.tasks: dict[str, asyncio.Task[Any]] = {}

    def start(self, name: str, loop: Coroutine[Any, Any, Any]) -> None:
        self.tasks[name] = asyncio.create_task(loop, name=name)

    async def stop(self) -> None:
        """Cancel every loop, in the order they started, and wait until each has ended (a loop's last write,
        such as the metrics of the minute hoist stops in, is kept)."""
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        self.tasks.clear()
