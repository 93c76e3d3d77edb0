"""Streaming request bodies into the artifact store and blobs back out, with bounded memory."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from shipyard.core.artifacts import CHUNK_SIZE, ArtifactStore, BlobInfo
from shipyard.core.errors import PayloadTooLargeError, UnsupportedMediaTypeError

__all__ = ["receive_blob", "send_blob"]

# Blobs up to this size are verified before the first byte is sent, so corruption is a clean error
# response; larger ones are verified while streaming and the connection is cut on a mismatch.
VERIFY_FIRST_LIMIT = 32 * 1024 * 1024
_ACCEPTED_TYPES = {"", "application/octet-stream", "binary/octet-stream"}


async def receive_blob(
    request: Request, store: ArtifactStore, *, max_bytes: int, any_content_type: bool = False
) -> BlobInfo:
    """Store the raw request body; nothing is kept if the client disconnects or the limit is hit.

    ``any_content_type`` is for clients (MLflow's) that label raw file bytes with a guessed type.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not any_content_type and content_type not in _ACCEPTED_TYPES:
        raise UnsupportedMediaTypeError(
            f"send the file's raw bytes as application/octet-stream; got Content-Type {content_type!r}",
            field="Content-Type",
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLargeError(
            f"upload of {declared} bytes exceeds the limit of {max_bytes} bytes (SHIPYARD_MAX_UPLOAD_BYTES)",
            field="body",
        )
    writer = await run_in_threadpool(store.writer, max_bytes=max_bytes)
    try:
        buffer = bytearray()
        async for chunk in request.stream():
            buffer += chunk
            if len(buffer) >= CHUNK_SIZE:
                await run_in_threadpool(writer.write, bytes(buffer))
                buffer.clear()
        if buffer:
            await run_in_threadpool(writer.write, bytes(buffer))
        return await run_in_threadpool(writer.commit)
    finally:
        await run_in_threadpool(writer.__exit__, None, None, None)


def _stream(store: ArtifactStore, digest: str) -> Iterator[bytes]:
    yield from store.iter_chunks(digest)


async def send_blob(store: ArtifactStore, digest: str, *, filename: str | None = None) -> StreamingResponse:
    size = await run_in_threadpool(store.size, digest)
    if size <= VERIFY_FIRST_LIMIT:
        await run_in_threadpool(store.verify, digest)
    headers = {"Content-Length": str(size), "ETag": f'"{digest}"', "X-Content-SHA256": digest}
    if filename:
        safe = filename.rsplit("/", 1)[-1].replace('"', "")
        headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    return StreamingResponse(_stream(store, digest), media_type="application/octet-stream", headers=headers)
