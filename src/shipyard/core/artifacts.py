"""Content-addressed blob store over fsspec (a local folder by default, S3-compatible storage too).

Every blob lives under ``blobs/sha256/<aa>/<bb>/<digest>``, a key the server derives from the bytes.
Writes stream through a local spool file while hashing (memory stays bounded whatever the size),
then become visible atomically: ``os.replace`` on a local root, one object PUT on an object store.
Identical content is stored once. Reads hash as they stream and raise ``IntegrityError`` if the
bytes no longer match their name.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from shipyard.core.errors import (
    ConfigurationError,
    IntegrityError,
    InvalidParameterError,
    NotFoundError,
    PayloadTooLargeError,
)

__all__ = ["ArtifactStore", "BlobInfo", "BlobWriter", "VerifyingReader"]

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class BlobInfo:
    digest: str
    size: int
    created: bool  # False when identical content was already stored


def check_digest(digest: str, *, field: str = "digest") -> str:
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise InvalidParameterError(
            f"{field} must be 64 lowercase hexadecimal characters (a SHA-256); got {str(digest)[:80]!r}",
            field=field,
        )
    return digest


class ArtifactStore:
    """Blobs addressed by SHA-256 under ``root`` (a folder or an fsspec URL such as ``s3://b/p``)."""

    def __init__(self, root: str, *, storage_options: dict[str, Any] | None = None, spool_dir: Path) -> None:
        self.root_url = root
        try:
            self.fs, self._root = fsspec.core.url_to_fs(root, **(storage_options or {}))
        except (ImportError, ValueError) as exc:
            raise ConfigurationError(
                f"SHIPYARD_ARTIFACT_ROOT: cannot open {root!r}: {exc}", field="artifact_root"
            ) from None
        self._root = self._root.rstrip("/")
        self.is_local = isinstance(self.fs, LocalFileSystem)
        # A local root spools inside itself so that the final rename never crosses filesystems.
        self._spool_dir = Path(self._root) / "tmp" if self.is_local else spool_dir

    def _key(self, digest: str) -> str:
        return f"{self._root}/blobs/sha256/{digest[:2]}/{digest[2:4]}/{digest}"

    def check_writable(self) -> None:
        """Raise ``ConfigurationError`` unless a blob can be written and read back here."""
        try:
            self._spool_dir.mkdir(parents=True, exist_ok=True)
            probe = self.put_bytes(b"shipyard artifact store probe\n")
            self.verify(probe.digest)
        except ConfigurationError:
            raise
        except Exception as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise ConfigurationError(
                f"SHIPYARD_ARTIFACT_ROOT: {self.root_url} is not writable: {reason}", field="artifact_root"
            ) from None

    # -- writing ---------------------------------------------------------------------------------
    def writer(self, *, max_bytes: int | None = None) -> BlobWriter:
        return BlobWriter(self, max_bytes=max_bytes)

    def put_stream(self, chunks: Iterable[bytes] | IO[bytes], *, max_bytes: int | None = None) -> BlobInfo:
        """Store a stream of bytes; at most one chunk is held in memory."""
        with self.writer(max_bytes=max_bytes) as writer:
            if hasattr(chunks, "read"):
                while chunk := chunks.read(CHUNK_SIZE):  # type: ignore[union-attr]
                    writer.write(chunk)
            else:
                for chunk in chunks:  # type: ignore[union-attr]
                    writer.write(chunk)
            return writer.commit()

    def put_bytes(self, data: bytes) -> BlobInfo:
        return self.put_stream([data])

    def put_file(self, path: str | os.PathLike[str]) -> BlobInfo:
        with open(path, "rb") as handle:
            return self.put_stream(handle)

    def _publish(self, spool_path: Path, digest: str) -> bool:
        key = self._key(digest)
        if self.fs.exists(key):
            return False
        if self.is_local:
            Path(key).parent.mkdir(parents=True, exist_ok=True)
            os.chmod(spool_path, 0o444)
            os.replace(spool_path, key)
        else:
            self.fs.put_file(str(spool_path), key)
        return True

    # -- reading ---------------------------------------------------------------------------------
    def exists(self, digest: str) -> bool:
        return bool(self.fs.exists(self._key(check_digest(digest))))

    def size(self, digest: str) -> int:
        try:
            return int(self.fs.size(self._key(check_digest(digest))))
        except FileNotFoundError:
            raise NotFoundError(f"artifact blob {digest} does not exist", field="digest") from None

    def open(self, digest: str) -> VerifyingReader:
        """A reader that raises ``IntegrityError`` at the end if the bytes do not hash to ``digest``."""
        key = self._key(check_digest(digest))
        try:
            handle = self.fs.open(key, "rb")
        except FileNotFoundError:
            raise NotFoundError(f"artifact blob {digest} does not exist", field="digest") from None
        return VerifyingReader(handle, digest)

    def iter_chunks(self, digest: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        with self.open(digest) as reader:
            while chunk := reader.read(chunk_size):
                yield chunk

    def read_bytes(self, digest: str) -> bytes:
        with self.open(digest) as reader:
            return reader.read()

    def verify(self, digest: str) -> None:
        for _ in self.iter_chunks(digest):
            pass

    def download_to(self, digest: str, destination: str | os.PathLike[str]) -> Path:
        """Copy a verified blob to a local file, atomically; a corrupt blob leaves nothing behind."""
        destination = Path(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=".shipyard-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in self.iter_chunks(digest):
                    out.write(chunk)
            os.replace(tmp, destination)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return destination

    def delete(self, digest: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self._key(check_digest(digest)))


class BlobWriter:
    """Incremental writer: ``write`` chunks, then ``commit`` (or leave the ``with`` block to abort)."""

    def __init__(self, store: ArtifactStore, *, max_bytes: int | None) -> None:
        self._store = store
        self._max_bytes = max_bytes
        self._hash = hashlib.sha256()
        self.size = 0
        store._spool_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=store._spool_dir, prefix="upload-")
        self._path = Path(name)
        self._file: IO[bytes] | None = os.fdopen(fd, "wb")
        self._result: BlobInfo | None = None

    def write(self, chunk: bytes) -> None:
        if self._file is None:
            raise RuntimeError("blob writer is closed")
        self.size += len(chunk)
        if self._max_bytes is not None and self.size > self._max_bytes:
            self.abort()
            raise PayloadTooLargeError(
                f"upload exceeds the limit of {self._max_bytes} bytes (SHIPYARD_MAX_UPLOAD_BYTES)",
                field="body",
            )
        self._hash.update(chunk)
        self._file.write(chunk)

    def commit(self) -> BlobInfo:
        if self._result is not None:
            return self._result
        if self._file is None:
            raise RuntimeError("blob writer was aborted")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        digest = self._hash.hexdigest()
        try:
            created = self._store._publish(self._path, digest)
        finally:
            with contextlib.suppress(FileNotFoundError):
                self._path.unlink()
        self._result = BlobInfo(digest=digest, size=self.size, created=created)
        if created:
            logger.debug("stored blob %s (%d bytes)", digest, self.size)
        return self._result

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._result is None:
            self.abort()


class VerifyingReader:
    """File-like reader that hashes what it returns and checks the digest at end of file."""

    def __init__(self, handle: IO[bytes], digest: str) -> None:
        self._handle = handle
        self._digest = digest
        self._hash = hashlib.sha256()
        self._checked = False

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        if data:
            self._hash.update(data)
        elif not self._checked:
            self._checked = True
            actual = self._hash.hexdigest()
            if actual != self._digest:
                raise IntegrityError(
                    f"artifact blob {self._digest} is corrupt: its content hashes to {actual}; "
                    "restore it from a backup or re-upload it",
                    field="digest",
                )
        if size < 0 and data:
            return data + self.read()  # reach end of file so the check runs
        return data

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> VerifyingReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
