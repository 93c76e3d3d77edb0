"""The model source over a ``shipyard.Client``: the local store or a remote server, one code path.

Resolution lists the version's files with their stored SHA-256 digests (so a moved alias is seen on
the next poll), and fetching goes through ``models.fetch.fetch_package``: every byte is checked
against the store's digest (and the package manifest) on the way into a content-addressed cache,
and the cached copy is re-hashed before each load. Because the bytes provably come from the
platform's registry, the package is trusted: pickle-based flavors (MLflow's cloudpickle scikit-learn
models) may load; nothing a client uploads elsewhere ever is.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.models.fetch import fetch_package
from shipyard.serving.endpoints import check_model_uri
from shipyard.serving.runtime import ModelRef

if TYPE_CHECKING:
    from shipyard._client.base import BaseClient
    from shipyard.core.platform import Platform

__all__ = ["ClientSource", "PlatformSource"]


class ClientSource:
    def __init__(self, client: BaseClient, cache_dir: Path) -> None:
        self.client = client
        self.cache_dir = Path(cache_dir)

    def resolve(self, uri: str) -> ModelRef:
        location, _ = self.client._package_files(check_model_uri(uri))
        if location.name and location.version is not None:
            # Pin what the URI named now: a later fetch must get this version even if the alias moves.
            return ModelRef(
                location.name,
                str(location.version),
                f"models:/{location.name}/{location.version}",
                location.run_id,
            )
        name = Path(location.prefix).name or "model"
        version = (location.run_id or location.owner_id)[:8]
        return ModelRef(name, version, uri, location.run_id)

    def fetch(self, ref: ModelRef) -> tuple[Path, bool]:
        return fetch_package(self.client, ref.uri, self.cache_dir).path, True


def PlatformSource(platform: Platform, cache_dir: Path | None = None) -> ClientSource:
    """A source over the local store, acting as the local operator."""
    from shipyard._client.embedded import EmbeddedClient

    client = EmbeddedClient(platform, owns_platform=False)
    return ClientSource(client, Path(cache_dir or platform.settings.model_cache_dir))
