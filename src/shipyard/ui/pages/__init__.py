"""One module per UI page; each exposes ``router`` and registers its navigation entry."""

from __future__ import annotations

__all__: list[str] = []
