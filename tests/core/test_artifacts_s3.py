"""The artifact store on S3-compatible object storage, against a real moto server on loopback."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.core.artifacts import ArtifactStore
from shipyard.core.errors import IntegrityError
from shipyard.testing.servers import free_port

pytest.importorskip("s3fs", reason="the s3 extra is not installed")
moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed")


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_store(s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ArtifactStore:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    # No region: s3fs would then send a LocationConstraint, which us-east-1 (moto's default) refuses.
    options = {"endpoint_url": s3_endpoint, "key": "testing", "secret": "testing"}
    bucket = f"shipyard-{tmp_path.name.lower().replace('_', '-')[:40]}"
    store = ArtifactStore(f"s3://{bucket}/prefix", storage_options=options, spool_dir=tmp_path / "spool")
    store.fs.mkdir(bucket)
    return store


def test_s3_round_trip_dedup_and_probe(s3_store: ArtifactStore, tmp_path: Path) -> None:
    s3_store.check_writable()
    payload = b"x" * (3 * 1024 * 1024 + 17)
    first = s3_store.put_stream(iter([payload[:1000], payload[1000:]]))
    second = s3_store.put_bytes(payload)
    assert first.digest == second.digest == hashlib.sha256(payload).hexdigest()
    assert first.created and not second.created
    assert s3_store.size(first.digest) == len(payload)
    assert s3_store.read_bytes(first.digest) == payload
    assert not any((tmp_path / "spool").iterdir()), "the local spool is emptied after upload"


def test_s3_tampered_object_is_detected(s3_store: ArtifactStore) -> None:
    info = s3_store.put_bytes(b"original")
    s3_store.fs.pipe_file(s3_store._key(info.digest), b"replaced")
    with pytest.raises(IntegrityError):
        s3_store.read_bytes(info.digest)
