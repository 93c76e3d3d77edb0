"""The scheduler runs due monitors once per slot, and only the leader among processes does."""

from __future__ import annotations

import asyncio
from pathlib import Path

from shipyard.core.auth import LOCAL_ADMIN
from shipyard.core.platform import Platform
from shipyard.monitoring import monitors
from shipyard.monitoring.scheduler import LeaderLock, MonitorScheduler
from shipyard.monitoring.tables import Monitor
from tests.monitoring.monitor_data import LogSpec, open_log, reference_frame, upload_reference, write_log


def test_tick_runs_due_monitors_and_records_errors(platform: Platform, tmp_path: Path) -> None:
    uri = upload_reference(platform, reference_frame())
    with platform.database.session(write=True) as session:
        good = monitors.create_monitor(
            session,
            actor=LOCAL_ADMIN,
            store=platform.artifacts,
            endpoint="churn",
            name="good",
            reference_uri=uri,
            window_kind="time",
            window_size=60,
            schedule_seconds=3600,
        ).id
        bad = monitors.create_monitor(
            session,
            actor=LOCAL_ADMIN,
            store=platform.artifacts,
            endpoint="churn",
            name="bad",
            reference_uri=uri,
            window_kind="time",
            window_size=60,
            features=["x1"],
            stattest="psi",
            stattests={"x1": "ks"},
        )
        bad.reference_profile_digest = "0" * 64  # a profile that is no longer stored
        bad_id = bad.id
    log = open_log(tmp_path / "predictions")
    try:
        write_log(log, LogSpec(windows=3, rows_per_second=5))
        scheduler = MonitorScheduler(platform, lambda: log, max_windows=3)

        async def two_ticks() -> tuple[int, int]:
            first = await scheduler.tick()
            second = await scheduler.tick()
            await scheduler.stop()
            return len(first), len(second)

        assert asyncio.run(two_ticks()) == (1, 0)  # the good one ran; nothing is due right after
    finally:
        log.close()
    with platform.database.session() as session:
        ran, failed = session.get(Monitor, good), session.get(Monitor, bad_id)
        assert ran is not None and failed is not None
        assert ran.last_error is None and ran.cursor_at is not None and ran.next_run_at > ran.last_run_at
        assert failed.last_error and "0000" in failed.last_error and failed.cursor_at is None


def test_one_leader_at_a_time(platform: Platform) -> None:
    first, second = LeaderLock(platform), LeaderLock(platform)
    try:
        assert first.acquire()
        if platform.database.dialect == "postgresql":
            assert not second.acquire()
            first.release()
            assert second.check()
        else:
            assert second.acquire()  # one SQLite server process: always the leader
    finally:
        first.release()
        second.release()


def test_start_and_stop_in_an_event_loop(platform: Platform) -> None:
    async def run() -> bool:
        scheduler = MonitorScheduler(platform, lambda: None, poll_seconds=0.05)
        await scheduler.start()
        await asyncio.sleep(0.2)
        await scheduler.stop()
        return scheduler.lock.held or platform.database.dialect == "postgresql"

    assert asyncio.run(run())
