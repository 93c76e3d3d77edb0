"""Pure ASGI middleware: request ids, one access-log line per request, JSON body size limit."""

from __future__ import annotations

import logging
import re
import time
import uuid
from urllib.parse import parse_qsl

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipyard.core.audit import current_request_id

__all__ = ["RequestContextMiddleware"]

logger = logging.getLogger("shipyard.access")
_VALID_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


def _nul_field(scope: Scope) -> str | None:
    """The query parameter (or 'path') that carries a NUL byte; no database can store one."""
    if "\x00" in scope["path"]:
        return "path"
    query = scope.get("query_string", b"")
    if b"%00" not in query:
        return None
    for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in key or "\x00" in value:
            return key.replace("\x00", "") or "query"
    return "query"


class RequestContextMiddleware:
    """Gives every request an id (a sane ``X-Request-ID`` from the caller is kept) and logs it."""

    def __init__(self, app: ASGIApp, *, max_json_bytes: int) -> None:
        self.app = app
        self.max_json_bytes = max_json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _VALID_ID.match(given) else uuid.uuid4().hex
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        status = 500

        status_sent = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, status_sent
            if message["type"] == "http.response.start":
                status, status_sent = message["status"], True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            if self._json_too_large(headers):
                await self._reject(
                    send_with_id,
                    request_id,
                    413,
                    "PAYLOAD_TOO_LARGE",
                    f"JSON body exceeds the limit of {self.max_json_bytes} bytes",
                    "body",
                )
            elif (field := _nul_field(scope)) is not None:
                await self._reject(
                    send_with_id,
                    request_id,
                    400,
                    "INVALID_PARAMETER_VALUE",
                    f"{field} must not contain NUL bytes (%00)",
                    field,
                )
            else:
                await self.app(scope, receive, send_with_id)
        except Exception:
            # Answer here rather than in Starlette's outermost handler, so the body keeps the request id.
            logger.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if status_sent:
                raise
            await self._reject(
                send_with_id,
                request_id,
                500,
                "INTERNAL_ERROR",
                "internal error; the server log has details under this request id",
                "",
            )
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            logger.info(
                "%s %s %d %.1fms",
                scope["method"],
                scope["path"],
                status,
                elapsed_ms,
                extra={
                    "status": status,
                    "duration_ms": round(elapsed_ms, 2),
                    "method": scope["method"],
                    "path": scope["path"],
                },
            )
            current_request_id.reset(token)

    def _json_too_large(self, headers: dict[bytes, bytes]) -> bool:
        content_type = headers.get(b"content-type", b"")
        length = headers.get(b"content-length", b"")
        return b"json" in content_type and length.isdigit() and int(length) > self.max_json_bytes

    @staticmethod
    async def _reject(send: Send, request_id: str, status: int, code: str, message: str, field: str) -> None:
        body = orjson.dumps(
            {"error_code": code, "message": message, "field": field or None, "request_id": request_id}
        )
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
