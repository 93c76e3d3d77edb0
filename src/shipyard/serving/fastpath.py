"""The inference routes of ``shipyard serve`` as plain ASGI, in front of the FastAPI app.

At one-row requests the framework's middleware stack and router cost several times what the
protocol codec does, and that time is taken from the model (it shares the interpreter lock).
This layer answers the three inference POSTs itself, through the same ``serving.protocols``
functions as the documented FastAPI routes; everything else (metadata, health, feedback, metrics,
bad methods) falls through to the app, so behaviour and documentation stay in one place.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from shipyard.core.errors import (
    AuthenticationError,
    PermissionDeniedError,
    ShipyardError,
)
from shipyard.serving import protocols
from shipyard.serving.http import BodyLimit
from shipyard.serving.manager import ServingManager

__all__ = ["FastPath"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Authorize = Callable[[dict[str, str]], Awaitable[None]]

_V2 = re.compile(r"^/v2/models/([^/]+)(?:/versions/([^/]+))?/infer$")
_NATIVE = re.compile(r"^/endpoints/([^/]+)/predict$")
_INVOCATIONS = re.compile(r"^/(?:endpoints/([^/]+)/)?invocations$")


class FastPath:
    def __init__(
        self,
        app: ASGIApp,
        manager: ServingManager,
        *,
        max_body_bytes: int,
        authorize: Authorize | None = None,
    ) -> None:
        self.app = app
        self.manager = manager
        self.limit = max_body_bytes
        self.authorize = authorize

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        v2 = native = invoke = None
        if (v2 := _V2.match(path)) is None and (native := _NATIVE.match(path)) is None:
            invoke = _INVOCATIONS.match(path)
            if invoke is None:
                await self.app(scope, receive, send)
                return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        reader = _reader(headers, receive)
        try:
            if self.authorize is not None:
                await self.authorize(headers)
            if v2 is not None:
                version = unquote(v2.group(2)) if v2.group(2) else None
                reply = await protocols.v2_infer(
                    self.manager, unquote(v2.group(1)), version, headers, reader, self.limit
                )
            elif native is not None:
                query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
                reply = await protocols.native_predict(
                    self.manager, unquote(native.group(1)), headers, query, reader, self.limit
                )
            else:
                assert invoke is not None
                name = unquote(invoke.group(1)) if invoke.group(1) else None
                reply = await protocols.invocations(self.manager, name, headers, reader, self.limit)
        except (AuthenticationError, PermissionDeniedError) as exc:
            reply = protocols.platform_error(exc)
            reply.headers["www-authenticate"] = "Bearer"
        except ShipyardError as exc:  # e.g. an unknown endpoint before any protocol took over
            reply = protocols.platform_error(exc)
        raw_headers = [
            (b"content-type", reply.media_type.encode()),
            (b"content-length", str(len(reply.body)).encode()),
        ]
        raw_headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers.items())
        await send({"type": "http.response.start", "status": reply.status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": reply.body})


def _reader(headers: dict[str, str], receive: Receive) -> Callable[[int], Awaitable[bytes]]:
    async def read(limit: int) -> bytes:
        counter = BodyLimit(limit, headers.get("content-length"))
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ShipyardError("the client went away before sending the whole body")
            chunk = message.get("body", b"")
            counter.add(chunk)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    return read
