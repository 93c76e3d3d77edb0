"""The running platform: settings, database and artifact store, opened and checked together.

The server keeps one in ``app.state``; the embedded SDK and the CLI open their own.
"""

from __future__ import annotations

import logging

from shipyard.core import migrate
from shipyard.core.artifacts import ArtifactStore
from shipyard.core.config import Settings, load_settings, mask_url
from shipyard.core.database import Database
from shipyard.core.errors import ConfigurationError, StoreUnavailableError

__all__ = ["Platform"]

logger = logging.getLogger(__name__)


class Platform:
    """Open with ``Platform.open(settings)``: bad settings raise ``ConfigurationError`` naming them."""

    def __init__(self, settings: Settings, database: Database, artifacts: ArtifactStore) -> None:
        self.settings = settings
        self.database = database
        self.artifacts = artifacts

    @classmethod
    def open(cls, settings: Settings | None = None, *, upgrade_schema: bool = True) -> Platform:
        settings = settings or load_settings()
        database = Database(settings.database_url)
        try:
            database.ping()
        except StoreUnavailableError as exc:
            database.dispose()
            raise ConfigurationError(f"SHIPYARD_DATABASE_URL: {exc.message}", field="database_url") from None
        try:
            if upgrade_schema:
                migrate.upgrade(database)
                database.optimize()
            artifacts = ArtifactStore(
                settings.artifact_root,
                storage_options=settings.artifact_storage_options,
                spool_dir=settings.home / "tmp",
            )
            artifacts.check_writable()
        except Exception:
            database.dispose()
            raise
        logger.info(
            "platform open: database %s, artifacts %s",
            mask_url(settings.database_url),
            settings.artifact_root,
        )
        return cls(settings, database, artifacts)

    def close(self) -> None:
        self.database.dispose()

    def __enter__(self) -> Platform:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
