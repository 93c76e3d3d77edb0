from __future__ import annotations

import pytest

from shipyard.core.errors import InvalidParameterError
from shipyard.core.validation import check_text


@pytest.mark.parametrize("value", ["a\x00b", "line\nbreak", "tab\there", "\x7f", "\ud800"])
def test_control_characters_are_rejected(value: str) -> None:
    with pytest.raises(InvalidParameterError, match="control characters") as caught:
        check_text(value, field="name")
    assert caught.value.field == "name"


def test_limits() -> None:
    assert check_text("ünïcödé names — fine", field="name") == "ünïcödé names — fine"
    with pytest.raises(InvalidParameterError, match="limit is 3"):
        check_text("abcd", field="key", max_length=3)
    with pytest.raises(InvalidParameterError, match="must not be empty"):
        check_text("   ", field="name", allow_empty=False)
