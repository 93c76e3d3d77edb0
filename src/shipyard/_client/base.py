"""The one method set of the SDK, implemented in-process (embedded) and over REST (remote)."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO

from shipyard.core.schemas import (
    AuditEventPublic,
    AuditEventsPublic,
    BlobPublic,
    HealthPublic,
    ReadyPublic,
    TokenCreated,
    TokenPublic,
    VersionPublic,
)
from shipyard.models.sdk import ModelMethods
from shipyard.monitoring.sdk import MonitorMethods
from shipyard.registry.sdk import RegistryMethods
from shipyard.serving.sdk import ServingMethods
from shipyard.tracking.sdk import TrackingMethods
from shipyard.usecases.sdk import UseCaseMethods

__all__ = ["BaseClient"]


class BaseClient(
    TrackingMethods, RegistryMethods, ModelMethods, ServingMethods, MonitorMethods, UseCaseMethods, abc.ABC
):
    """Methods every client has, with the same signatures and return types in both modes."""

    @abc.abstractmethod
    def health(self) -> HealthPublic: ...

    @abc.abstractmethod
    def ready(self) -> ReadyPublic: ...

    @abc.abstractmethod
    def version(self) -> VersionPublic: ...

    # tokens
    @abc.abstractmethod
    def create_token(self, name: str, role: str, *, expires_in_days: int | None = None) -> TokenCreated: ...

    @abc.abstractmethod
    def list_tokens(self, *, include_revoked: bool = False) -> list[TokenPublic]: ...

    @abc.abstractmethod
    def revoke_token(self, token_id: str) -> TokenPublic: ...

    # audit
    @abc.abstractmethod
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
    ) -> AuditEventsPublic: ...

    def iter_audit(self, *, max_events: int | None = None, **filters: object) -> Iterator[AuditEventPublic]:
        """Every matching audit event, newest first, fetching page after page."""
        page_token: str | None = None
        seen = 0
        while True:
            page = self.list_audit(page_token=page_token, max_results=1000, **filters)  # type: ignore[arg-type]
            for event in page.events:
                if max_events is not None and seen >= max_events:
                    return
                seen += 1
                yield event
            if not page.next_page_token:
                return
            page_token = page.next_page_token

    # blobs
    @abc.abstractmethod
    def upload_blob(self, source: str | Path | bytes | IO[bytes]) -> BlobPublic: ...

    @abc.abstractmethod
    def download_blob(self, digest: str, destination: str | Path) -> Path: ...

    def read_blob(self, digest: str) -> bytes:
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            return self.download_blob(digest, Path(folder) / "blob").read_bytes()

    # lifecycle
    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> BaseClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
