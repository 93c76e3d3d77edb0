"""The monitor scheduler: an asyncio task in the server process that runs monitors when they are due.

With several server processes on one PostgreSQL database only one of them schedules: the one holding a
session-level advisory lock on a connection it keeps open (``pg_try_advisory_lock``); the others try
again every tick and take over within a tick of the leader's exit, because PostgreSQL drops the lock
with the connection. On SQLite there is one server process, which is always the leader.

Scoring runs in a worker thread (``asyncio.to_thread``), one monitor at a time, so the event loop keeps
serving requests; a failing monitor records its error in ``last_error`` and is retried at its next slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text

from shipyard.core.database import utcnow
from shipyard.core.errors import ShipyardError
from shipyard.monitoring.runner import RunOutcome, run_monitor
from shipyard.monitoring.tables import Monitor

if TYPE_CHECKING:
    from shipyard.core.platform import Platform
    from shipyard.serving.predlog import PredictionLog

__all__ = ["ADVISORY_LOCK_KEY", "LeaderLock", "MonitorScheduler", "PredictionLogSource"]

logger = logging.getLogger(__name__)

# An arbitrary 64-bit key naming "the monitor scheduler" among advisory locks ("shipyard" in ASCII).
ADVISORY_LOCK_KEY = 0x7368697079617264
PredictionLogSource = Callable[[], "PredictionLog | None"]


class LeaderLock:
    """Leadership across server processes: a PostgreSQL advisory lock, or always on SQLite."""

    def __init__(self, platform: Platform) -> None:
        self._database = platform.database
        self._connection: Any = None

    @property
    def held(self) -> bool:
        return self._database.dialect != "postgresql" or self._connection is not None

    def acquire(self) -> bool:
        """Try once (never blocks); True when this process leads."""
        if self.held:
            return True
        connection = self._database.engine.connect()
        try:
            got = bool(
                connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}).scalar()
            )
            connection.commit()
        except Exception:
            connection.close()
            raise
        if got:
            self._connection = connection
            logger.info("monitor scheduler: this process leads")
        else:
            connection.close()
        return got

    def check(self) -> bool:
        """Whether the lock is still held (the connection may have dropped), re-acquiring if not."""
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT 1"))
                self._connection.commit()
            except Exception:
                logger.warning("monitor scheduler: lost the leader connection")
                with contextlib.suppress(Exception):
                    self._connection.close()
                self._connection = None
        return self.acquire()

    def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                self._connection.commit()
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None


class MonitorScheduler:
    """Runs due monitors every ``poll_seconds``; start it in the app lifespan, stop it on shutdown.

    ``predlog`` is the server's :class:`~shipyard.serving.predlog.PredictionLog`, or a callable returning
    it (None while serving is not up yet: the tick is skipped).
    """

    def __init__(
        self,
        platform: Platform,
        predlog: PredictionLog | PredictionLogSource,
        *,
        poll_seconds: float = 5.0,
        max_windows: int = 100,
    ) -> None:
        self.platform = platform
        self._source: PredictionLogSource = predlog if callable(predlog) else (lambda: predlog)  # type: ignore[assignment,return-value]
        self.poll_seconds = poll_seconds
        self.max_windows = max_windows
        self.lock = LeaderLock(platform)
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        if self._task is None:
            self._stopping = asyncio.Event()
            self._task = asyncio.create_task(self._loop(), name="shipyard-monitor-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._stopping.set()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await asyncio.to_thread(self.lock.release)

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception:  # the loop must outlive a database hiccup
                logger.exception("monitor scheduler tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.poll_seconds)

    async def tick(self) -> list[RunOutcome]:
        """Run every due monitor once, if this process leads; returns what the runs stored."""
        if not await asyncio.to_thread(self.lock.check):
            return []
        predlog = self._source()
        if predlog is None:
            return []
        outcomes = []
        for monitor_id in await asyncio.to_thread(self._due):
            if self._stopping.is_set():
                break
            outcome = await asyncio.to_thread(self._run_one, predlog, monitor_id)
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    def _due(self) -> list[str]:
        with self.platform.database.session() as session:
            query = (
                select(Monitor.id)
                .where(Monitor.enabled.is_(True), Monitor.next_run_at <= utcnow())
                .order_by(Monitor.next_run_at)
            )
            return list(session.scalars(query))

    def _run_one(self, predlog: PredictionLog, monitor_id: str) -> RunOutcome | None:
        try:
            return run_monitor(self.platform, predlog, monitor_id, max_windows=self.max_windows)
        except Exception as exc:
            message = exc.message if isinstance(exc, ShipyardError) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, ShipyardError):
                logger.exception("monitor %s failed", monitor_id)
            else:
                logger.warning("monitor %s failed: %s", monitor_id, message)
            with self.platform.database.session(write=True) as session:
                monitor = session.get(Monitor, monitor_id)
                if monitor is not None:
                    monitor.last_error = message[:4000]
                    monitor.last_run_at = utcnow()
                    monitor.next_run_at = utcnow() + timedelta(seconds=monitor.schedule_seconds)
            return None
