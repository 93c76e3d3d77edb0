"""The SDK over REST (httpx). Server errors come back as the same ``ShipyardError`` classes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import httpx

from shipyard._client.base import BaseClient
from shipyard._version import __version__
from shipyard.core import errors
from shipyard.core.errors import IntegrityError, ShipyardError
from shipyard.core.schemas import (
    AuditEventsPublic,
    BlobPublic,
    HealthPublic,
    ReadyPublic,
    TokenCreated,
    TokenPublic,
    TokensPublic,
    VersionPublic,
)
from shipyard.models.sdk import RemoteModelMethods
from shipyard.monitoring.sdk import RemoteMonitorMethods
from shipyard.registry.sdk import RemoteRegistryMethods
from shipyard.serving.sdk import RemoteServingMethods
from shipyard.tracking.sdk import RemoteTrackingMethods
from shipyard.usecases.sdk import RemoteUseCaseMethods

__all__ = ["RemoteClient"]

_ERRORS_BY_CODE: dict[str, type[ShipyardError]] = {
    cls.error_code: cls
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, ShipyardError)
}
_ERRORS_BY_STATUS: dict[int, type[ShipyardError]] = {
    400: errors.InvalidParameterError,
    401: errors.AuthenticationError,
    403: errors.PermissionDeniedError,
    404: errors.NotFoundError,
    409: errors.ConflictError,
    413: errors.PayloadTooLargeError,
    415: errors.UnsupportedMediaTypeError,
    422: errors.InvalidParameterError,
    503: errors.StoreUnavailableError,
}


def raise_for_error(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        body = response.json()
        code, message, field = body.get("error_code"), body.get("message"), body.get("field")
    except ValueError:
        code, message, field = None, response.text[:500] or response.reason_phrase, None
    cls = _ERRORS_BY_CODE.get(code or "") or _ERRORS_BY_STATUS.get(response.status_code, ShipyardError)
    raise cls(f"{message} (HTTP {response.status_code} from {response.request.url.path})", field=field)


class RemoteClient(
    RemoteTrackingMethods,
    RemoteRegistryMethods,
    RemoteModelMethods,
    RemoteServingMethods,
    RemoteMonitorMethods,
    RemoteUseCaseMethods,
    BaseClient,
):
    def __init__(self, url: str, *, token: str | None = None, timeout: float = 60.0) -> None:
        headers = {"User-Agent": f"shipyard-python/{__version__}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=10.0),
            transport=httpx.HTTPTransport(retries=3),
        )

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise errors.StoreUnavailableError(
                f"cannot reach Shipyard at {self.url}: {exc}", field="url"
            ) from None
        raise_for_error(response)
        return response

    def health(self) -> HealthPublic:
        return HealthPublic.model_validate(self._request("GET", "/health").json())

    def ready(self) -> ReadyPublic:
        return ReadyPublic.model_validate(self._request("GET", "/ready").json())

    def version(self) -> VersionPublic:
        return VersionPublic.model_validate(self._request("GET", "/version").json())

    def create_token(self, name: str, role: str, *, expires_in_days: int | None = None) -> TokenCreated:
        body = {"name": name, "role": role, "expires_in_days": expires_in_days}
        return TokenCreated.model_validate(self._request("POST", "/api/v1/tokens", json=body).json())

    def list_tokens(self, *, include_revoked: bool = False) -> list[TokenPublic]:
        response = self._request("GET", "/api/v1/tokens", params={"include_revoked": include_revoked})
        return TokensPublic.model_validate(response.json()).tokens

    def revoke_token(self, token_id: str) -> TokenPublic:
        return TokenPublic.model_validate(self._request("DELETE", f"/api/v1/tokens/{token_id}").json())

    def list_audit(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        object_type: str | None = None,
        object_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> AuditEventsPublic:
        params = {
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "max_results": max_results,
            "page_token": page_token,
        }
        response = self._request(
            "GET", "/api/v1/audit", params={k: v for k, v in params.items() if v is not None}
        )
        return AuditEventsPublic.model_validate(response.json())

    def upload_blob(self, source: str | Path | bytes | IO[bytes]) -> BlobPublic:
        headers = {"Content-Type": "application/octet-stream"}
        if isinstance(source, str | Path):
            with open(source, "rb") as handle:
                response = self._request("POST", "/api/v1/blobs", content=handle, headers=headers)
        else:
            response = self._request("POST", "/api/v1/blobs", content=source, headers=headers)
        return BlobPublic.model_validate(response.json())

    def download_blob(self, digest: str, destination: str | Path) -> Path:
        """Stream a blob to ``destination``, checking its SHA-256 here too; nothing is left on a mismatch."""
        return self._download(f"/api/v1/blobs/{digest}", destination, expected_digest=digest)

    def _download(
        self,
        path: str,
        destination: str | Path,
        *,
        params: dict[str, str] | None = None,
        expected_digest: str | None = None,
    ) -> Path:
        """Stream a file to ``destination`` atomically, verified against the digest the server names."""
        destination = Path(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=".shipyard-")
        hasher = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out, self._http.stream("GET", path, params=params) as response:
                if not response.is_success:
                    response.read()
                    raise_for_error(response)
                expected = expected_digest or response.headers.get("x-content-sha256")
                for chunk in response.iter_bytes(1024 * 1024):
                    hasher.update(chunk)
                    out.write(chunk)
            if expected and hasher.hexdigest() != expected:
                raise IntegrityError(
                    f"downloaded bytes hash to {hasher.hexdigest()}, not {expected}", field="digest"
                )
            os.replace(tmp, destination)
        except httpx.TransportError as exc:
            raise errors.StoreUnavailableError(f"download of {path} broke off: {exc}", field="path") from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return destination

    def close(self) -> None:
        self._http.close()
