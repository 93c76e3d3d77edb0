"""HTTP and SDK shapes of Shipyard's own tracking API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["MetricColumns", "MetricHistoryPublic", "RunLog", "RunPublic", "RunsPublic"]


class MetricColumns(BaseModel):
    """Metric points as parallel columns: one JSON array per field parses far faster than objects."""

    model_config = ConfigDict(extra="forbid")

    key: list[str]
    value: list[float | str] = Field(description="numbers, or 'NaN' / 'Infinity' / '-Infinity'")
    step: list[int]
    timestamp: list[int]

    @model_validator(mode="after")
    def _same_length(self) -> MetricColumns:
        lengths = {len(self.key), len(self.value), len(self.step), len(self.timestamp)}
        if len(lengths) != 1:
            raise ValueError("key, value, step and timestamp must have the same length")
        return self


class RunLog(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metrics: MetricColumns | None = None
    params: dict[str, str] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)


class RunPublic(BaseModel):
    # NaN and infinities travel as "NaN" / "Infinity" strings (JSON has no such numbers).
    model_config = ConfigDict(ser_json_inf_nan="strings")

    run_id: str
    experiment_id: str
    name: str
    status: str
    start_time: int
    end_time: int | None
    lifecycle_stage: str
    artifact_uri: str
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]

    @classmethod
    def from_mlflow_json(cls, run: dict[str, Any]) -> RunPublic:
        info, data = run["info"], run.get("data", {})
        return cls(
            run_id=info["run_id"],
            experiment_id=str(info["experiment_id"]),
            name=info.get("run_name", ""),
            status=info["status"],
            start_time=int(info["start_time"]),
            end_time=info.get("end_time"),
            lifecycle_stage=info["lifecycle_stage"],
            artifact_uri=info["artifact_uri"],
            params={p["key"]: p["value"] for p in data.get("params", [])},
            metrics={m["key"]: float(m["value"]) for m in data.get("metrics", [])},
            tags={t["key"]: t["value"] for t in data.get("tags", [])},
        )


class RunsPublic(BaseModel):
    runs: list[RunPublic]
    next_page_token: str | None = None


class MetricHistoryPublic(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="strings")

    key: str
    step: list[int]
    timestamp: list[int]
    value: list[float]
