"""Feedback: the true label or value of a past prediction, sent at any later time.

Labels are stored beside the prediction log (same endpoint folder, same durability), keyed by the
request id the prediction was answered with (or the id the caller supplied) and the row within
that request, so monitoring can join them to predictions. The latest label for a row wins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

__all__ = ["FeedbackAccepted", "FeedbackBody", "FeedbackItem"]

RequestId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@/+=-]+$")]
Label = float | int | bool | Annotated[str, StringConstraints(max_length=1000)]


class FeedbackItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: RequestId
    label: Label
    row: int | None = Field(
        None, ge=0, le=1_000_000, description="Row within a multi-row request; none: every row of it."
    )


class FeedbackBody(BaseModel):
    """Either one label (``request_id`` + ``label``) or many (``feedback``: a list of them)."""

    model_config = ConfigDict(extra="forbid")

    request_id: RequestId | None = None
    label: Label | None = None
    row: int | None = Field(None, ge=0, le=1_000_000)
    feedback: list[FeedbackItem] | None = Field(None, min_length=1, max_length=10_000)
    at: datetime | None = Field(None, description="When the truth was observed (default: now).")

    @model_validator(mode="after")
    def _one_form(self) -> FeedbackBody:
        single = self.request_id is not None or self.label is not None
        if single and self.feedback is not None:
            raise ValueError("send either request_id and label, or a feedback list, not both")
        if self.feedback is None and (self.request_id is None or self.label is None):
            raise ValueError("request_id and label are both required (or send a feedback list)")
        return self

    def items(self) -> list[FeedbackItem]:
        if self.feedback is not None:
            return self.feedback
        assert self.request_id is not None and self.label is not None
        return [FeedbackItem(request_id=self.request_id, label=self.label, row=self.row)]


class FeedbackAccepted(BaseModel):
    endpoint: str
    accepted: int
