"""Signed webhook deliveries to a real receiver on loopback: signature, filtering, retries, failure."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shipyard.core import webhooks
from shipyard.core.platform import Platform
from shipyard.testing.servers import live_server
from tests import live_http
from tests.compat.route_examples import model_version


@dataclass
class Receiver:
    url: str
    failures_left: int = 0
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.received) >= count, f"received {len(self.received)} of {count}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    async def hook(request: Request) -> Response:
        state.received.append((dict(request.headers), await request.body()))
        if state.failures_left > 0:
            state.failures_left -= 1
            return Response(status_code=500)
        return Response(status_code=204)

    with live_server(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as url:
        state.url = f"{url}/hook"
        yield state


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks, "BASE_DELAY_SECONDS", 0.05)


def subscribe(server_url: str, url: str, events: list[str]) -> tuple[str, str]:
    response = live_http.post(
        f"{server_url}/api/v1/webhooks", json={"name": "ci", "url": url, "events": events}
    )
    assert response.status_code == 201, response.text
    return response.json()["webhook"]["id"], response.json()["secret"]


def test_signed_delivery_of_registry_events(server_url: str, receiver: Receiver) -> None:
    _, secret = subscribe(server_url, receiver.url, ["alias.set"])
    with live_http.Client(base_url=server_url) as client:
        name, version = model_version(client)  # model_version.created is not subscribed
        client.post(
            "/api/2.0/mlflow/registered-models/alias",
            json={"name": name, "alias": "champion", "version": version},
        ).raise_for_status()
    receiver.wait_for(1)
    time.sleep(0.3)
    assert len(receiver.received) == 1, "only the subscribed event is delivered"
    headers, body = receiver.received[0]
    assert headers["x-shipyard-event"] == "alias.set"
    assert headers["x-shipyard-signature"] == webhooks.sign(
        secret, int(headers["x-shipyard-timestamp"]), body
    )
    assert b'"alias":"champion"' in body and f'"model":"{name}"'.encode() in body


def test_failed_deliveries_are_retried_and_recorded(server_url: str, receiver: Receiver) -> None:
    webhook_id, _ = subscribe(server_url, receiver.url, ["*"])
    receiver.failures_left = 2
    with live_http.Client(base_url=server_url) as client:
        model_version(client)
    receiver.wait_for(3)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        (delivery,) = live_http.get(f"{server_url}/api/v1/webhooks/{webhook_id}/deliveries").json()[
            "deliveries"
        ]
        if delivery["status"] == "delivered":
            break
        time.sleep(0.05)
    assert delivery["status"] == "delivered" and delivery["attempts"] == 3
    assert delivery["event"] == "model_version.created" and delivery["last_status_code"] == 204


def test_unreachable_receiver_fails_after_the_last_attempt(server_url: str, platform: Platform) -> None:
    from shipyard.testing.servers import free_port

    webhook_id, _ = subscribe(server_url, f"http://127.0.0.1:{free_port()}/gone", ["model_version.created"])
    with live_http.Client(base_url=server_url) as client:
        model_version(client)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        (delivery,) = live_http.get(f"{server_url}/api/v1/webhooks/{webhook_id}/deliveries").json()[
            "deliveries"
        ]
        if delivery["status"] == "failed":
            break
        time.sleep(0.1)
    assert delivery["status"] == "failed" and delivery["attempts"] == webhooks.MAX_ATTEMPTS
    assert "ConnectError" in delivery["last_error"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "url": "file:///etc/passwd", "events": ["*"]}, "url"),
        ({"name": "x", "url": "ftp://host/x", "events": ["*"]}, "url"),
        ({"name": "x", "url": "http://127.0.0.1/x", "events": ["nope"]}, "events"),
        ({"name": "x", "url": "http://127.0.0.1/x", "events": []}, "events"),
    ],
)
def test_bad_webhooks_are_refused(server_url: str, body: dict[str, object], field: str) -> None:
    response = live_http.post(f"{server_url}/api/v1/webhooks", json=body)
    assert response.status_code in (400, 422) and response.json()["field"] == field
    assert live_http.get(f"{server_url}/api/v1/webhooks").json()["webhooks"] == []


def test_secret_is_never_listed(server_url: str) -> None:
    _, secret = subscribe(server_url, "http://127.0.0.1:9/x", ["*"])
    assert secret not in live_http.get(f"{server_url}/api/v1/webhooks").text
