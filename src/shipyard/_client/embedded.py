"""The SDK in-process: calls the services directly on the local store, as the local operator."""

from __future__ import annotations

import platform as py_platform
from datetime import datetime
from pathlib import Path
from typing import IO

from shipyard._client.base import BaseClient
from shipyard._version import __version__
from shipyard.core import audit, auth, migrate
from shipyard.core.auth import LOCAL_ADMIN, Principal, Role
from shipyard.core.platform import Platform
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
from shipyard.models.sdk import EmbeddedModelMethods
from shipyard.monitoring.sdk import EmbeddedMonitorMethods
from shipyard.registry.sdk import EmbeddedRegistryMethods
from shipyard.serving.sdk import EmbeddedServingMethods
from shipyard.tracking.sdk import EmbeddedTrackingMethods
from shipyard.usecases.sdk import EmbeddedUseCaseMethods

__all__ = ["EmbeddedClient"]


class EmbeddedClient(
    EmbeddedTrackingMethods,
    EmbeddedRegistryMethods,
    EmbeddedModelMethods,
    EmbeddedServingMethods,
    EmbeddedMonitorMethods,
    EmbeddedUseCaseMethods,
    BaseClient,
):
    def __init__(
        self, platform: Platform, *, actor: Principal = LOCAL_ADMIN, owns_platform: bool = True
    ) -> None:
        self.platform = platform
        self.actor = actor
        self._owns_platform = owns_platform

    def health(self) -> HealthPublic:
        return HealthPublic()

    def ready(self) -> ReadyPublic:
        self.platform.database.ping()
        status = migrate.schema_status(self.platform.database)
        return ReadyPublic(
            status="ready" if status.up_to_date else "migrations pending",
            database="ok",
            schema_revision=status.current,
            schema_head=status.head,
        )

    def version(self) -> VersionPublic:
        return VersionPublic(version=__version__, python=py_platform.python_version())

    def create_token(self, name: str, role: str, *, expires_in_days: int | None = None) -> TokenCreated:
        with self.platform.database.session(write=True) as session:
            token, secret = auth.create_token(
                session, actor=self.actor, name=name, role=role, expires_in_days=expires_in_days
            )
            return TokenCreated(token=TokenPublic.model_validate(token), secret=secret)

    def list_tokens(self, *, include_revoked: bool = False) -> list[TokenPublic]:
        auth.require_role(self.actor, Role.ADMIN)
        with self.platform.database.session() as session:
            return [
                TokenPublic.model_validate(t)
                for t in auth.list_tokens(session, include_revoked=include_revoked)
            ]

    def revoke_token(self, token_id: str) -> TokenPublic:
        with self.platform.database.session(write=True) as session:
            return TokenPublic.model_validate(auth.revoke_token(session, actor=self.actor, token_id=token_id))

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
        with self.platform.database.session() as session:
            page = audit.list_events(
                session,
                actor=actor,
                action=action,
                object_type=object_type,
                object_id=object_id,
                since=since,
                until=until,
                max_results=max_results,
                page_token=page_token,
            )
            return AuditEventsPublic(
                events=[AuditEventPublic.model_validate(e) for e in page.events],
                next_page_token=page.next_page_token,
            )

    def upload_blob(self, source: str | Path | bytes | IO[bytes]) -> BlobPublic:
        auth.require_role(self.actor, Role.EDITOR)
        store = self.platform.artifacts
        limit = self.platform.settings.max_upload_bytes
        if isinstance(source, bytes):
            info = store.put_stream([source], max_bytes=limit)
        elif isinstance(source, str | Path):
            with open(source, "rb") as handle:
                info = store.put_stream(handle, max_bytes=limit)
        else:
            info = store.put_stream(source, max_bytes=limit)
        with self.platform.database.session(write=True) as session:
            audit.record(
                session,
                actor=self.actor,
                action="blob.upload",
                object_type="blob",
                object_id=info.digest,
                after={"size": info.size, "created": info.created},
            )
        return BlobPublic(digest=info.digest, size=info.size, created=info.created)

    def download_blob(self, digest: str, destination: str | Path) -> Path:
        return self.platform.artifacts.download_to(digest, destination)

    def close(self) -> None:
        if self._owns_platform:
            self.platform.close()
