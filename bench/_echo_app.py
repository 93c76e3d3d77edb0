"""The HTTP ceiling for bench/serving.py: a bare ASGI app that reads the body and answers a fixed reply.

Run as ``uvicorn _echo_app:app --app-dir bench --loop uvloop --http httptools --no-access-log
--lifespan off``. No framework, no parsing, no model: what uvicorn alone costs per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["app"]

Message = MutableMapping[str, Any]
REPLY = b'{"predictions":[0]}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(REPLY)).encode())]


async def app(
    scope: Message, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:  # read the whole request body, as a real endpoint must
        message = await receive()
        more = bool(message.get("more_body", False))
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": REPLY})
