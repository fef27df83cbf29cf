"""Relative times pinned to the day they were said: "yesterday" in a page from Mon 8 May
2023 reads "yesterday (7 May 2023)" wherever the page is shown to a model. The day is the
user's (in the zone of `Settings.zone`): said at 6 pm on 8 May in California, it is 8 May,
though UTC has reached the 9th.

A memory recalled months later is read on another day: "yesterday" then means nothing,
and a 1.5B model seldom does the date arithmetic itself (LoCoMo temporal questions, Qwen
1.5B: F1 ~2 on raw pages). The text is annotated for the prompt only; storage keeps the
words as they were said. Only unambiguous phrases are pinned: "on Friday" (past or next?)
and "in May" (which year?) are left alone. `dateparser` was the library to consider; its
`search_dates` reads "may", "now" or "second" as dates and resolves "last week" to one day,
where the honest reading is "the week before 8 May 2023".
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "a couple of": 2,
    "a couple": 2,
    "couple of": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
}
# Counts without a number. "a few years ago" is pinned at the grain of its unit ("a few
# years before 2023", "a few months before May 2023"): the day it was said adds a precision
# the speaker never gave, and no single year is right for it. A bare "years ago" is left as
# said: it does not even say how many.
VAGUE = ("a few", "several", "many")
WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_COUNT = r"(?:\d{1,2}|" + "|".join(sorted(map(re.escape, NUMBERS), key=len, reverse=True)) + ")"
_UNIT = r"(?:decade|day|weekend|week|month|year)"
_WEEKDAY = "(" + "|".join(WEEKDAYS) + ")"


def _amount(name: str) -> str:
    """An amount of time as people say it: "5 years", "a couple of months", "a year and a
    half", "two and a half years", "half a year"; its groups are named after `name`."""
    return (
        rf"(?:(?P<{name}_half_year>half a year)"
        rf"|(?P<{name}_n>{_COUNT})(?P<{name}_half>(?: and a half)?) "
        rf"(?P<{name}_unit>{_UNIT})(?P<{name}_plural>s?)(?P<{name}_and_half>(?: and a half)?))"
    )


# One alternation, longest phrases first, so "last weekend" is never read as "last week".
# A phrase already followed by a bracket is pinned already: a fact the model wrote from a
# pinned page ("yesterday (7 May 2023)") must not gain a second, later date.
PHRASES = re.compile(
    r"\b(?:"
    r"(?P<ago>" + _amount("ago") + r" ago)"
    r"|(?P<vague>(?P<vague_n>" + "|".join(VAGUE) + r") (?P<vague_unit>" + _UNIT + r")s ago)"
    r"|(?P<lastwd>last " + _WEEKDAY + r")"
    r"|(?P<nextwd>next " + _WEEKDAY + r")"
    r"|(?P<rel>(?:last|this|next) (?:weekend|week|month|year))"
    r"|(?P<day>yesterday|today|tonight|tomorrow|this morning|this afternoon|this evening)"
    r")\b(?!\s*\()",
    re.IGNORECASE,
)


def day_text(day: dt.date) -> str:
    """A date as people write it and LoCoMo answers it: "7 May 2023"."""
    return f"{day.day} {calendar.month_name[day.month]} {day.year}"


def _month_shift(day: dt.date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


def month_text(year: int, month: int) -> str:
    """A month as LoCoMo answers it: "March 2023"."""
    return f"{calendar.month_name[month]} {year}"


def _count(g: dict[str, str | None], name: str) -> tuple[int, str] | None:
    """The amount matched by `_amount(name)` as a whole number of days, weeks, weekends,
    months or years; None for what it cannot count ("a day and a half", "3 year olds")."""
    if g[f"{name}_half_year"]:
        return 6, "month"
    count_text, unit = g[f"{name}_n"] or "", g[f"{name}_unit"] or ""
    count = int(count_text) if count_text.isdigit() else NUMBERS[count_text]
    halves = bool(g[f"{name}_half"]) + bool(g[f"{name}_and_half"])
    # "two and a half years", "a year and a half", "5 years": never "two year", "a years"
    plural = bool(g[f"{name}_plural"])
    if halves > 1 or plural != (count > 1 or bool(g[f"{name}_half"])):
        return None
    if unit == "decade":
        return count * 10 + 5 * halves, "year"
    if halves:
        return (count * 12 + 6, "month") if unit == "year" else None
    return count, unit


def _before(count: int, unit: str, said: dt.date) -> str:
    """What "`count` `unit`s ago" meant on `said`, at the grain of its unit: a day, a month,
    a year; weeks stay counted from the day ("2 weeks before 8 May 2023"), as LoCoMo does."""
    if unit == "day":
        return day_text(said - dt.timedelta(days=count))
    if unit == "month":
        return month_text(*_month_shift(said, -count))
    if unit == "year":
        return str(said.year - count)
    return f"{count} {unit}{'s' if count > 1 else ''} before {day_text(said)}"


def _pin(match: re.Match[str], said: dt.date) -> str | None:
    """What a matched phrase means, counted from the day it was said; None to leave it as
    said."""
    today = day_text(said)
    g = {k: (v.lower() if v else v) for k, v in match.groupdict().items()}
    if g["day"]:
        shift = {"yesterday": -1, "tomorrow": 1}.get(g["day"], 0)
        return day_text(said + dt.timedelta(days=shift))
    if g["ago"]:
        amount = _count(g, "ago")
        return _before(*amount, said) if amount else None
    if g["vague"]:
        unit = g["vague_unit"] or ""
        year, month = str(said.year), month_text(said.year, said.month)
        grain = {"month": month, "year": year, "decade": year}.get(unit, today)
        return f"{g['vague_n']} {unit}s before {grain}"
    if g["lastwd"] or g["nextwd"]:
        wanted = WEEKDAYS[(g["lastwd"] or g["nextwd"]).split()[1]]
        if g["lastwd"]:
            back = (said.weekday() - wanted) % 7 or 7
            return day_text(said - dt.timedelta(days=back))
        ahead = (wanted - said.weekday()) % 7 or 7
        return day_text(said + dt.timedelta(days=ahead))
    which, unit = g["rel"].split()
    if unit in ("week", "weekend"):
        place = {"last": "before", "this": "of", "next": "after"}[which]
        return f"the {unit} {place} {today}"
    if unit == "month":
        return month_text(*_month_shift(said, {"last": -1, "this": 0, "next": 1}[which]))
    return str(said.year + {"last": -1, "this": 0, "next": 1}[which])


def pin_relative_dates(text: str, ts: float, zone: dt.tzinfo) -> str:
    """`text` with each relative time not pinned yet followed by what it meant when it was
    said, counted from the day `ts` falls on in `zone`."""
    said = dt.datetime.fromtimestamp(ts, zone).date()

    def annotate(match: re.Match[str]) -> str:
        pinned = _pin(match, said)
        return f"{match.group(0)} ({pinned})" if pinned else match.group(0)

    return PHRASES.sub(annotate, text)
