"""The control plane hosting its endpoints: the data plane inside ``shipyard server``.

Endpoints come from the store and are re-read on every poll, so a change made through another
server process reaches this one within ``serving_poll_seconds``. Loads, swaps and failures are
written to the audit log (and failures are logged), so "why is v7 not serving?" has an answer.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI

from shipyard.core import audit
from shipyard.core.auth import Principal, Role
from shipyard.core.deps import requires
from shipyard.core.platform import Platform
from shipyard.serving import endpoints
from shipyard.serving.manager import EndpointSpec, ServingManager
from shipyard.serving.metrics import ServingMetrics
from shipyard.serving.predlog import SEAL_PROCESS_ROWS, PredictionLog
from shipyard.serving.routes import data_plane_router
from shipyard.serving.sources import PlatformSource

__all__ = ["HostedServing", "include_data_plane"]

logger = logging.getLogger(__name__)
SERVING_ACTOR = Principal(name="serving", role=Role.ADMIN)


class HostedServing:
    def __init__(self, platform: Platform) -> None:
        settings = platform.settings
        self.platform = platform
        self.predlog = PredictionLog(
            Path(settings.prediction_log_dir),
            retention_days=settings.prediction_log_retention_days,
            fsync=settings.prediction_log_fsync,
            seal_process_rows=SEAL_PROCESS_ROWS,
        )
        self.manager = ServingManager(
            PlatformSource(platform),
            metrics=ServingMetrics(hourly_price=settings.serving_hourly_price),
            predlog=self.predlog,
            poll_interval=settings.serving_poll_seconds,
            on_event=self._audit,
            load_specs=self._specs,
            model_processes=settings.serving_model_processes,
        )

    def _specs(self) -> list[EndpointSpec]:
        with self.platform.database.session() as session:
            return [endpoints.spec_of(row) for row in endpoints.list_endpoints(session)]

    def _audit(self, event: str, payload: dict[str, Any]) -> None:
        # A load runs in the background: it is not part of the request that may have started it.
        token = audit.current_request_id.set(None)
        try:
            self._record(event, payload)
        finally:
            audit.current_request_id.reset(token)

    def _record(self, event: str, payload: dict[str, Any]) -> None:
        with self.platform.database.session(write=True) as session:
            audit.record(
                session,
                actor=SERVING_ACTOR,
                action=event,
                object_type="endpoint",
                object_id=str(payload.get("endpoint")),
                after=payload,
            )

    async def start(self) -> None:
        self.predlog.start()
        await self.manager.start()

    async def stop(self) -> None:
        await self.manager.stop()
        self.predlog.close()


def include_data_plane(app: FastAPI, *, max_body_bytes: int) -> None:
    """Mount the inference routes; callers need a viewer token, feedback an editor's (when auth is on)."""
    app.include_router(
        data_plane_router(
            lambda request: request.app.state.serving,
            max_body_bytes=max_body_bytes,
            dependencies=[Depends(requires(Role.VIEWER))],
            feedback_dependencies=[Depends(requires(Role.EDITOR))],
        )
    )
