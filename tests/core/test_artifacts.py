from __future__ import annotations

import hashlib
import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.core.artifacts import ArtifactStore
from shipyard.core.errors import IntegrityError, InvalidParameterError, NotFoundError, PayloadTooLargeError

MiB = 1024 * 1024


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(str(tmp_path / "artifacts"), spool_dir=tmp_path / "spool")


def generated_chunks(total: int, chunk: int = MiB) -> Iterator[bytes]:
    """Deterministic, non-repeating bytes without holding them all: each chunk is a hash stream."""
    produced, counter = 0, 0
    while produced < total:
        size = min(chunk, total - produced)
        seed = hashlib.sha256(counter.to_bytes(8, "big")).digest()
        yield (seed * (size // 32 + 1))[:size]
        produced += size
        counter += 1


def blob_path(store: ArtifactStore, digest: str) -> Path:
    return Path(store._key(digest))


def test_round_trip_and_content_address(store: ArtifactStore) -> None:
    info = store.put_bytes(b"hello shipyard")
    assert info.digest == hashlib.sha256(b"hello shipyard").hexdigest()
    assert info.size == 14 and info.created
    assert store.read_bytes(info.digest) == b"hello shipyard"
    assert store.exists(info.digest) and store.size(info.digest) == 14
    assert blob_path(store, info.digest).relative_to(Path(store.root_url)).parts[:3] == (
        "blobs",
        "sha256",
        info.digest[:2],
    )


def test_identical_content_is_stored_once(store: ArtifactStore, tmp_path: Path) -> None:
    first = store.put_bytes(b"same bytes")
    second = store.put_stream(iter([b"same ", b"bytes"]))
    assert first.digest == second.digest
    assert first.created and not second.created
    blobs = [p for p in (tmp_path / "artifacts" / "blobs").rglob("*") if p.is_file()]
    assert len(blobs) == 1
    assert not any((tmp_path / "artifacts" / "tmp").iterdir()), "spool files must not be left behind"


def test_empty_blob(store: ArtifactStore) -> None:
    info = store.put_bytes(b"")
    assert info.size == 0 and store.read_bytes(info.digest) == b""


def test_tampered_blob_is_detected(store: ArtifactStore, tmp_path: Path) -> None:
    info = store.put_bytes(b"model weights v1")
    path = blob_path(store, info.digest)
    os.chmod(path, 0o644)
    path.write_bytes(b"model weights v2")
    with pytest.raises(IntegrityError, match="corrupt"):
        store.read_bytes(info.digest)
    with pytest.raises(IntegrityError):
        store.verify(info.digest)
    with pytest.raises(IntegrityError):
        store.download_to(info.digest, tmp_path / "out" / "model.bin")
    assert not (tmp_path / "out" / "model.bin").exists()
    assert list((tmp_path / "out").iterdir()) == [], "no partial download may remain"


def test_unknown_and_malformed_digests(store: ArtifactStore) -> None:
    with pytest.raises(NotFoundError):
        store.read_bytes("0" * 64)
    for bad in ["../../etc/passwd", "A" * 64, "abc", "0" * 63 + "/"]:
        with pytest.raises(InvalidParameterError, match="digest"):
            store.open(bad)


def test_size_limit_aborts_and_leaves_nothing(store: ArtifactStore, tmp_path: Path) -> None:
    with pytest.raises(PayloadTooLargeError):
        store.put_stream(generated_chunks(3 * MiB), max_bytes=2 * MiB)
    assert not (tmp_path / "artifacts" / "blobs").exists()
    assert not any((tmp_path / "artifacts" / "tmp").iterdir())


def test_failed_stream_leaves_nothing(store: ArtifactStore, tmp_path: Path) -> None:
    def broken() -> Iterator[bytes]:
        yield b"partial"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        store.put_stream(broken())
    assert not (tmp_path / "artifacts" / "blobs").exists()
    assert not any((tmp_path / "artifacts" / "tmp").iterdir())


@pytest.mark.slow
def test_large_file_streams_with_bounded_memory(store: ArtifactStore, tmp_path: Path) -> None:
    """A 210 MB blob goes in and out while Python allocations stay under a few MiB."""
    total = 210 * MiB
    expected = hashlib.sha256()
    for chunk in generated_chunks(total):
        expected.update(chunk)
    tracemalloc.start()
    try:
        info = store.put_stream(generated_chunks(total))
        _, peak_write = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        streamed = hashlib.sha256()
        for chunk in store.iter_chunks(info.digest):
            streamed.update(chunk)
        _, peak_read = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.digest == expected.hexdigest() == streamed.hexdigest()
    assert info.size == total
    assert peak_write < 16 * MiB, f"write peak {peak_write / MiB:.1f} MiB"
    assert peak_read < 16 * MiB, f"read peak {peak_read / MiB:.1f} MiB"
