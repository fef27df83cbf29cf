"""The user's time zone: instants are stored as epoch seconds, days are read in this zone.

A message sent at 6 pm on Monday 8 May 2023 in California is 01:00 UTC on Tuesday: shown
"[Tue 9 May 2023]" and with "yesterday" pinned to 8 May, it would date the memory a day
late. Every place that shows a day or compares one (the prompt, relative dates, a date
named in a query, the journal) gets the zone from `Settings.zone` as an argument, and reads
an instant with `datetime.fromtimestamp(ts, zone)`; none falls back to UTC or to the
machine's zone on its own.
"""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

from memoryos_cli.errors import InvalidInputError


class SystemZone(dt.tzinfo):
    """The machine's own zone (TZ, else /etc/localtime), asked of the C library at each
    instant as `datetime.astimezone()` does: right in summer and in winter, where the
    offset of today (`datetime.now().astimezone().tzinfo`) is an hour off half the year."""

    def utcoffset(self, moment: dt.datetime | None) -> dt.timedelta | None:
        return None if moment is None else dt.timedelta(seconds=_local(moment).tm_gmtoff)

    def dst(self, moment: dt.datetime | None) -> None:
        return None  # the C library tells whether summer time applies, not by how much

    def tzname(self, moment: dt.datetime | None) -> str | None:
        return None if moment is None else _local(moment).tm_zone

    def fromutc(self, moment: dt.datetime) -> dt.datetime:
        # A naive fromtimestamp is local wall time with `fold` set in the repeated hour.
        utc = moment.replace(tzinfo=dt.UTC).timestamp()
        return dt.datetime.fromtimestamp(utc).replace(tzinfo=self)

    def __repr__(self) -> str:
        return "SystemZone()"

    def __str__(self) -> str:
        return "the system's zone"


def _local(moment: dt.datetime) -> time.struct_time:
    """The C library's reading of a wall time (a naive timestamp() is local, fold honoured)."""
    return time.localtime(moment.replace(tzinfo=None).timestamp())


def zone_named(name: str) -> dt.tzinfo:
    """The zone a `timezone` setting names: an IANA name (Europe/Oslo), or "" for the
    system's. UTC needs no time zone database (the benchmarks pin it)."""
    if not name:
        return SystemZone()
    if name.upper() == "UTC":
        return dt.UTC
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # not found, not a key, a folder (America)
        raise InvalidInputError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Oslo or"
            ' America/Los_Angeles, or "" for the system\'s zone'
        ) from None
