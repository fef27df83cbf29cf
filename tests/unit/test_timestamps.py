"""Timestamps given to add_memory: ISO 8601 in its usual spellings, numbers, datetimes."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from memoryos_cli.api import parse_timestamp
from memoryos_cli.errors import InvalidInputError

T0 = 1714573800.0  # 2024-05-01 14:30 UTC


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01 14:30:00",
        "2024-05-01 14:30",
        "2024-05-01T14:30",
        "2024-05-01T14:30:00Z",
        "2024-05-01T16:30:00+02:00",
        " 2024-05-01T14:30:00.000 ",
        "1714573800",
    ],
)
def test_strings_are_read_as_iso_8601_in_utc_or_as_epoch_seconds(text: str) -> None:
    assert parse_timestamp(text) == T0


def test_numbers_datetimes_dates_and_now() -> None:
    assert parse_timestamp(T0) == T0 and parse_timestamp(int(T0)) == T0
    assert parse_timestamp(dt.datetime(2024, 5, 1, 14, 30)) == T0  # naive means UTC
    assert parse_timestamp("2024-05-01") == T0 - 14.5 * 3600
    assert abs(parse_timestamp(None) - time.time()) < 5


@pytest.mark.parametrize("value", ["not a date", "2024-13-01", True, [2024]])
def test_anything_else_is_one_clear_error(value: object) -> None:
    with pytest.raises(InvalidInputError, match=r"cannot read timestamp .*use ISO 8601"):
        parse_timestamp(value)
