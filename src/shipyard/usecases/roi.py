"""Return on investment of a use case, from workshop estimates.

Notes
-----
Inputs, all per *period* (a month unless ``period`` says otherwise):

* ``minutes_saved_per_task`` — staff time the model saves on one task;
* ``tasks_per_period`` — how many such tasks there are;
* ``hourly_cost`` — the loaded cost of one staff hour;
* ``error_cost_avoided`` — cost of errors avoided per period;
* ``build_cost`` — one-off cost to build and roll out;
* ``running_cost`` — cost per period to run, monitor and maintain;
* ``horizon`` — number of periods to evaluate over (36 by default).

Formulas::

    benefit per period = minutes_saved_per_task / 60 * tasks_per_period * hourly_cost + error_cost_avoided
    net per period     = benefit per period - running_cost
    total cost         = build_cost + running_cost * horizon
    net value          = benefit per period * horizon - total cost
    ROI                = net value / total cost                  (None when total cost is 0)
    payback period     = build_cost / net per period             (None when net per period <= 0)

Worked example: 6 minutes saved on each of 2,000 tasks a month at 50 an hour is 10,000 a month, plus
2,000 of errors avoided = 12,000; running costs 2,000, so 10,000 net a month. Building costs 60,000,
so the payback period is 6 months. Over 36 months the total cost is 60,000 + 72,000 = 132,000, the
benefit 432,000, the net value 300,000 and the ROI 300,000 / 132,000 = 2.27 (227 %).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shipyard.core.errors import InvalidParameterError
from shipyard.core.validation import check_text

__all__ = [
    "ROI_INPUTS",
    "RoiResult",
    "check_roi_inputs",
    "compute_roi",
]

ROI_INPUTS = (
    "minutes_saved_per_task",
    "tasks_per_period",
    "hourly_cost",
    "error_cost_avoided",
    "build_cost",
    "running_cost",
    "horizon",
)
MAX_AMOUNT = 1e12
DEFAULT_HORIZON = 36


@dataclass(frozen=True)
class RoiResult:
    period: str
    currency: str
    horizon: int
    benefit_per_period: float
    net_per_period: float
    total_cost: float
    total_benefit: float
    net_value: float
    roi: float | None
    payback_periods: float | None


def check_roi_inputs(inputs: Mapping[str, Any] | None, *, field: str = "roi") -> dict[str, Any] | None:
    """Validate ROI inputs: known names, finite non-negative numbers; missing amounts count as 0.

    >>> check_roi_inputs({"build_cost": 1000, "horizon": 12})["running_cost"]
    0.0
    """
    if inputs is None:
        return None
    if not isinstance(inputs, Mapping):
        raise InvalidParameterError(f"{field} must be a mapping of ROI inputs", field=field)
    allowed = set(ROI_INPUTS) | {"period", "currency"}
    unknown = sorted(set(inputs) - allowed)
    if unknown:
        raise InvalidParameterError(
            f"{field}: unknown input {unknown[0]!r}; expected {', '.join(sorted(allowed))}",
            field=f"{field}.{unknown[0]}",
        )
    result: dict[str, Any] = {
        "period": check_text(str(inputs.get("period") or "month"), field=f"{field}.period", max_length=20),
        "currency": check_text(
            str(inputs.get("currency") or "EUR"), field=f"{field}.currency", max_length=10
        ),
    }
    for name in ROI_INPUTS:
        value = inputs.get(name)
        if value is None:
            value = DEFAULT_HORIZON if name == "horizon" else 0.0
        name_field = f"{field}.{name}"
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidParameterError(f"{name_field} must be a number; got {value!r}", field=name_field)
        if not 0 <= value <= MAX_AMOUNT:
            raise InvalidParameterError(
                f"{name_field} must be between 0 and {MAX_AMOUNT:.0e}; got {value}", field=name_field
            )
        if name == "horizon":
            if value != int(value) or not 1 <= value <= 600:
                raise InvalidParameterError(
                    f"{name_field} must be a whole number of periods from 1 to 600; got {value}",
                    field=name_field,
                )
            result[name] = int(value)
        else:
            result[name] = float(value)
    return result


def compute_roi(inputs: Mapping[str, Any]) -> RoiResult:
    """ROI, payback period and net value over the horizon (see the module notes for the formulas).

    >>> result = compute_roi({"minutes_saved_per_task": 6, "tasks_per_period": 2000, "hourly_cost": 50,
    ...     "error_cost_avoided": 2000, "build_cost": 60000, "running_cost": 2000, "horizon": 36})
    >>> result.net_per_period, result.payback_periods, result.net_value, round(result.roi, 4)
    (10000.0, 6.0, 300000.0, 2.2727)
    """
    checked = check_roi_inputs(inputs)
    assert checked is not None
    benefit = (
        checked["minutes_saved_per_task"] / 60 * checked["tasks_per_period"] * checked["hourly_cost"]
        + checked["error_cost_avoided"]
    )
    net = benefit - checked["running_cost"]
    horizon = checked["horizon"]
    total_cost = checked["build_cost"] + checked["running_cost"] * horizon
    total_benefit = benefit * horizon
    net_value = total_benefit - total_cost
    return RoiResult(
        period=checked["period"],
        currency=checked["currency"],
        horizon=horizon,
        benefit_per_period=benefit,
        net_per_period=net,
        total_cost=total_cost,
        total_benefit=total_benefit,
        net_value=net_value,
        roi=net_value / total_cost if total_cost > 0 else None,
        payback_periods=checked["build_cost"] / net if net > 0 else None,
    )
