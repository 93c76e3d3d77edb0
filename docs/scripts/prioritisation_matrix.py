"""Draw docs/images/prioritisation-matrix.png: the bundled example portfolio's prioritisation matrix.

Uses Shipyard's own renderer (``Client.matrix_image``, i.e. ``shipyard.usecases.plot.render_matrix``)
on the example portfolio imported into a throw-away local store, as ``shipyard usecases report`` does.

    .venv/bin/python docs/scripts/prioritisation_matrix.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from shipyard._client.embedded import EmbeddedClient
from shipyard.core.config import Settings
from shipyard.core.platform import Platform
from shipyard.usecases.workshop import example_portfolio

OUTPUT = Path(__file__).resolve().parents[1] / "images" / "prioritisation-matrix.png"


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(
            home=Path(home), database_url=f"sqlite:///{home}/example.db", artifact_root=f"{home}/artifacts"
        )
        with EmbeddedClient(Platform.open(settings)) as client:
            imported = client.import_portfolio(example_portfolio())
            picture = client.matrix_image(imported.portfolio.id, format="png")
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_bytes(picture)
    print(f"wrote {OUTPUT} ({len(picture):,} bytes)")


if __name__ == "__main__":
    main()
