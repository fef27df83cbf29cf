"""Relative times pinned to the day they were said: "yesterday" in a page from Mon 8 May
2023 reads "yesterday (7 May 2023)" wherever the page is shown to a model. The day is the
user's (in the zone of `Settings.zone`): said at 6 pm on 8 May in California, it is 8 May,
though UTC has reached the 9th.

A memory recalled months later is read on another day: "yesterday" then means nothing,
and a 1.5B model seldom does the date arithmetic itself (it answered almost no temporal
question from raw pages). The text is annotated for the prompt only; storage keeps the
words as they were said. Only unambiguous phrases are pinned: "on Friday" (past or next?)
and "in May" (which year?) are left alone. `dateparser` was the library to consider; its
`search_dates` reads "may", "now" or "second" as dates and resolves "last week" to one day,
where the honest reading is "the week before 8 May 2023".

A season is pinned to its year: "last summer (summer 2022)" said on 4 February 2023.
A span back is pinned at the grain of its unit, as LoCoMo answers it: "5 years ago (2018)",
"two months ago (March 2023)", "two weeks ago (2 weeks before 8 May 2023)". A span up to
the day is pinned to its start, "I've had them for 3 years (since 2020)", only where the
sentence says it lasted until then (see HAVE).

Dates a query names outright ("on October 13, 2023", "in June") are read by `date_cues`,
and TIME_WORDS are the words of dates and times, which a claim's support leaves out.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from memoryos_cli.clock import local

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
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
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
# Hedges before a count stay in the words; the pin is the count's: "for almost 3 years
# (since 2020)".
_ABOUT = r"(?:about|around|almost|nearly|over|more than|roughly|at least|just over|just under)"
WEEKDAYS = {name[:3].lower(): i for i, name in enumerate(calendar.day_name)}
_COUNT = r"(?:\d{1,2}|" + "|".join(sorted(map(re.escape, NUMBERS), key=len, reverse=True)) + ")"
_UNIT = r"(?:decade|day|weekend|week|month|year)"
# Short names as people type them ("last Tues"), capitalised only: "last sun" is weather.
_WEEKDAY = "(?:" + "|".join(calendar.day_name) + r"|(?-i:Mon|Tues?|Weds?|Thu(?:rs?)?|Fri|Sat|Sun))"
# Months by name after "last" and "next", in full ("May" and "March" capitalised only: "last
# may" is a guess, "next march" a walk).
_MONTH_NAME = (
    "(?:"
    + "|".join(n for n in calendar.month_name[1:] if n not in ("May", "March"))
    + "|(?-i:May|March))"
)
# Days named from the day said ("last night" said at 0:30 is the day before, too).
DAY_SHIFTS = {
    "the day before yesterday": -2,
    "last night": -1,
    "yesterday": -1,
    "tomorrow": 1,
    "the day after tomorrow": 2,
}
# A season's months, as the northern half of the world has them (meteorological seasons).
# Winter is left out: it spans the new year, and which one "last winter" is in February is
# the speaker's guess as much as ours.
SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11)}


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
    r"|(?P<dur>(?P<dur_word>for|since) (?:the (?P<dur_span>past|last) )?(?:"
    + _ABOUT
    + r" )?"
    + _amount("dur")
    + r")(?!(?: and a half)? ago\b)"
    # "the last Friday of the month", "the last year of college": no day before this one
    r"|(?<!\bthe )(?P<lastwd>last " + _WEEKDAY + r")"
    r"|(?<!\bthe )(?P<nextwd>next " + _WEEKDAY + r")"
    r"|(?<!\bthe )(?P<named>(?P<named_which>last|next) (?P<named_month>" + _MONTH_NAME + r"))"
    r"|(?<!\bthe )(?P<rel>(?:last|this|next) (?:weekend|week|month|year)|this past week(?:end)?)"
    r"|(?<!\bthe )(?P<season>(?P<season_which>last|this past|this|next) (?P<season_name>"
    + "|".join(SEASONS)
    + r"))"
    r"|(?P<day>the day before yesterday|the day after tomorrow|last night|yesterday|today"
    r"|tonight|tomorrow|this morning|this afternoon|this evening)"
    r")\b(?!\s*\()",
    re.IGNORECASE,
)


def _words(text: str) -> frozenset[str]:
    """A vocabulary written as one string of words."""
    return frozenset(text.split())


# "for 3 years" runs up to the day it was said only in some sentences: after a present
# perfect ("I've had them for 3 years", "she has lived here", "haven't seen him"), a perfect
# whose "I've" was dropped ("Been doing it for 3 years"), before "now", as "for the past 3
# years", or as "since 3 years" (English learned from another language). Elsewhere the span
# lies ahead ("I'll stay for 2 years") or somewhere back ("I lived there for 3 years"): a
# "since" there is a wrong date the model repeats, so such words are left as said.
HAVE = _words("have has 've 's haven hasn")
# Verbs whose perfect is a state that lasted until now; "been" covers every "have been
# doing". Not "booked", "signed", "decided": "I've booked it for 2 weeks" is a plan.
LASTED = _words(
    "been had known lived worked owned loved wanted used studied played taught practiced "
    "practised collected dated followed kept stayed waited missed needed hated liked enjoyed "
    "volunteered run done seen talked spoken heard felt believed struggled suffered trained "
    "danced painted written sung cooked baked driven ridden read attended served managed led "
    "saved tried dreamed dreamt searched fought coached cared looked"
)
# Before the perfect: a modal or "had" makes it no present perfect ("would have stayed",
# "I'd been"); "to have" is no time at all.
NOT_NOW = _words("will 'll would 'd could should might must may shall to had won wouldn couldn")
# After "been": a passive that gives a span ahead ("been offered a job for 2 years"), or
# "to", a visit ("I've been to Paris for 2 weeks": some time, not up to now).
GIVEN = _words(
    "to offered given granted awarded hired contracted accepted selected chosen assigned "
    "sentenced booked scheduled invited asked approved signed funded admitted elected "
    "appointed promised sent posted transferred banned suspended told"
)
FUTURE = _words("will 'll gonna shall would 'd")
ADVERBS = _words(
    "'t not never always just really only also already actually all both ever even "
    "basically honestly literally officially"
)
# After "to", a place or person ("going to the gym", "married to him"); any other word is
# a verb, whose plan the span belongs to ("I've decided to stay for 2 years").
TO_WHOM = _words(
    "the a an my your his her our their its this that these those him them me you us it "
    "school church college university class classes therapy yoga"
)
# A plan just before the span: "I've been planning a trip for 2 weeks" is a 2-week trip.
PLANS = _words(
    "trip vacation holiday visit stay break leave sabbatical contract lease loan rental "
    "subscription membership ban sentence"
)
CLAUSE = re.compile(
    r"[.!?;:,\n\u2013\u2014]| - "
    r"|\b(?:and|but|or|because|when|while|if|until|after|before|which|who|though|although)\b",
    re.IGNORECASE,
)


def _next(words: list[str], i: int, step: int) -> int | None:
    """The index of the first word from `i` on, `step` by `step`, that is no adverb."""
    i += step
    while 0 <= i < len(words) and words[i] in ADVERBS:
        i += step
    return i if 0 <= i < len(words) else None


def _perfect(words: list[str]) -> bool:
    """Whether a clause's words hold a present perfect of a verb in LASTED."""
    for i, word in enumerate(words):
        before = _next(words, i, -1)
        if word in HAVE:
            verb = _next(words, i, 1)
            if verb is None or words[verb] not in LASTED:
                continue
        elif word == "been" and (before is None or words[before] not in HAVE):
            verb = i  # "Been doing it for 3 years": its "I've" dropped
        else:
            continue
        then = _next(words, verb, 1)
        if before is not None and words[before] in NOT_NOW:
            continue
        if words[verb] == "been" and then is not None and words[then] in GIVEN:
            continue
        return True
    return False


def _up_to_now(match: re.Match[str]) -> bool:
    """Whether the "for 3 years" of `match` ends on the day it was said (see HAVE)."""
    text = match.string.replace("\u2019", "'")
    cased = re.findall(r"'?\w+", CLAUSE.split(text[: match.start()])[-1])
    words = [w.lower() for w in cased]
    after = text[match.end() :]
    first = _next(words, -1, 1)
    # "Have you been doing it for 3 years?": asked, not said
    asked = bool(re.match(r"[^.!?\n,;]*\?", after)) or (
        first is not None
        and words[first] in HAVE
        and (verb := _next(words, first, 1)) is not None
        and words[verb] not in LASTED
    )
    # "I'll stay", "I've decided to stay", "I've booked a trip" for 2 years: a span ahead
    planned = (
        bool(FUTURE & set(words))
        or (bool(words) and words[-1] in PLANS)
        or any(
            w == "to" and nxt.lower() not in TO_WHOM and not nxt[0].isupper()
            for w, nxt in zip(words, cased[1:], strict=False)
        )
    )
    if asked or planned:
        return False
    if (
        match.group("dur_word").lower() == "since"
        or (match.group("dur_span") or "").lower() == "past"
    ):
        return True
    return bool(re.match(r"\s+now\b(?!\s+that)", after, re.IGNORECASE)) or _perfect(words)


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


def _season(which: str, name: str, said: dt.date) -> str:
    """Which year's season "last summer" (or this, next) meant on `said`: the last one
    that had ended by then ("last summer" on 4 February 2023: summer 2022; on 20 July 2023
    too, since that summer had not ended), this year's, or the first one still to start."""
    first, last = SEASONS[name]
    if which == "this":
        year = said.year
    elif which == "next":
        year = said.year if said.month < first else said.year + 1
    else:  # "last", "this past"
        year = said.year if said.month > last else said.year - 1
    return f"{name} {year}"


def _named_month(which: str, name: str, said: dt.date) -> str | None:
    """The months "next June" and "last June" mean, where both ways of reading them
    agree: the June ahead (or behind) falls in the next (or last) calendar year. Said in
    December, "next June" is June of next year however it is read; said in March, it may be
    this June or the one after, so it is left as said."""
    month = [n.lower() for n in calendar.month_name].index(name.lower())
    if which == "next" and month <= said.month:
        return month_text(said.year + 1, month)
    if which == "last" and month >= said.month:
        return month_text(said.year - 1, month)
    return None


def _pin(match: re.Match[str], said: dt.date) -> str | None:
    """What a matched phrase means, counted from the day it was said; None to leave it as
    said."""
    today = day_text(said)
    g = {k: (v.lower() if v else v) for k, v in match.groupdict().items()}
    if g["day"]:
        shift = DAY_SHIFTS.get(g["day"], 0)
        return day_text(said + dt.timedelta(days=shift))
    if g["ago"]:
        amount = _count(g, "ago")
        return _before(*amount, said) if amount else None
    if g["vague"]:
        unit = g["vague_unit"] or ""
        year, month = str(said.year), month_text(said.year, said.month)
        grain = {"month": month, "year": year, "decade": year}.get(unit, today)
        return f"{g['vague_n']} {unit}s before {grain}"
    if g["dur"]:
        amount = _count(g, "dur")
        return f"since {_before(*amount, said)}" if amount and _up_to_now(match) else None
    if g["lastwd"] or g["nextwd"]:
        wanted = WEEKDAYS[(g["lastwd"] or g["nextwd"]).split()[1][:3]]
        if g["lastwd"]:
            back = (said.weekday() - wanted) % 7 or 7
            return day_text(said - dt.timedelta(days=back))
        ahead = (wanted - said.weekday()) % 7 or 7
        return day_text(said + dt.timedelta(days=ahead))
    if g["season"]:
        return _season(g["season_which"] or "", g["season_name"] or "", said)
    if g["named"]:
        return _named_month(g["named_which"] or "", g["named_month"] or "", said)
    *said_which, unit = g["rel"].split()
    which = "last" if said_which == ["this", "past"] else said_which[0]
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
    named: list[DateCue] | None = None  # the dates `text` names: read once, when first needed

    def annotate(match: re.Match[str]) -> str:
        nonlocal named
        pinned = _pin(match, said)
        if not pinned:
            return match.group(0)
        if named is None:
            named = date_cues(text)
        if _whole_date(pinned) in named or _says(text, pinned):
            # "tomorrow, December 7, 2026": the writer gave the date; a second one is noise.
            # So is "since 2024" where it is said: a stored fact read "Sam has been learning
            # the cello for two years (since 2024) since 2024."
            return match.group(0)
        return f"{match.group(0)} ({pinned})"

    return PHRASES.sub(annotate, text)


def _says(text: str, pinned: str) -> bool:
    """Whether `text` says `pinned` already, as whole words ("2021", "since 2024")."""
    return re.search(rf"(?<!\w){re.escape(pinned)}(?!\w)", text, re.IGNORECASE) is not None


def pinned_phrases(text: str, ts: float, zone: dt.tzinfo) -> list[tuple[str, str]]:
    """Each relative time of `text` not pinned yet, as said, with what it meant on the day
    `ts` falls on in `zone`: ("yesterday", "31 January 2023")."""
    said = dt.datetime.fromtimestamp(ts, zone).date()
    found = ((m.group(0), _pin(m, said)) for m in PHRASES.finditer(text))
    return [(phrase, meant) for phrase, meant in found if meant]


# -- dates a query names -------------------------------------------------------------

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_FULL_MONTH = (
    r"(" + "|".join(n for n in MONTHS if len(n) > 4 or n in ("may", "june", "july")) + r")"
)
_YEAR = r"((?:19|20)\d\d)"
# Most specific first; a span taken by one pattern is not read again by a later one.
DATE_PATTERNS = [
    (re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", re.I), ("d", "m", "y")),
    (re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.I), ("m", "d", "y")),
    (re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b"), ("y", "m", "d")),
    (re.compile(rf"\b{_MONTH},?\s+{_YEAR}\b", re.I), ("m", "y")),
    # a month alone only in full and after a preposition ("in June"), never "on Jan's"
    (re.compile(rf"\b(?:in|during|since|of)\s+{_FULL_MONTH}\b(?!['’\s]*\d)", re.I), ("m",)),
    (re.compile(rf"\b(?:in|during|since|of)\s+{_YEAR}\b", re.I), ("y",)),
]


@dataclass(frozen=True)
class DateCue:
    """A calendar date, month or year named in a text; None where it names none."""

    year: int | None = None
    month: int | None = None
    day: int | None = None

    def matches(self, ts: float, zone: dt.tzinfo) -> bool:
        """Whether an instant falls on this date (or in this month or year) in `zone`."""
        when = local(ts, zone)
        return (
            (self.year is None or when.year == self.year)
            and (self.month is None or when.month == self.month)
            and (self.day is None or when.day == self.day)
        )


def _whole_date(text: str) -> DateCue | None:
    """The date, or month of a year, that `text` is and nothing more ("7 May 2023", "May
    2023"); None for more ("the week before 7 May 2023") or less ("2023")."""
    for pattern, _ in DATE_PATTERNS[:4]:
        if pattern.fullmatch(text):
            return date_cues(text)[0]
    return None


def date_cues(text: str) -> list[DateCue]:
    """Absolute dates a query names ("on October 13, 2023", "in June", "in 2022").

    Relative ones ("last week") are left out: they count from when something was said,
    which a question does not tell. A month named without a year matches it in any year.
    """
    cues: list[DateCue] = []
    taken: list[tuple[int, int]] = []
    for pattern, fields in DATE_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < b and a < end for a, b in taken):
                continue
            parts = dict(zip(fields, match.groups(), strict=True))
            month = parts.get("m")
            number = None if month is None else MONTHS.get(month.lower())
            if month is not None and number is None:
                number = int(month) if month.isdigit() and 1 <= int(month) <= 12 else None
                if number is None:
                    continue
            day = int(parts["d"]) if "d" in parts else None
            if day is not None and not 1 <= day <= 31:
                continue
            taken.append((start, end))
            cues.append(DateCue(int(parts["y"]) if "y" in parts else None, number, day))
    return list(dict.fromkeys(cues))


# Words of dates and times: a date a writer computed never counts against a claim.
TIME_WORDS = frozenset(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "yesterday",
        "today",
        "tomorrow",
        "week",
        "weeks",
        "month",
        "months",
        "year",
        "years",
        "ago",
        "last",
        "next",
    ]
)


# -- questions about time ------------------------------------------------------------

# "When did ...", "What year ...", "How long ago ...": the answer is a time. "when" only opens
# the question: "What did Caroline say when ..." asks for what she said.
TIME_QUESTION = re.compile(
    r"(?:^\W*|\bsince\s+)when\b"
    r"|\b(?:(?:what|which)\s+(?:year|month|day|date|week|weekend|time of year)"
    r"|how\s+long|how\s+many\s+(?:years|months|weeks|days))\b",
    re.I,
)
_YEAR_NUMBER = re.compile(r"\b(?:19|20)\d\d\b")
_CLOCK = re.compile(r"\b\d{1,2}(?::\d\d)?\s*(?:am|pm|a\.m\.|p\.m\.|o'clock)|\b\d{1,2}:\d\d\b", re.I)
# Words that say a time in a text (a time question's answer needs one).
_SAYS_A_TIME = TIME_WORDS | {
    "morning", "afternoon", "evening", "night", "tonight", "noon", "midnight", "weekend"
}  # fmt: skip


def asks_a_time(question: str) -> bool:
    """Whether `question` asks when something happened or how long it lasted."""
    return bool(TIME_QUESTION.search(question))


def names_a_time(text: str) -> bool:
    """Whether `text` says a time of its own: a date, a year, a weekday or month, or a
    relative time ("yesterday", "two weeks ago")."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    return bool(
        words & _SAYS_A_TIME
        or _YEAR_NUMBER.search(text)
        or _CLOCK.search(text)
        or PHRASES.search(text)
    )
