"""Timestamps given to add_memory: ISO 8601 in its usual spellings, numbers, datetimes; a
time that names no zone is the user's wall time."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest

from memoryos_cli.errors import InvalidInputError
from memoryos_cli.memory.ingest import parse_timestamp

T0 = 1714573800.0  # 2024-05-01 14:30 UTC
OSLO = ZoneInfo("Europe/Oslo")  # 2 hours ahead of UTC in May


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01 16:30:00",
        "2024-05-01 16:30",
        "2024-05-01T16:30",
        " 2024-05-01T16:30:00.000 ",
        "2024-05-01T14:30:00Z",
        "2024-05-01T14:30:00+00:00",
        "2024-05-01T10:30:00-04:00",
        "1714573800",
    ],
)
def test_strings_are_iso_8601_in_the_users_zone_unless_they_name_one_or_epoch_seconds(
    text: str,
) -> None:
    assert parse_timestamp(text, OSLO) == T0


def test_numbers_datetimes_dates_and_now() -> None:
    assert parse_timestamp(T0, OSLO) == T0 and parse_timestamp(int(T0), OSLO) == T0
    assert parse_timestamp(dt.datetime(2024, 5, 1, 16, 30), OSLO) == T0  # naive: the user's
    assert parse_timestamp(dt.datetime(2024, 5, 1, 14, 30, tzinfo=dt.UTC), OSLO) == T0
    assert parse_timestamp("2024-05-01", OSLO) == T0 - 16.5 * 3600  # the user's midnight
    assert parse_timestamp("2024-05-01", dt.UTC) == T0 - 14.5 * 3600
    assert abs(parse_timestamp(None, OSLO) - time.time()) < 5


@pytest.mark.parametrize("value", ["not a date", "2024-13-01", True, [2024]])
def test_anything_else_is_one_clear_error(value: object) -> None:
    with pytest.raises(InvalidInputError, match=r"cannot read timestamp .*use ISO 8601"):
        parse_timestamp(value, OSLO)
