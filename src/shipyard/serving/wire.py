"""HTTP/1.1 for ``shipyard serve``: uvicorn's httptools protocol, answering inference POSTs without ASGI.

At one-row requests uvicorn's ASGI plumbing (the scope, a cycle object with its event, the receive
and send coroutines, header checks and encoding) costs more than the protocol codec, on the same
core as the event loop. This subclass takes one kind of request off that path: a POST to an
inference route whose body is announced by Content-Length within the limit, without
``Expect: 100-continue``, arriving when no other request is in flight on its connection. The parser
callbacks collect its body, ``FastPath.answer`` (the same code the ASGI path runs) makes the reply,
and one ``transport.write`` sends it. Everything else (other routes, chunked or oversized bodies,
a request pipelined behind another) takes uvicorn's own way to the same ``FastPath`` and app, so
this layer decides only how fast a request is answered, never what the answer is.
"""

from __future__ import annotations

import logging
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from shipyard.serving.fastpath import FastPath, Route, route
from shipyard.serving.protocols import Reply

__all__ = ["inference_protocol"]

logger = logging.getLogger(__name__)

_INTERNAL_ERROR = Reply(500, b'{"error_code":"INTERNAL_ERROR","message":"internal server error"}')


def inference_protocol(fast_path: FastPath) -> type[HttpToolsProtocol]:
    """The protocol class to give uvicorn (``http=``) for an app wrapped in ``fast_path``."""
    return type("InferenceProtocol", (_InferenceProtocol,), {"fast_path": fast_path})


class _NoEvent:
    """uvicorn sets its cycle's event when the connection drops; nothing waits on a fast request's."""

    def set(self) -> None:
        return None


class _FastCycle:
    """Stands in for uvicorn's request cycle while a fast request is in flight: uvicorn's connection
    handling (shutdown, connection loss, pipelining) reads and sets these attributes."""

    __slots__ = ("body", "disconnected", "headers", "keep_alive", "query", "response_complete", "route")
    message_event = _NoEvent()

    def __init__(self, found: Route, headers: dict[str, str], query: bytes, keep_alive: bool) -> None:
        self.route, self.headers, self.query, self.keep_alive = found, headers, query, keep_alive
        self.body: list[bytes] = []
        self.disconnected = False
        self.response_complete = False


class _InferenceProtocol(HttpToolsProtocol):
    fast_path: FastPath

    def on_headers_complete(self) -> None:
        fast = self._fast_cycle()
        if fast is None:
            super().on_headers_complete()
        else:
            self.cycle = fast  # type: ignore[assignment]

    def _fast_cycle(self) -> _FastCycle | None:
        parser = self.parser
        if parser.get_method() != b"POST" or self.expect_100_continue or parser.should_upgrade():
            return None
        if self.cycle is not None and not self.cycle.response_complete:
            return None  # pipelined behind a request in flight: uvicorn queues it in order
        url = httptools.parse_url(self.url)
        found = route(url.path.decode("latin-1"))
        if found is None:
            return None
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in self.headers}
        length = headers.get("content-length")
        if (
            length is None
            or not length.isdigit()
            or int(length) > self.fast_path.limit
            or "transfer-encoding" in headers
        ):
            return None  # the ASGI path streams it and answers 413 past the limit
        keep_alive = parser.get_http_version() != "1.0" and parser.should_keep_alive()
        return _FastCycle(found, headers, url.query or b"", keep_alive)

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if isinstance(cycle, _FastCycle):
            cycle.body.append(body)
        else:
            super().on_body(body)

    def on_message_complete(self) -> None:
        cycle = self.cycle
        if not isinstance(cycle, _FastCycle):
            super().on_message_complete()
            return
        task = self.loop.create_task(self._answer(cycle))
        task.add_done_callback(self.tasks.discard)
        self.tasks.add(task)

    async def _answer(self, cycle: _FastCycle) -> None:
        body = cycle.body[0] if len(cycle.body) == 1 else b"".join(cycle.body)

        async def read(limit: int) -> bytes:
            return body  # Content-Length, within the limit, was checked before the body came

        try:
            reply = await self.fast_path.answer(cycle.route, cycle.headers, cycle.query, read)
        except Exception:  # the protocols answer every error they know; this is a bug, logged
            logger.exception("inference request failed")
            reply, cycle.keep_alive = _INTERNAL_ERROR, False
        if not cycle.disconnected and not self.transport.is_closing():
            if self.flow.write_paused:
                await self.flow.drain()
            self.transport.write(self._encode(reply, cycle.keep_alive))
            if not cycle.keep_alive:
                self.transport.close()
        cycle.response_complete = True
        self.on_response_complete()

    def _encode(self, reply: Reply, keep_alive: bool) -> bytes:
        parts: list[Any] = [STATUS_LINE[reply.status]]
        for name, value in self.server_state.default_headers:
            parts += [name, b": ", value, b"\r\n"]
        parts += [
            b"content-type: ",
            reply.media_type.encode("latin-1"),
            b"\r\ncontent-length: ",
            str(len(reply.body)).encode(),
            b"\r\n",
        ]
        for name, value in reply.headers.items():
            parts.append(f"{name}: {value}\r\n".encode("latin-1"))
        if not keep_alive:
            parts.append(b"connection: close\r\n")
        parts += [b"\r\n", reply.body]
        return b"".join(parts)
