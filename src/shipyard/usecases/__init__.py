"""Scoping: use-case canvas, value/ease scoring, prioritisation matrix, clusters, red flags, ROI, KPIs.

Modules by concept: ``canvas`` (portfolios, use cases, history, status workflow), ``scoring``
(votes and their aggregation), ``matrix`` (quadrants and ranking), ``portfolio`` (clusters and the
proposed selection), ``redflags`` (checklists, sign-off and the promotion check the registry calls),
``roi`` and ``kpis``, ``workshop`` (YAML/CSV import and export), ``plot`` and ``report``.
"""

from __future__ import annotations

__all__: list[str] = []
