"""The artifact-file router factory, mounted for a test owner, over a real server."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy.orm import Session

from shipyard.core.errors import NotFoundError
from shipyard.core.file_routes import artifact_file_routes
from shipyard.core.platform import Platform
from shipyard.server import create_app
from shipyard.testing.servers import live_server
from tests import live_http
from tests.core.test_paths import UNSAFE_PATHS

OWNERS = {"run-1", "run-2"}


def check_owner(_: Session, owner_id: str) -> None:
    if owner_id not in OWNERS:
        raise NotFoundError(f"notebook {owner_id!r} does not exist", field="owner_id")


@pytest.fixture
def files_url(platform: Platform) -> Iterator[str]:
    app = create_app(platform=platform)
    app.include_router(
        artifact_file_routes(owner_type="notebook", prefix="/api/v1/notebooks", check_owner=check_owner)
    )
    with live_server(app) as url:
        yield f"{url}/api/v1/notebooks"


def blob_files(platform: Platform) -> list[Path]:
    root = Path(platform.settings.artifact_root) / "blobs"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_upload_list_download(files_url: str, platform: Platform) -> None:
    put = live_http.put(
        f"{files_url}/run-1/artifacts", params={"path": "model/weights.bin"}, content=b"w" * 1000
    )
    assert put.status_code == 201, put.text
    assert put.json()["digest"] == hashlib.sha256(b"w" * 1000).hexdigest()
    live_http.put(
        f"{files_url}/run-1/artifacts", params={"path": "notes.txt"}, content=b"hello"
    ).raise_for_status()
    live_http.put(f"{files_url}/run-2/artifacts", params={"path": "model/weights.bin"}, content=b"w" * 1000)
    listed = live_http.get(f"{files_url}/run-1/artifacts").json()["files"]
    assert [f["path"] for f in listed] == ["model/weights.bin", "notes.txt"]
    assert [
        f["path"]
        for f in live_http.get(f"{files_url}/run-1/artifacts", params={"prefix": "model"}).json()["files"]
    ] == ["model/weights.bin"]
    got = live_http.get(f"{files_url}/run-1/artifacts/content", params={"path": "notes.txt"})
    assert got.content == b"hello"
    assert got.headers["content-disposition"] == 'attachment; filename="notes.txt"'
    assert len(blob_files(platform)) == 3, "two owners' identical file is stored once (plus the probe blob)"


def test_reupload_replaces_the_file(files_url: str) -> None:
    for content in (b"v1", b"v2"):
        live_http.put(
            f"{files_url}/run-1/artifacts", params={"path": "a.txt"}, content=content
        ).raise_for_status()
    assert live_http.get(f"{files_url}/run-1/artifacts/content", params={"path": "a.txt"}).content == b"v2"


def test_unknown_owner_and_file_are_404(files_url: str) -> None:
    missing_owner = live_http.put(f"{files_url}/nope/artifacts", params={"path": "a.txt"}, content=b"x")
    assert missing_owner.status_code == 404 and missing_owner.json()["field"] == "owner_id"
    missing_file = live_http.get(f"{files_url}/run-1/artifacts/content", params={"path": "absent.txt"})
    assert missing_file.status_code == 404 and missing_file.json()["field"] == "path"


@pytest.mark.parametrize(("path", "fragment"), UNSAFE_PATHS, ids=[repr(p)[:40] for p, _ in UNSAFE_PATHS])
def test_unsafe_paths_are_400_over_http_and_store_nothing(
    files_url: str, platform: Platform, path: str, fragment: str
) -> None:
    before = blob_files(platform)
    # Percent-encode everything ourselves so that the client does not normalise '..' away.
    raw_query = "path=" + quote(path, safe="")
    with live_http.Client() as client:
        response = client.put(f"{files_url}/run-1/artifacts?{raw_query}", content=b"payload")
    assert response.status_code in (400, 422), response.text
    body = response.json()
    assert body["field"] == "path"
    if response.status_code == 400:
        assert fragment in body["message"]
    assert blob_files(platform) == before
    assert live_http.get(f"{files_url}/run-1/artifacts").json()["files"] == []


def test_wrong_content_type_is_415(files_url: str) -> None:
    response = live_http.put(
        f"{files_url}/run-1/artifacts", params={"path": "a.txt"}, files={"file": ("a.txt", b"x")}
    )
    assert response.status_code == 415
    assert response.json()["error_code"] == "UNSUPPORTED_MEDIA_TYPE"
