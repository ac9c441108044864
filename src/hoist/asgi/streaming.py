"""A streaming response for endpoints that keep reading the request body
while they answer (git's receive-pack, the push endpoint).

Starlette's StreamingResponse listens for a disconnect by calling
`receive()`, which would swallow the body chunks the handler still needs."""
from __future__ import annotations

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send


class DuplexStreamingResponse(StreamingResponse):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.stream_response(send)
        if self.background is not None:
            await self.background()
