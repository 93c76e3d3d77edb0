"""The inference routes of ``shipyard serve`` as plain ASGI, in front of the FastAPI app.

At one-row requests the framework's middleware stack and router cost several times what the
protocol codec does, and that time is taken from the model (it shares the interpreter lock).
This layer answers the three inference POSTs itself, through the same ``serving.protocols``
functions as the documented FastAPI routes; everything else (metadata, health, feedback, metrics,
bad methods) falls through to the app, so behaviour and documentation stay in one place. ``route``
and ``FastPath.answer`` are also what ``serving.wire`` calls for requests it takes before ASGI.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
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

__all__ = ["FastPath", "Route", "route"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Authorize = Callable[[dict[str, str]], Awaitable[None]]

_V2 = re.compile(r"^/v2/models/([^/]+)(?:/versions/([^/]+))?/infer$")
_NATIVE = re.compile(r"^/endpoints/([^/]+)/predict$")
_INVOCATIONS = re.compile(r"^/(?:endpoints/([^/]+)/)?invocations$")


@dataclass(frozen=True, slots=True)
class Route:
    """Which inference call a POST path names: the protocol, the endpoint (None: the only one) and version."""

    protocol: str  # "v2", "native" or "mlflow"
    name: str | None
    version: str | None = None


def route(path: str) -> Route | None:
    """The inference call of a POST to ``path``, or None when it is not one."""
    if (v2 := _V2.match(path)) is not None:
        return Route("v2", unquote(v2.group(1)), unquote(v2.group(2)) if v2.group(2) else None)
    if (native := _NATIVE.match(path)) is not None:
        return Route("native", unquote(native.group(1)))
    if (invoke := _INVOCATIONS.match(path)) is not None:
        return Route("mlflow", unquote(invoke.group(1)) if invoke.group(1) else None)
    return None


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
        found = route(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        reply = await self.answer(found, headers, scope.get("query_string", b""), _reader(headers, receive))
        raw_headers = [
            (b"content-type", reply.media_type.encode()),
            (b"content-length", str(len(reply.body)).encode()),
        ]
        raw_headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers.items())
        await send({"type": "http.response.start", "status": reply.status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": reply.body})

    async def answer(
        self, found: Route, headers: dict[str, str], query_string: bytes, reader: protocols.BodyReader
    ) -> protocols.Reply:
        """The reply to one inference call; errors become replies in the protocol's own shape."""
        try:
            if self.authorize is not None:
                await self.authorize(headers)
            if found.protocol == "v2":
                assert found.name is not None
                return await protocols.v2_infer(
                    self.manager, found.name, found.version, headers, reader, self.limit
                )
            if found.protocol == "native":
                assert found.name is not None
                query = dict(parse_qsl(query_string.decode("latin-1")))
                return await protocols.native_predict(
                    self.manager, found.name, headers, query, reader, self.limit
                )
            return await protocols.invocations(self.manager, found.name, headers, reader, self.limit)
        except (AuthenticationError, PermissionDeniedError) as exc:
            reply = protocols.platform_error(exc)
            reply.headers["www-authenticate"] = "Bearer"
            return reply
        except ShipyardError as exc:  # e.g. an unknown endpoint before any protocol took over
            return protocols.platform_error(exc)


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
