"""``shipyard.Client``: embedded (in-process, local store) or remote (REST), one method set.

>>> import tempfile
>>> from shipyard import Client
>>> with tempfile.TemporaryDirectory() as home:
...     with Client(home=home) as client:
...         client.health().status
'ok'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shipyard._client.base import BaseClient
from shipyard._client.embedded import EmbeddedClient
from shipyard._client.remote import RemoteClient
from shipyard.core.config import Settings, load_settings
from shipyard.core.platform import Platform

__all__ = ["Client", "EmbeddedClient", "RemoteClient"]


def Client(
    url: str | None = None,
    *,
    token: str | None = None,
    home: str | Path | None = None,
    settings: Settings | None = None,
    **overrides: Any,
) -> BaseClient:
    """Connect to ``url`` (or ``SHIPYARD_TRACKING_URI``) over REST, else open the local store.

    ``token`` defaults to ``SHIPYARD_TOKEN``; ``home`` and ``overrides`` adjust the embedded settings.
    """
    if home is not None:
        overrides["home"] = Path(home)
    settings = settings or load_settings(**overrides)
    url = url or settings.tracking_uri
    if url:
        return RemoteClient(url, token=token or settings.token or None)
    return EmbeddedClient(Platform.open(settings))
