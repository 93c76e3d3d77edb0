"""The use-case SDK: embedded and remote clients give the same answers and the same errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from shipyard import Client
from shipyard._client.base import BaseClient
from shipyard._client.embedded import EmbeddedClient
from shipyard.core.errors import ConflictError, InvalidParameterError, NotFoundError
from shipyard.core.platform import Platform
from shipyard.usecases.workshop import example_portfolio


@pytest.fixture(params=["embedded", "remote"])
def client(request: pytest.FixtureRequest, platform: Platform, server_url: str) -> Iterator[BaseClient]:
    if request.param == "embedded":
        with EmbeddedClient(platform, owns_platform=False) as embedded:
            yield embedded
    else:
        with Client(server_url) as remote:
            yield remote


def test_round_trip(client: BaseClient) -> None:
    portfolio = client.create_portfolio("sdk", weights={"value": {"economic_value": 2}}, ease_floor=1.5)
    assert portfolio.weights["value"] == {"economic_value": 2.0, "strategic_alignment": 1.0}
    assert client.update_portfolio("sdk", value_threshold=3.0).value_threshold == 3.0
    case = client.create_use_case(
        "sdk",
        "Ticket routing",
        key="routing",
        input_data=["Tickets"],
        roi={"build_cost": 1200, "error_cost_avoided": 300},
    )
    other = client.create_use_case(portfolio.id, "Reply drafts", input_data=["Tickets"])
    client.vote(
        case.id,
        {"economic_value": 4, "strategic_alignment": {"score": 1, "comment": "side project"}, "know_how": 4},
        voter="ana",
    )
    client.vote(other.id, {"economic_value": 3, "know_how": 3}, voter="ben")
    assert [v.comment for v in client.list_votes(case.id)] == ["", "", "side project"]
    points = client.matrix("sdk").points
    assert [(p.key, round(p.value.mean or 0, 4)) for p in points] == [("routing", 3.0), ("reply-drafts", 3.0)]
    assert [c.label for c in client.clusters("sdk")] == ["Tickets"]
    assert client.selection("sdk").locked is False and client.lock_selection("sdk").locked is True
    assert client.unlock_selection("sdk").locked is False
    assert client.set_selection_choice(other.id, "exclude").selection == "exclude"
    assert client.update_use_case(case.id, status="assessed", owner="Chloe").version == 2
    assert [v.version for v in client.use_case_history(case.id)] == [1, 2]
    assert client.list_use_cases(portfolio_id="sdk", status="assessed")[0].id == case.id
    assert client.roi(case.id).payback_periods == 4.0
    flag = client.add_check(case.id, "human_aspect", "Agents fear scoring", red_flag=True, owner="HR")
    assert client.promotion_check(case.id).allowed is False
    assert client.update_check(case.id, flag.id, answer="Works council informed").status == "open"
    assert client.sign_off(case.id, flag.id, "Agreement signed").status == "signed_off"
    assert client.promotion_check(case.id).allowed is True
    assert len(client.list_checks(case.id, red_flags_only=True)) == 1
    kpi = client.add_kpi(case.id, "Misrouted", unit="%", target=5, direction="decrease")
    client.record_kpi_value(
        case.id, kpi.id, 21.0, observed_at=datetime(2026, 10, 1, tzinfo=UTC), note="baseline"
    )
    assert client.list_kpis(case.id)[0].latest.value == 21.0  # type: ignore[union-attr]
    assert [v.note for v in client.kpi_values(case.id, kpi.id)] == ["baseline"]
    assert "key,title" in client.export_portfolio("sdk", format="csv")
    assert client.portfolio_report("sdk").startswith("# Use-case portfolio: sdk")
    assert client.matrix_image("sdk", format="svg").startswith(b"<?xml")
    imported = client.import_portfolio(example_portfolio(), name="example")
    assert imported.use_cases == 12 and [p.name for p in client.list_portfolios()] == ["example", "sdk"]
    assert client.get_portfolio("example").id == imported.portfolio.id


def test_same_errors(client: BaseClient) -> None:
    client.create_portfolio("errors")
    case = client.create_use_case("errors", "A")
    with pytest.raises(NotFoundError):
        client.get_use_case("0" * 32)
    with pytest.raises(NotFoundError):
        client.matrix("missing")
    with pytest.raises(InvalidParameterError, match=r"(between 0 and 5|less than or equal to 5)"):
        client.vote(case.id, {"economic_value": 9}, voter="x")
    with pytest.raises(InvalidParameterError):
        client.update_use_case(case.id, status="in_production")
    with pytest.raises(ConflictError):
        client.create_portfolio("errors")
    with pytest.raises(ConflictError, match="no ROI inputs"):
        client.roi(case.id)
    with pytest.raises(InvalidParameterError):
        client.import_portfolio("portfolio: [", format="yaml")
    with pytest.raises(InvalidParameterError):
        client.export_portfolio("errors", format="xlsx")
