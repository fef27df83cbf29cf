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
}
WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_COUNT = r"(\d{1,2}|" + "|".join(sorted(map(re.escape, NUMBERS), key=len, reverse=True)) + ")"
_WEEKDAY = "(" + "|".join(WEEKDAYS) + ")"

# One alternation, longest phrases first, so "last weekend" is never read as "last week".
# A phrase already followed by a bracket is pinned already: a fact the model wrote from a
# pinned page ("yesterday (7 May 2023)") must not gain a second, later date.
PHRASES = re.compile(
    r"\b(?:"
    r"(?P<ago>" + _COUNT + r" (?P<unit>day|week|month|year)s? ago)"
    r"|(?P<few>a few (?P<few_unit>day|week|month|year)s ago)"
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


def _pin(match: re.Match[str], said: dt.date) -> str:
    """What a matched phrase means, counted from the day it was said."""
    today = day_text(said)
    g = {k: (v.lower() if v else v) for k, v in match.groupdict().items()}
    if g["day"]:
        shift = {"yesterday": -1, "tomorrow": 1}.get(g["day"], 0)
        return day_text(said + dt.timedelta(days=shift))
    if g["ago"]:
        count_text = g["ago"].rsplit(" ", 2)[0]
        count = int(count_text) if count_text.isdigit() else NUMBERS[count_text]
        if g["unit"] == "day":
            return day_text(said - dt.timedelta(days=count))
        return f"{count} {g['unit']}{'s' if count > 1 else ''} before {today}"
    if g["few"]:
        return f"a few {g['few_unit']}s before {today}"
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
        year, month = _month_shift(said, {"last": -1, "this": 0, "next": 1}[which])
        return f"{calendar.month_name[month]} {year}"
    return str(said.year + {"last": -1, "this": 0, "next": 1}[which])


def pin_relative_dates(text: str, ts: float, zone: dt.tzinfo) -> str:
    """`text` with each relative time not pinned yet followed by what it meant when it was
    said, counted from the day `ts` falls on in `zone`."""
    said = dt.datetime.fromtimestamp(ts, zone).date()

    def annotate(match: re.Match[str]) -> str:
        return f"{match.group(0)} ({_pin(match, said)})"

    return PHRASES.sub(annotate, text)
