"""ROI formulas with worked examples, and KPIs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shipyard.core.auth import LOCAL_ADMIN
from shipyard.core.errors import ConflictError, InvalidParameterError
from shipyard.core.platform import Platform
from shipyard.usecases import canvas, kpis, views
from shipyard.usecases.roi import check_roi_inputs, compute_roi


def test_worked_example_from_the_docs() -> None:
    # 6 min x 2,000 tasks x 50/h = 10,000 + 2,000 errors avoided = 12,000 benefit; minus 2,000 running.
    result = compute_roi(
        {
            "minutes_saved_per_task": 6,
            "tasks_per_period": 2000,
            "hourly_cost": 50,
            "error_cost_avoided": 2000,
            "build_cost": 60000,
            "running_cost": 2000,
            "horizon": 36,
        }
    )
    assert result.benefit_per_period == pytest.approx(12_000)
    assert result.net_per_period == pytest.approx(10_000)
    assert result.payback_periods == pytest.approx(6.0)
    assert result.total_cost == pytest.approx(132_000)
    assert result.total_benefit == pytest.approx(432_000)
    assert result.net_value == pytest.approx(300_000)
    assert result.roi == pytest.approx(300_000 / 132_000)


def test_ticket_routing_example() -> None:
    # 3 min x 9,000 tickets x 38/h = 17,100 + 1,500 = 18,600 a month; 1,200 running -> 17,400 net.
    result = compute_roi(
        {
            "minutes_saved_per_task": 3,
            "tasks_per_period": 9000,
            "hourly_cost": 38,
            "error_cost_avoided": 1500,
            "build_cost": 45000,
            "running_cost": 1200,
            "horizon": 12,
        }
    )
    assert result.net_per_period == pytest.approx(17_400)
    assert result.payback_periods == pytest.approx(45_000 / 17_400)
    assert result.net_value == pytest.approx(18_600 * 12 - (45_000 + 1_200 * 12))
    assert result.roi == pytest.approx((223_200 - 59_400) / 59_400)


def test_a_project_that_never_pays_back() -> None:
    result = compute_roi({"error_cost_avoided": 500, "build_cost": 10000, "running_cost": 800, "horizon": 24})
    assert result.net_per_period == -300 and result.payback_periods is None
    assert result.net_value == pytest.approx(500 * 24 - (10000 + 800 * 24)) and result.roi < 0


def test_free_project_has_no_roi_ratio() -> None:
    result = compute_roi({"error_cost_avoided": 100})
    assert result.roi is None and result.payback_periods == 0 and result.horizon == 36


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({"build_cost": -1}, "roi.build_cost"),
        ({"hourly_cost": "fifty"}, "roi.hourly_cost"),
        ({"horizon": 0}, "roi.horizon"),
        ({"horizon": 2.5}, "roi.horizon"),
        ({"profit": 3}, "roi.profit"),
        ({"running_cost": float("inf")}, "roi.running_cost"),
    ],
)
def test_bad_roi_inputs(inputs: dict, field: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        check_roi_inputs(inputs)
    assert caught.value.field == field


def test_roi_and_kpis_of_a_use_case(platform: Platform) -> None:
    with platform.database.session(write=True) as session:
        created = canvas.create_portfolio(session, actor=LOCAL_ADMIN, name="roi")
        case = canvas.create_use_case(
            session, actor=LOCAL_ADMIN, portfolio_id=created.id, values={"title": "A"}
        )
        with pytest.raises(ConflictError, match="no ROI inputs"):
            views.roi_public(session, use_case_id=case.id)
        canvas.update_use_case(
            session,
            actor=LOCAL_ADMIN,
            use_case_id=case.id,
            changes={"roi": {"build_cost": 1000, "error_cost_avoided": 250, "horizon": 8}},
        )
        assert views.roi_public(session, use_case_id=case.id).payback_periods == 4.0
        kpi = kpis.add_kpi(
            session,
            actor=LOCAL_ADMIN,
            use_case_id=case.id,
            values={
                "name": "MAPE",
                "unit": "%",
                "target": 10,
                "direction": "decrease",
                "endpoint": "forecast",
                "metric": "mape",
            },
        )
        with pytest.raises(ConflictError):
            kpis.add_kpi(session, actor=LOCAL_ADMIN, use_case_id=case.id, values={"name": "MAPE"})
        with pytest.raises(InvalidParameterError, match="give both or neither"):
            kpis.add_kpi(session, actor=LOCAL_ADMIN, use_case_id=case.id, values={"name": "X", "metric": "m"})
        with pytest.raises(InvalidParameterError, match="increase or decrease"):
            kpis.add_kpi(
                session, actor=LOCAL_ADMIN, use_case_id=case.id, values={"name": "Y", "direction": "up"}
            )
        kpis.record_kpi_value(
            session,
            actor=LOCAL_ADMIN,
            use_case_id=case.id,
            kpi_id=kpi.id,
            value=14.0,
            observed_at=datetime(2026, 10, 1, tzinfo=UTC),
        )
        kpis.record_kpi_value(session, actor=LOCAL_ADMIN, use_case_id=case.id, kpi_id=kpi.id, value=11.5)
        with pytest.raises(InvalidParameterError, match="time zone"):
            kpis.record_kpi_value(
                session,
                actor=LOCAL_ADMIN,
                use_case_id=case.id,
                kpi_id=kpi.id,
                value=1,
                observed_at=datetime(2026, 10, 1),
            )
        listed = views.kpis_public(session, use_case_id=case.id).kpis
        assert listed[0].latest is not None and listed[0].latest.value == 11.5
        assert (listed[0].endpoint, listed[0].metric) == ("forecast", "mape")
        assert [v.value for v in kpis.kpi_values(session, use_case_id=case.id, kpi_id=kpi.id)] == [14.0, 11.5]
