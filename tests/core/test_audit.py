from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shipyard.core import audit
from shipyard.core.auth import LOCAL_ADMIN
from shipyard.core.errors import InvalidParameterError
from shipyard.core.platform import Platform
from tests import live_http


def seed(platform: Platform, count: int) -> None:
    with platform.database.session(write=True) as session:
        for index in range(count):
            audit.record(
                session,
                actor=LOCAL_ADMIN,
                action=f"thing.{'create' if index % 2 else 'delete'}",
                object_type="thing",
                object_id=str(index),
                after={"n": index},
            )


def test_paging_is_complete_and_newest_first(platform: Platform) -> None:
    seed(platform, 25)
    seen: list[int] = []
    token = None
    with platform.database.session() as session:
        while True:
            page = audit.list_events(session, max_results=10, page_token=token)
            seen += [int(e.object_id) for e in page.events]
            token = page.next_page_token
            if token is None:
                break
    assert seen == list(range(24, -1, -1))


def test_filters(platform: Platform) -> None:
    seed(platform, 6)
    with platform.database.session() as session:
        assert len(audit.list_events(session, action="thing.create").events) == 3
        assert len(audit.list_events(session, action="thing.*").events) == 6
        assert [e.object_id for e in audit.list_events(session, object_id="4").events] == ["4"]
        assert audit.list_events(session, actor="nobody").events == []
        future = datetime.now(UTC) + timedelta(hours=1)
        assert audit.list_events(session, since=future).events == []
        assert len(audit.list_events(session, until=future).events) == 6


def test_bad_arguments(platform: Platform) -> None:
    with platform.database.session() as session:
        with pytest.raises(InvalidParameterError, match="page_token"):
            audit.list_events(session, page_token="!!not-a-token")
        with pytest.raises(InvalidParameterError, match="max_results"):
            audit.list_events(session, max_results=0)
        with pytest.raises(InvalidParameterError, match="time zone"):
            audit.list_events(session, since=datetime(2026, 1, 1))


def test_summaries_are_json_safe_and_bounded(platform: Platform) -> None:
    with platform.database.session(write=True) as session:
        audit.record(
            session,
            actor=LOCAL_ADMIN,
            action="x.update",
            object_type="x",
            object_id="1",
            before={"when": datetime(2026, 1, 1, tzinfo=UTC)},
            after={"text": "y" * 5000, "items": list(range(100))},
        )
    with platform.database.session() as session:
        event = audit.list_events(session).events[0]
    assert event.before == {"when": "2026-01-01T00:00:00+00:00"}
    assert len(event.after["text"]) == 501
    assert len(event.after["items"]) == 51


def test_audit_over_http_with_request_id(server_url: str) -> None:
    created = live_http.post(
        f"{server_url}/api/v1/tokens",
        json={"name": "a", "role": "viewer"},
        headers={"X-Request-ID": "req-42"},
    )
    assert created.status_code == 201
    events = live_http.get(f"{server_url}/api/v1/audit", params={"action": "token.*"}).json()["events"]
    assert events[0]["request_id"] == "req-42"
    assert events[0]["after"] == {"name": "a", "role": "viewer", "expires_at": None}
    bad = live_http.get(f"{server_url}/api/v1/audit", params={"max_results": 5000})
    assert bad.status_code == 422 and bad.json()["field"] == "max_results"
