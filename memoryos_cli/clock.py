"""The user's clock: instants are stored as epoch seconds, read and shown in the user's zone.

A message sent at 6 pm on Monday 8 May 2023 in California is 01:00 UTC on Tuesday: shown
"[Tue 9 May 2023]" and with "yesterday" pinned to 8 May, it would date the memory a day
late. Every place that shows a day or compares one (the prompt, relative dates, a date
named in a query, the journal) gets the zone from `Settings.zone` as an argument, and reads
an instant with `local(ts, zone)` (or shows it with `when`, `day` or `iso`); none falls
back to UTC or to the machine's zone on its own. Dates in words (relative times pinned,
dates a query names) are `memory/dates.py`'s.
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


def local(ts: float, zone: dt.tzinfo) -> dt.datetime:
    """An instant as the user's clock reads it."""
    return dt.datetime.fromtimestamp(ts, zone)


def when(ts: float, zone: dt.tzinfo) -> str:
    """An instant for people: "2023-05-08 18:00"."""
    return local(ts, zone).strftime("%Y-%m-%d %H:%M")


def day(ts: float, zone: dt.tzinfo) -> str:
    """A date a model reads without arithmetic: "Mon 8 May 2023"."""
    moment = local(ts, zone)
    return f"{moment:%a} {moment.day} {moment:%B %Y}"


def iso(ts: float, zone: dt.tzinfo) -> str:
    """ISO 8601 with the zone's offset, to the second: the instant, and the day it was for
    the user ("2023-05-08T18:00:00-07:00")."""
    return local(ts, zone).isoformat(timespec="seconds")
