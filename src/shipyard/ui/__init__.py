"""The web UI: server-rendered pages (Jinja2 + htmx, vendored uPlot) mounted by the server under ``/ui``.

``app`` builds the sub-application, ``session`` resolves the viewer from the login cookie and checks
CSRF, ``render`` holds the templates and navigation, ``series`` downsamples metric series, and
``pages`` has one module per page.
"""

from __future__ import annotations

__all__: list[str] = []
