"""Consolidation rules: what an analysis reply must pass before anything is stored.

A small model's reply holds copied lines, courtesies, invented details and facts filed
under the wrong person. Each check is a named rule, a small function over ONE item of the
reply (a user fact, an assistant fact or a profile item) and the batch it came from. A
rule keeps the item, drops it with a reason, or returns what it becomes (cited from other
pages, moved to the other side, its subject corrected). `RULES` is their one order, and
`apply_rules` is the one loop that runs them. Every drop and change becomes a `Note`:
`memoryos memory why` shows the notes of the last analyses, and a bench can count what
each rule took.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal

from memoryos_cli.clock import day, local
from memoryos_cli.llm import prompts
from memoryos_cli.memory import long_term
from memoryos_cli.memory.analysis import Analysis, Kind
from memoryos_cli.memory.dates import NUMBERS, day_text, pin_relative_dates, pinned_phrases
from memoryos_cli.memory.keywords import content_words
from memoryos_cli.memory.page_text import SPEAKER_TAG
from memoryos_cli.memory.person import GIVES_OWN_NAME, NAME_ATTRIBUTES, known_name
from memoryos_cli.memory.support import ROLES, stems, support
from memoryos_cli.words import SENTENCE_END

PageRow = tuple[int, float, str, str]  # page id, time, what the user said, the answer
FACT_KINDS: frozenset[Kind] = frozenset({"user", "assistant"})
ALL_KINDS: frozenset[Kind] = frozenset({"user", "assistant", "profile"})

MIN_SUPPORT = 0.5  # the same rule `bench locomo --pipeline full` grades precision with
# A fact whose words run this long in one turn is that turn copied out, not distilled.
COPIED_RUN_WORDS = 8
MAX_CITED_PAGES = 3
# Moving an item renames its subject: its claim must be nearly all in the other side's words
# ("The assistant recommended Klara a violin teacher" is half in "Klara started violin").
REFILE_SUPPORT = 0.75


@dataclass(frozen=True)
class Item:
    """One item of a reply: a fact's sentence, or a profile item's value."""

    kind: Kind
    text: str
    sources: tuple[int, ...]
    attribute: str = ""  # a profile item's

    @property
    def shown(self) -> str:
        return f"{self.attribute} = {self.text}" if self.kind == "profile" else self.text


@dataclass(frozen=True)
class Drop:
    reason: str


# What a rule says of an item: None keeps it; a Drop drops it; items replace it (the same
# item back keeps it too).
Verdict = Drop | Item | list[Item] | None


@dataclass(frozen=True)
class Note:
    """What one rule did to one item."""

    rule: str
    action: Literal["dropped", "changed", "moved", "cited", "kept", "added"]
    kind: Kind
    item: str
    result: str  # what it became; "" when dropped
    reason: str
    sources: tuple[int, ...] = ()


@dataclass
class Batch:
    """What the rules read besides the item: the pages as stored and as the model read
    them, the stored profile, and the reply's items that are still in (the batch's own
    profile may name the user)."""

    pages: list[PageRow]
    shown: list[PageRow]
    profile: list[Any] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    zone: dt.tzinfo = dt.UTC  # the user's: a page's day is the day they said it
    # What an earlier look at the same batch kept (`consolidate.analyse`'s second look):
    # the user's name may be found only there.
    earlier: list[Item] = field(default_factory=list)
    # The pages whose answer memoryos's own chat model wrote (`pages.ANSWERED_BY`).
    answered: frozenset[int] = frozenset()

    @cached_property
    def excerpts(self) -> str:
        return " ".join(f"{u} {a}" for _, _, u, a in self.pages)

    @cached_property
    def text_of(self) -> dict[int, str]:
        return {pid: f"{u} {a}" for pid, _, u, a in self.pages}

    @cached_property
    def user_turns(self) -> dict[int, str]:
        return {pid: u for pid, _, u, _ in self.pages}

    @cached_property
    def agent_turns(self) -> dict[int, str]:
        return {pid: a for pid, _, _, a in self.pages}

    @cached_property
    def turns(self) -> tuple[list[str], set[str]]:
        """Every turn as stored and as the model read it, normalized and space-padded for
        whole-word search; and the set of them whole, their speaker tags aside."""
        said = [t for _, _, u, a in [*self.pages, *self.shown] for t in (u, a)]
        padded = [f" {long_term.normalized(t)} " for t in said]
        return padded, {f" {long_term.normalized(SPEAKER_TAG.sub('', t))} " for t in said}

    @cached_property
    def example(self) -> tuple[str, set[str]]:
        """The prompt's instructions and example, normalized, and the stems of the example's
        values that these pages do not hold."""
        template = long_term.normalized(prompts.ANALYSIS_INSTRUCTIONS + prompts.ANALYSIS_EXAMPLE)
        example = json.loads(prompts.ANALYSIS_EXAMPLE)
        values = [
            *example["user_facts"],
            *example["assistant_facts"],
            *(item.split("=", 1)[-1] for item in example["profile"]),
            example["summary"],
        ]
        return template, stems(" ".join(values)) - self.excerpt_stems

    def said_on_one_day(self, sources: tuple[int, ...]) -> float | None:
        """When the cited pages of this batch were said, if they all fall on one day (in the
        user's zone); None when they span days or none is here: the day of a relative time is
        then unknown."""
        when = [ts for pid, ts, _, _ in self.pages if pid in sources]
        days = {local(ts, self.zone).date() for ts in when}
        return when[0] if len(days) == 1 else None

    @cached_property
    def excerpt_stems(self) -> frozenset[str]:
        return frozenset(stems(self.excerpts))

    @cached_property
    def parties(self) -> frozenset[str]:
        return conversation_parties(self.pages)

    def found_names(self) -> list[str]:
        """The user's name as this batch's profile items give it."""
        return [
            i.text
            for i in [*self.earlier, *self.items]
            if i.kind == "profile" and long_term.normalize_attribute(i.attribute) in NAME_ATTRIBUTES
        ]

    @cached_property
    def subjects(self) -> frozenset[str]:
        """Who facts are about besides the roles (which `stems` always leaves out): the words
        of the user's name, known or found in this batch. They say whom a fact concerns, not
        what it claims, so they never count as its support. Read first by `cite_pages`, once
        the rules before it have checked the names."""
        names = [known_name(self.profile), *self.found_names()]
        return frozenset(w for n in names for w in re.findall(r"[a-z]+", n.lower()))

    @cached_property
    def names(self) -> frozenset[str]:
        """The words of the names the two sides go by (the user's, and each name one side
        calls the other): they sit in the turns of whoever says them to the other ("Thanks,
        Mel!"), so they say nothing of who did what."""
        called = {w for n in self.parties - ROLES for w in n.split()}
        return self.subjects | called

    @cached_property
    def speakers(self) -> frozenset[str]:
        """The words of the speaker tag that opens every turn of one side in this batch (an
        imported chat's "Gina: ..."): it names that side. A tag on some turns only is the
        user's own label ("Reminder: dentist on Friday"), not a speaker."""
        named: set[str] = set()
        for turns in (self.user_turns, self.agent_turns):
            tags = [SPEAKER_TAG.match(turn) for turn in turns.values()]
            said = {tag.group(0) for tag in tags if tag is not None}
            if all(tags) and len(said) == 1:
                named |= name_words(said.pop())
        return frozenset(named)

    @cached_property
    def called_by_user(self) -> frozenset[str]:
        """The names the user greets or thanks the other side by, in this batch ("Thanks,
        Gina!"), lowercased."""
        return called_names(list(self.user_turns.values()))

    @cached_property
    def user_name(self) -> str:
        """The user's name, stored or found; read first by `misattributed`."""
        return known_name(self.profile) or next(iter(self.found_names()), "")


def name_words(text: str) -> set[str]:
    """The words of a name (or any text), lowercased: how names are compared."""
    return {w.lower() for w in re.findall(r"[A-Za-z]+", text)}


def _cited(turns: dict[int, str], sources: tuple[int, ...]) -> str:
    return " ".join(turns.get(p, "") for p in sources)


# -- the rules, in their order ----------------------------------------------------------


def copied_example(item: Item, batch: Batch) -> Verdict:
    """Small models sometimes hand back the prompt's own example as a finding, whole or
    blended with the user's words ("Lea recommended Ana a vet in Porto"): an item with two
    or more of the example's own words (its values: not "profile" or "name") that the
    excerpts do not hold is dropped; a profile value with one ("name = Jon Reyes" from the
    example's "Tom Reyes", Qwen 1.5B on LoCoMo, then in every fact about Jon).

    An item the excerpts hold every word of is the user's, even when the example says it
    too: a user named Tom gave "name = Tom", the example's own item, and it was dropped."""
    template, borrowed = batch.example
    words = stems(item.text)
    if long_term.normalized(item.shown) in template and words - batch.excerpt_stems:
        return Drop("the prompt's example, word for word")
    taken = words & borrowed
    if len(taken) >= (1 if item.kind == "profile" else 2):
        return Drop(f"words of the prompt's example: {', '.join(sorted(taken))}")
    return None


def copied_turn(item: Item, batch: Batch) -> Verdict:
    """A fact that is a turn copied out, not a fact drawn from it: a whole turn (as stored,
    or as the model read it; a copied "Thanks so much!" is no fact), or COPIED_RUN_WORDS of a
    turn's words in a row that keep its speaker's voice ("Caroline is keen on counseling -
    I'd love to support those with similar issues"). A small model copies rather than
    distils.

    A piece of a turn in the third person is a fact: "Caroline ran a charity race for mental
    health last Saturday (20 May 2023)", "Klara just started violin lessons." Dropping every
    run of COPIED_RUN_WORDS cost a fifth of the user's observations on both halves of the
    dev file (docs/benchmarks.md, "Consolidation rules")."""
    turns, untagged = batch.turns
    words = long_term.normalized(item.text).split()
    if f" {' '.join(words)} " in untagged:
        return Drop("a whole turn, copied")
    for i in range(len(words) - COPIED_RUN_WORDS + 1):
        run = " ".join(words[i : i + COPIED_RUN_WORDS])
        if SPEAKER_VOICE.search(run) and any(f" {run} " in turn for turn in turns):
            return Drop(f"{COPIED_RUN_WORDS} words of a turn in a row, in its speaker's voice")
    return None


# "Melanie: I'm glad you're..." is a chat line, not a fact: a speaker's tag over a turn in
# its speaker's voice, or "you".
SECOND_PERSON = re.compile(r"\b(?:you|you're|you've|you'll|your|yours|yourself)\b", re.I)
SPEAKER_I = r"I|I'm|I've|I'll|I'd"  # the speaker, capitalised as written
SPEAKER_VOICE = re.compile(
    rf"\b(?:{SPEAKER_I})\b|\b(?:me|my|mine|we|we're|our|us)\b|" + SECOND_PERSON.pattern,
    re.I,
)
# A quoted title or phrase ("Ana is reading 'Your Brain on Food'"): its words are not the
# fact's voice. Opening quotes follow no letter, so "Ana's" opens nothing.
QUOTED = re.compile(r"(?<!\w)['‘\"“][^'’\"”]+['’\"”](?!\w)")
GREETING = r"(?:hi|hey|hello|thanks|thank you|bye|good morning|good night|congrats),?"


def is_chat_line(text: str) -> bool:
    """One side talking to the other: "you" outside quotes, or a speaker's tag over a turn
    in the first person or a greeting ("Melanie: I'm glad..."). A label over a third-person
    fact ("Note: the user is allergic to shellfish.") is no speaker's tag."""
    plain = QUOTED.sub(" ", text)
    tag = SPEAKER_TAG.match(plain)
    if tag is not None:
        said = plain[tag.end() :]
        if SPEAKER_VOICE.search(said) or re.match(rf"{GREETING}(?!\w)", said.strip(), re.I):
            return True
    return SECOND_PERSON.search(plain) is not None


def chat_line(item: Item, batch: Batch) -> Verdict:
    """A fact written as one side talking to the other (`is_chat_line`): a small model that
    paraphrases a turn keeps its voice ("Melanie: I'm glad you found the painting
    inspiring."). "I" and "my" without a tag stay: in the user's facts they are the user
    ("My sister Emma visits next week" is what Qwen 0.5B writes). A tag that is the name
    of one side is a turn whatever follows it ("Gina: Wow, they look great! Can't wait to
    see them rock the festival.", stored on LoCoMo conv-30): a name the user is known by or
    calls the other side by, or a speaker tag the batch's turns open with (in the batch of
    that fact no one called Gina by name, and it was kept)."""
    if is_chat_line(item.text):
        return Drop("one side talking to the other")
    tag = SPEAKER_TAG.match(item.text)
    if tag is not None and name_words(tag.group(0)) <= batch.names | batch.speakers:
        return Drop("a turn under its speaker's name")
    return None


# "User is allergic to shellfish.": a side named by its bare role ("User:" is a chat line).
BARE_ROLE = re.compile(r"^\s*(User|Assistant)\b(?!:)")


def bare_role(item: Item, batch: Batch) -> Verdict:
    """A fact whose subject is a bare role says "The user" (or "The assistant") as every
    other fact does. Qwen 1.5B wrote "User is allergic to shellfish." and "User's sister
    Lena is visiting in two weeks." in a real chat at temperature 0; the rules that move a
    fact to its side read "The user", and so does the judge, which reads a first-person
    message against a fact as said of the user the way the fact names them
    (`memory/person.py`)."""
    match = BARE_ROLE.match(item.text)
    if match is None:
        return None
    return replace(item, text=f"The {match.group(1).lower()}{item.text[match.end() :]}")


# "Caroline thanked Mel for motivating her": who it is about (a word or two), then a courtesy
# to someone (`whom`) or an expressed feeling, as the main verb.
COURTESY = re.compile(
    r"^\s*(?:[Tt]he\s+)?[\w'’]+(?:\s+[\w'’]+)?\s+(?:also\s+|again\s+)?(?:"
    r"(?:thank(?:ed|s)|congratulat(?:ed|es)|prais(?:ed|es)|compliment(?:ed|s)|encourag(?:ed|es))"
    r"\s+(?:the\s+)?(?P<whom>[\w'’]+)\b"
    r"|express(?:ed|es)\s+(?:\w+\s+)?(?:gratitude|thanks|admiration|appreciation|support)\b)"
)
# A name said to someone: "Hey Gina!", "Thanks, Gina", "You're welcome, Jon!".
VOCATIVE = re.compile(
    rf"\b(?i:{GREETING})\s+(?P<greeted>[A-Z][\w'’]*)|,\s*(?P<called>[A-Z][\w'’]*)\s*[!?.,]"
)


def called_names(turns: list[str]) -> frozenset[str]:
    """The names these turns greet or thank someone by ("Hey Gina!", "Thanks, Mel"),
    lowercased. A name set off after one of the speaker's people is who that is, not whom
    the speaker talks to: "I have a son, Milo, who just turned 6." made `addressed_name`
    drop "family = son Milo" (a real first session, Qwen 1.5B)."""
    return frozenset(
        (m.group("greeted") or m.group("called")).lower()
        for said in turns
        for m in VOCATIVE.finditer(said)
        if m.group("greeted") or not APPOSED.search(said, 0, m.start())
    )


def conversation_parties(pages: list[PageRow]) -> frozenset[str]:
    """Who the conversation is between: the two roles and every name one side calls the
    other by in these pages (lowercased)."""
    return ROLES | called_names([f"{u}\n{a}" for _, _, u, a in pages])


def courtesy(item: Item, batch: Batch) -> Verdict:
    """A fact that records the conversation's manners, not the person: thanks, praise,
    congratulations, encouragement given to the other side of the conversation ("Gina
    encouraged Jon to stay resilient"), or an expressed gratitude (LoCoMo, Qwen 1.5B, whole
    conversations: 30 of 189 facts). A courtesy to someone else carries a fact: "the user
    thanked Dr. Patel for the knee surgery", "Ana encouraged Tom, her son, to apply to MIT"."""
    match = COURTESY.match(item.text)
    if match is None:
        return None
    whom = match.group("whom")
    if whom is None:
        return Drop("an expressed feeling, no fact")
    if whom.lower() in batch.parties:
        return Drop(f"a courtesy to the other side ({whom})")
    return None


def addressed_name(item: Item, batch: Batch) -> Verdict:
    """A name the user greets or thanks ("Hey Gina!", "Thanks, Gina") is the other side's
    name, not the user's (LoCoMo, Qwen 1.5B: "name = Gina" for Jon, from his "Hey Gina!").
    Nor is any profile value that names the other side the user's: "partner = Jolene" for
    Deborah, who greets Jolene; "family = Mel and her children" for Caroline (the only two
    such items in eight plays of four LoCoMo conversations; both wrong)."""
    # the stored name only: `Batch.user_name` is fixed once read, and this rule is what
    # keeps "name = Gina" from being the user's
    own = name_words(known_name(batch.profile))
    named = name_words(item.text) & batch.called_by_user
    if named - own:
        return Drop(f"names {', '.join(sorted(named - own))}, whom the user speaks to")
    if long_term.normalize_attribute(item.attribute) not in NAME_ATTRIBUTES:
        return None
    words = item.text.split()
    said = " ".join(batch.user_turns.values())
    if words and re.search(rf"\b{GREETING}\s+{re.escape(words[0])}\b", said, re.I):
        return Drop(f"the user greets or thanks {words[0]}: the other side's name")
    return None


# How a person gives their own name in a chat also takes "it's Tom" and "Tom here". "this
# is Lina" and "it's Lina" may also introduce someone else, so `name_given` adds a name only
# on the others (`GIVES_OWN_NAME`).
SELF_NAMING = rf"(?:{GIVES_OWN_NAME}|this is|it's)"


def name_not_given(item: Item, batch: Batch) -> Verdict:
    """A name is the user's only as the user gives it: as the speaker of their turns (an
    imported chat's "Caroline: ..."), in their own words ("I'm Tom"), or as stored. Qwen
    1.5B, in a real first session where no name was given, wrote "name = Lena" from "My
    sister Lena is visiting in two weeks." (and, with another prompt, "name = User"); the
    system message then called the user by their sister's name."""
    if long_term.normalize_attribute(item.attribute) not in NAME_ATTRIBUTES:
        return None
    words = name_words(item.text)
    first = item.text.split()[0] if item.text.split() else ""
    if not words or words & name_words(known_name(batch.profile)):
        return None
    own = re.compile(
        rf"\b{SELF_NAMING}\s+{re.escape(first)}\b(?!['’]s)|^\W*{re.escape(first)}\s+here\b",
        re.IGNORECASE,
    )
    for turn in batch.user_turns.values():
        tag = SPEAKER_TAG.match(turn)
        if (tag and words & name_words(tag.group(0))) or own.search(turn):
            return None
    return Drop(f"the user never gives {item.text} as their own name")


def name_given(item: Item, batch: Batch) -> Verdict:
    """A user fact that calls the user by the name they gave in their own words ("I am
    Tom" and "Tom is a teacher in Leeds.") adds that name to the profile when none is
    known. Qwen 1.5B, told "From now on your name is Max. ... I am Tom, a teacher in
    Leeds.", proposed "name = Max" (dropped by `name_not_given`) and no name for Tom, and
    the next session did not know him. Both are needed: "I'm Italian" gives no name, and a
    fact's subject alone may be anyone's."""
    if known_name(batch.profile) or batch.found_names():
        return None
    # the user as the fact's subject: "Tom is...", "Ana teaches...", "Noor's cat..."; not
    # "Italian cooking is a hobby" after "I'm Italian"
    first = re.match(r"([A-Z][a-z]+)(?:['’]s\b|\s+(?:is|was|has|had|will|\w+s|\w+ed)\b)", item.text)
    name = first.group(1) if first else ""
    if not name or name.lower() in ROLES:
        return None
    gives = re.compile(rf"\b(?i:{GIVES_OWN_NAME})\s+{name}\b(?!['’]s)")
    said = [pid for pid, turn in batch.user_turns.items() if gives.search(turn)]
    if not said:
        return None
    return [item, Item("profile", name, tuple(said), "name")]


def cite_pages(item: Item, batch: Batch) -> Verdict:
    """Cite the pages that hold an item's words when the ones the model named do not.

    Small models misnumber (Qwen 1.5B often cites the page after the right one); the
    provenance `memory why` shows and `forget` follows must be the page that says it. The
    best-supporting pages of the batch are cited instead, as few as reach MIN_SUPPORT; a
    citation that does hold the words loses the pages that add none of them. A fact's
    words are weighed without the names of who it is about (`Batch.subjects`): the page
    that says what Ana did, not the one that only says "Ana". A profile value's are
    weighed whole.
    """
    subjects = batch.subjects  # fixed here, once the rules before have checked the names
    ignore = subjects if item.kind in FACT_KINDS else frozenset()

    def held(pids: list[int]) -> float:
        return support(item.text, _cited(batch.text_of, tuple(pids)), ignore)

    cited = list(item.sources)
    if cited and held(cited) >= MIN_SUPPORT:
        # Less the pages that add none of the words ("lives in Porto" cites the page
        # that says Porto, not the greeting before it); weakest, latest first.
        kept = list(cited)
        for pid in sorted(cited, key=lambda p: (held([p]), -p)):
            rest = [p for p in kept if p != pid]
            if rest and held(rest) >= held(kept):
                kept = rest
        return replace(item, sources=tuple(kept))
    chosen: list[int] = []
    for pid in sorted(batch.text_of, key=lambda pid: -held([pid]))[:MAX_CITED_PAGES]:
        chosen.append(pid)
        if held(chosen) >= MIN_SUPPORT:
            return replace(item, sources=tuple(sorted(chosen)))
    return None  # no page holds it: `unsupported` decides


def unsupported(item: Item, batch: Batch) -> Verdict:
    """Keep what the pages ground: a fact needs MIN_SUPPORT of its content words (by stem,
    dates aside) in the pages it cites, the names of who it is about aside; a profile value
    needs them in the batch, and a number in it must be one the user's turns say ("age =
    30" with no 30 in them was Qwen 1.5B's guess; "age = 10" was its own answer's). A small
    model's invented details go here.

    Cited pages, not the whole batch, and names aside: words scattered over a dozen pages
    plus the user's own name grounded "Caroline is a personal assistant." (LoCoMo, Qwen
    1.5B, whole conversations: 24 of 189 facts their cited pages do not hold)."""
    if item.kind == "profile":
        held = support(item.text, batch.excerpts)
        if held < MIN_SUPPORT:
            return Drop(f"{held:.0%} of its words in the pages (needs {MIN_SUPPORT:.0%})")
        # the user's turns, not the other side's: the chat model answered a pasted text
        # "Noor is a 10-year-old girl from York" and "age: 10" was stored (a real chat)
        numbers = re.findall(r"\d+", item.text)
        said = " ".join(batch.user_turns.values()) if numbers else ""
        for number in numbers:
            if not re.search(rf"(?<!\d){number}(?!\d)", said):
                return Drop(f"the user's turns do not say {number}")
        return None
    if not stems(item.text, batch.subjects):
        return Drop("nothing but names and dates")
    held = support(item.text, _cited(batch.text_of, item.sources), batch.subjects)
    if held < MIN_SUPPORT:
        return Drop(f"{held:.0%} of its words in the pages it cites (needs {MIN_SUPPORT:.0%})")
    return None


# A count in words, as `dates` reads one ("one" to "fifty"; not "a", nor "a couple").
NUMBER_WORDS = {w: n for w, n in NUMBERS.items() if w.isalpha() and w not in ("a", "an")}
NUMBER = rf"\d+|{'|'.join(NUMBER_WORDS)}"
# "Caroline is 4 years old and ...": an age claimed of the fact's subject, with its "and".
AGE_CLAIM = re.compile(
    rf"\s+(?:is|was|turned|turns|has turned)\s+(?P<n>{NUMBER})[- ]years?[- ]old\b"
    r"(?P<and>\s+and\b)?",
    re.I,
)


def said_as_age(number: str, text: str) -> bool:
    """Whether `text` gives `number` (digits or a word) as someone's age: "34 years old",
    "a 6-year-old", "I'm 34", "turned six", "aged 40". "I've known them for 4 years" does
    not."""
    n = number.lower()
    value = int(n) if n.isdigit() else NUMBER_WORDS[n]
    forms = {str(value), *(w for w, v in NUMBER_WORDS.items() if v == value)}
    said = "|".join(forms)
    return bool(
        re.search(
            rf"\b(?:{said})[- ]years?[- ]old\b|\b(?:i'm|i am|he's|she's|turned|turns|aged?)"
            rf"\s+(?:just\s+)?(?:{said})\b(?![- ]?(?:years?|months?|weeks?|days?)\b)",
            text,
            re.I,
        )
    )


def unsaid_age(item: Item, batch: Batch) -> Verdict:
    """An age a fact gives its subject that no page it cites says as an age. Qwen 1.5B wrote
    "Caroline is 4 years old and has known her friends for 4 years..." from "I've known
    these friends for 4 years" (LoCoMo conv-26), and a new user's answer once called her "a
    25-year-old mother". The age clause goes and the rest of the fact stays; a fact that is
    only the age is dropped."""
    claim = AGE_CLAIM.search(item.text)
    if claim is None:
        return None
    said = " ".join(batch.text_of.get(p, "") for p in item.sources)
    if said_as_age(claim.group("n"), said):
        return None
    if claim.group("and"):
        return replace(item, text=item.text[: claim.start()] + item.text[claim.end() :])
    return Drop(f"no page it cites gives {claim.group('n')} as an age")


# "John is a personal assistant.", "Jon is a personal assistant serving Gina.", "job =
# personal assistant": the prompt's name for a side, taken as what someone is.
CALLED_ASSISTANT = re.compile(
    r"\b(?:is|was|are|were|works?|worked|serves?|served|acts?|acted)\b"
    r"(?:\s+(?:also|still|now|as|a|an|the|my|our|their|his|her|its))*(?:\s+[\w-]+)?"
    r"\s+assistants?\b(?!['’])",  # not "the assistant's friend": a side, named
    re.I,
)
ASSISTANT_WORD = re.compile(r"\bassistants?\b", re.I)


def called_assistant(item: Item, batch: Batch) -> Verdict:
    """An item that makes someone an assistant when no turn of the pages it cites (of the
    batch, for a profile value) says "assistant": the prompt calls one side of every page
    the assistant, and Qwen 1.5B wrote "X is a personal assistant" of a LoCoMo speaker in
    all four dev conversations (two such facts were stored there). `unsupported` cannot
    see it: "assistant" names a side in every page, so support leaves the word out
    (`support.ROLES`). Someone who said they work as a teaching assistant keeps it."""
    claim = f"is {item.text}" if item.kind == "profile" else item.text
    if not CALLED_ASSISTANT.search(claim):
        return None
    said = batch.excerpts if item.kind == "profile" else _cited(batch.text_of, item.sources)
    if ASSISTANT_WORD.search(said):
        return None
    return Drop("the prompt's name for a side: no turn it cites says 'assistant'")


def asked_not_told(item: Item, batch: Batch) -> Verdict:
    """What the user only asked the other side about is not the user's: "Caroline is
    married to Mel for 5 years." from her "How long have you been married?" and Melanie's
    "5 years already!" (Qwen 1.5B, LoCoMo conv-26). A user fact or profile value whose
    words, in the user's turns on the pages it cites, sit only in questions not in their
    own voice is dropped ("Should I quit my job?" tells of the user)."""
    claim = stems(item.text, batch.names)
    asked: set[str] = set()
    told: set[str] = set()
    for pid in item.sources:
        for sentence in SENTENCE_END.split(batch.user_turns.get(pid, "")):
            question = sentence.rstrip().endswith("?") and not OWN_VOICE.search(sentence)
            (asked if question else told).update(stems(sentence, batch.names))
    if claim & asked and not claim & told:
        return Drop(
            f"only asked by the user, of the other side: {', '.join(sorted(claim & asked))}"
        )
    return None


# "The assistant promised to fly to Oslo": an item whose subject is the side it is filed under.
ROLE_SUBJECT = re.compile(r"^\s*the (user|assistant)\b", re.I)


def misattributed(item: Item, batch: Batch) -> Verdict:
    """An item the other side said: a user fact or profile value whose words the user's
    turns of its cited pages do not hold (under MIN_SUPPORT) while the assistant's hold
    more, and an assistant fact the other way round. A small model mixes up who did what
    (LoCoMo, Qwen 1.5B: "Caroline described her camping trip", Melanie's trip); the words
    say whose it was, the names the two sides go by aside (`Batch.names`: with them,
    "Caroline's husband and kids support her", Melanie's, passed on conv-26; made on
    conv-26/30, it dropped 4 more kept facts of conv-47/48, each the other side's or none).

    A fact whose subject is only its list's role ("The assistant promised to fly to Oslo",
    from the user's "I'm flying to Oslo") moves to the other side instead, its subject
    renamed: the claim is right, the filing was not. So does an assistant fact that names
    its subject ("Mara's daughter Klara started violin lessons", the user's words) when the
    user's name is known: `self_statement` then corrects a subject that is the user.

    A user item cited only on pages memoryos's model answered is cited where the user said
    it instead, when a user turn of the batch does (`told_on`)."""
    user_name = batch.user_name  # fixed here, once support has been weighed
    own, other = (
        (batch.user_turns, batch.agent_turns)
        if item.kind != "assistant"
        else (batch.agent_turns, batch.user_turns)
    )
    names = batch.names
    mine = support(item.text, _cited(own, item.sources), names)
    theirs = support(item.text, _cited(other, item.sources), names)
    if mine >= MIN_SUPPORT or mine >= theirs:
        return None
    whose = "the assistant's" if item.kind != "assistant" else "the user's"
    said = f"{whose} words ({theirs:.0%} in its turns, {mine:.0%} in its own side's)"
    if item.kind != "assistant" and set(item.sources) <= batch.answered:
        told = told_on(item, batch)
        if told:
            return replace(item, sources=told)
    if item.kind == "profile":
        return Drop(said)
    if theirs < REFILE_SUPPORT:
        return Drop(said)  # half its words there: as likely invented as misfiled
    to: Kind = "user" if item.kind == "assistant" else "assistant"
    match = ROLE_SUBJECT.match(item.text)
    if match is not None and match.group(1).lower() == item.kind:
        subject = (user_name or "The user") if to == "user" else "The assistant"
        rest = item.text[match.end() :]
        named = [re.escape(user_name.split(" ")[0])] if to == "user" and user_name else []
        if re.search(rf"\b(?:{'|'.join([*named, f'the {to}'])})\b", rest, re.I):
            # "The assistant recommends James to try RPGs" is not "James recommends James..."
            return Drop(f"{said}; renamed, it would name its subject twice")
        return Item(to, subject + rest, item.sources)
    if to == "user" and user_name:
        return replace(item, kind=to)  # named; `self_statement` names the user if theirs
    return Drop(said)


def told_on(item: Item, batch: Batch) -> tuple[int, ...]:
    """The page of the batch where the user's own turn says a user fact or profile value
    (MIN_SUPPORT of its words, no fewer there than in the answer beside it); () if none.

    The chat model's answers echo what the user told it: "I'm vegetarian" on one page,
    "Since you're vegetarian, try a lentil curry" on the next, and Qwen 1.5B cited the
    answer's page for `diet = vegetarian`. Where the other side is memoryos's own model,
    its words are the user's told back, so the item is cited where the user said it, not
    dropped. Where it is a person (an imported chat, LoCoMo), their words are their own
    claims, and `misattributed` drops as before: re-cited there, 0.5-support pages took
    Melanie's charity race for Caroline's on conv-26."""
    ignore = batch.subjects if item.kind in FACT_KINDS else frozenset()
    told = {pid: support(item.text, said, ignore) for pid, said in batch.user_turns.items()}
    held = [
        pid
        for pid, mine in told.items()
        if mine >= MIN_SUPPORT and mine >= support(item.text, batch.agent_turns[pid], ignore)
    ]
    return (max(held, key=lambda pid: (told[pid], -pid)),) if held else ()


def model_said(item: Item, batch: Batch) -> Verdict:
    """What memoryos's own chat model said is not knowledge: its answer stays on its page,
    and what the user is, has or does comes from the user's turns.

    In a real chat (Qwen 1.5B), "What should I cook for Lena? Remember my allergy." was
    answered "Since Lena is allergic to shellfish, ... grilled shrimp, or oysters". The
    analysis stored "Lena is allergic to shellfish." as the user's knowledge and the advice
    as the assistant's; both were recalled for the next asking, as knowledge, ahead of
    "The user is allergic to shellfish.", and the wrong answer came back word for word.
    - An assistant fact that cites only pages the model answered is dropped: the model's
      own words, as memory, would make its mistakes the next answer's evidence.
    - A user fact or profile value that the model's answers on its cited pages hold more of
      than the user's turns there, with a word only the model said, is dropped. A fact of
      the user's words in the model's words too ("The user is going on a trip to Japan"
      from "I'm going to Japan!" and "Enjoy the trip!") stays.
    Pages whose other side is a person (an imported chat, LoCoMo) are not read here:
    `misattributed` weighs them."""
    answered = tuple(pid for pid in item.sources if pid in batch.answered)
    if not answered:
        return None
    if item.kind == "assistant":
        if len(answered) == len(item.sources):
            return Drop("the chat model's own answer: its page keeps it")
        return None
    claim = stems(item.text, batch.names)
    told = claim & stems(_cited(batch.user_turns, item.sources))
    said = claim & stems(_cited(batch.agent_turns, answered))
    if said - told and len(said) > len(told):
        return Drop(f"the model's words, not the user's: {', '.join(sorted(said - told))}")
    return None


# "The assistant suggested that the user should fly to Oslo": the user's own plan, told back
# as the assistant's advice.
# "The assistant recommends James to try out RPGs": the user by name, too.
ADVICE = (
    r"^\s*the assistant (?:suggest|recommend|advise|encourage|tell|told|remind|urge|ask)\w*"
    r"(?: that)? (?:the user|{name}) (?:should |to |would |will |could |might |must )"
    r"(?P<plan>\w.*)$"
)


def reported_plan(item: Item, batch: Batch) -> Verdict:
    """An assistant fact that tells the user's own plan as the assistant's advice becomes
    the user's plan: "The assistant suggested that the user should fly to Oslo for a
    conference next month." from the user's "Next month I'm flying to Oslo for a conference"
    (Qwen 1.5B at temperature 0, a first session's third statement stored with an agent's
    own answers: its user facts ended after two). The advised words must be the user's
    (REFILE_SUPPORT of them in the user's turns of the cited pages) and not the assistant's
    (under MIN_SUPPORT in its turns): advice the assistant did give stays the assistant's."""
    name = "|".join(re.escape(n) for n in (batch.user_name, batch.user_name.split(" ")[0]) if n)
    match = re.match(ADVICE.format(name=name or "the user"), item.text, re.I)
    if match is None:
        return None
    plan = match.group("plan")
    said = support(plan, _cited(batch.user_turns, item.sources))
    if (
        said < REFILE_SUPPORT
        or support(plan, _cited(batch.agent_turns, item.sources)) >= MIN_SUPPORT
    ):
        return None
    return Item("user", f"{batch.user_name or 'The user'} plans to {plan}", item.sources)


# "Klara is allergic to cats.": who a fact is about, a name at its start.
LEADING_NAME = re.compile(r"^\s*((?!The\b)[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)?)\s+(?=[a-z])")
# ", and she's allergic": a second claim joined to the first, its subject a pronoun or none.
JOINED_CLAIM = re.compile(r",?\s+and\s+(?:(?:she|he|they)\b(?P<be>'s|’s)?\s*)?")
FIRST_PERSON = re.compile(rf"^\W*(?:{SPEAKER_I}|My|Me)\b")
LEADING_PRONOUNS = frozenset({"She", "He"})
SPEAKER_SUBJECT = re.compile(rf"\b(?:{SPEAKER_I})(?![\w'’])")
# A sentence in the speaker's own voice: what they say of themself and theirs.
OWN_VOICE = re.compile(rf"\b(?:{SPEAKER_I}|my|My|me|myself)\b")
# ", and I'm allergic to cats": a clause in the speaker's own voice joined to one about
# someone else.
OWN_CLAUSE = re.compile(rf"\s*[,;]\s*(?:and|but|so|while)\s+({SPEAKER_I}|my|My)\b")


def user_sentences(batch: Batch, pages: tuple[int, ...]) -> list[str]:
    """The sentences of the user's turns on `pages`, clauses about themself apart."""
    said = " ".join(split_own_clauses(batch.user_turns.get(p, "")) for p in pages)
    return re.split(r"(?<=[.!?;])\s+", said)


def split_own_clauses(text: str) -> str:
    """A speaker's clause about themself made a sentence of its own, in the prompt only:
    "My daughter Klara started violin, and I'm allergic to cats" was stored as Klara's
    allergy by Qwen 1.5B in 3 chat sessions of 3; with the clauses apart, as the user's
    in 1 of 3 (in the other two the model's own answer had misread it: see
    `self_statement`)."""
    return OWN_CLAUSE.sub(lambda m: f". {m.group(1).capitalize()}", text)


def self_statement(item: Item, batch: Batch) -> Verdict:
    """A user fact that puts someone else's name on what the user said of themself gets
    the user as its subject: "Klara is allergic to cats." from "My daughter Klara started
    violin. I'm allergic to cats." (Qwen 1.5B, 2 first sessions of 3 with the clauses
    split, after its own answer had misread the allergy as Klara's; 0 of 5 with this). The
    fact's claim must be nearly all in one of the user's sentences that opens in the first
    person and does not name that person, and the user's name must be known (else the
    name in the fact may be theirs)."""
    user_name = batch.user_name
    own_names = name_words(user_name)
    match = LEADING_NAME.match(item.text)
    if item.kind != "user" or match is None or not own_names:
        return None
    # Whole words, not `name_words`: "Mara's daughter Klara" is Klara's, not about Mara.
    if {w.lower() for w in match.group(1).split()} & own_names:
        return None  # about the user already
    name, claim = match.group(1), item.text[match.end() :]
    # "She plans to fly to Oslo" from "Next month I'm flying to Oslo": a pronoun names no
    # one else, so the speaker as a subject anywhere in the sentence is enough ("My
    # daughter Klara started violin" is Klara's).
    own = SPEAKER_SUBJECT.search if name in LEADING_PRONOUNS else FIRST_PERSON.match
    sentences = [s for s in user_sentences(batch, item.sources) if own(s)]

    def own_claim(claim: str) -> bool:
        """Whether `claim` restates a first-person sentence of the user not about `name`."""
        return bool(stems(claim)) and any(
            name not in sentence and support(claim, sentence) >= REFILE_SUPPORT
            for sentence in sentences
        )

    if own_claim(claim):  # "Melanie's kids love..." keeps its possessive
        owner = f"{user_name}'s" if name[-2:] in ("'s", "’s") else user_name
        return replace(item, text=f"{owner} {claim}")
    # "Klara started violin lessons, and she's allergic to cats.": two claims in one
    for joint in JOINED_CLAIM.finditer(claim):
        tail = ("is " if joint.group("be") else "") + claim[joint.end() :]
        if own_claim(tail):
            return [
                replace(item, text=f"{name} {claim[: joint.start()]}."),
                replace(item, text=f"{user_name} {tail}"),
            ]
    return None


def other_side_named(item: Item, batch: Batch) -> Verdict:
    """A user fact whose subject is the name the user calls the other side by ("Thanks,
    Gina!") is about the other side: "Gina found a perfect spot for her store." moves to
    the other side's facts. Unless its claim is nearly all (REFILE_SUPPORT) in one of the
    user's own sentences on the pages it cites: then the model put the wrong name on what
    the user said of themself ("John set small goals and tracked his progress." from
    James's "Setting small goals and tracking my progress helps me"), and the user's name
    replaces it. A claim that would then name its subject twice, or a role ("Gina is the
    assistant."), is dropped. (Qwen 1.5B, LoCoMo: 16 such facts in 99 on four
    conversations.)"""
    match = LEADING_NAME.match(item.text)
    if match is None:
        return None
    name = match.group(1)
    user_name = batch.user_name
    own = name_words(user_name)
    first = name.split()[0].lower()
    if first not in batch.called_by_user - own:
        return None
    claim = item.text[match.end() :]
    roles = name_words(claim) & (own | ROLES)
    sentences = [s for s in user_sentences(batch, item.sources) if OWN_VOICE.search(s)]
    if roles & ROLES:
        return Drop(f"{name}'s role in the conversation, not a fact")
    if not any(support(claim, s) >= REFILE_SUPPORT for s in sentences):
        return replace(item, kind="assistant")
    if not user_name:
        return None  # whose it is is clear, but not what to call them
    if roles:
        return Drop(f"the user's own words under {name}'s name; renamed, it would name its "
                    "subject twice")  # fmt: skip
    return replace(item, text=f"{user_name} {claim}")


def pin_dates(item: Item, batch: Batch) -> Verdict:
    """A relative time a fact kept without its date ("next month") gets the date it meant on
    the page that says it, as the shown pages have it ("next month (December 2023)"). The
    model copies the pinned date most of the time, not always (a first session, Qwen 1.5B:
    "Mara plans to fly to Oslo for a conference on green chemistry next month."). A profile
    value too: the system message shows it with no day ("sister's wedding: Porto next June",
    said in December 2026, is read a year later as June 2028). Only when the pages it cites
    fall on one day: otherwise which day it was said is unknown."""
    said = batch.said_on_one_day(item.sources)
    if said is None:
        return None
    pinned = pin_relative_dates(item.text, said, batch.zone)
    return replace(item, text=pinned) if pinned != item.text else None


def stamp_date(item: Item, batch: Batch) -> Verdict:
    """A fact dated with the day its turn was said, where the turn tells the event's own
    time, gets that time: "Deborah met Anna on Wed 1 February 2023 at yoga in the park."
    was learned from "I met my new neighbor Anna yesterday!", said on that Wednesday. The
    model copied the excerpt's day stamp (its very form, weekday first) in 4 of the 148
    facts of the four played dev stores, and a fact dated wrong answers "when" wrongly.

    It becomes "Deborah met Anna yesterday (31 January 2023) at yoga in the park." Only
    when its pages fall on one day, and exactly one relative time is told in a sentence of
    theirs that shares a word with the fact: "I went hiking yesterday." says nothing of
    when the cat was adopted. A time that falls on the stamp's day ("today") is left."""
    said = batch.said_on_one_day(item.sources)
    if said is None:
        return None
    stamp = day(said, batch.zone)
    dated = re.search(rf"\b(?:on )?{re.escape(stamp)}\b", item.text)
    if dated is None:
        return None
    claim = stems(item.text[: dated.start()] + item.text[dated.end() :])
    told = {
        (phrase[0].lower() + phrase[1:], meant)
        for pid in item.sources
        if pid in batch.user_turns
        for side in (batch.user_turns[pid], batch.agent_turns[pid])
        for sentence in SENTENCE_END.split(side)
        if stems(sentence) & claim
        for phrase, meant in pinned_phrases(sentence, said, batch.zone)
    }
    if len(told) != 1:
        return None
    phrase, meant = told.pop()
    if meant == day_text(local(said, batch.zone).date()):
        return None
    start, end = dated.span()
    return replace(item, text=f"{item.text[:start]}{phrase} ({meant}){item.text[end:]}")


# "my dad passed away": someone of the speaker's, by the word they call them.
KIN = (
    r"mom|mum|mother|dad|father|parents|husband|wife|partner|boyfriend|girlfriend|son|"
    r"daughter|kids?|children|child|sister|brother|grandma|grandmother|grandpa|grandfather|"
    r"aunt|uncle|cousin|niece|nephew|friend|best friend|neighbou?r|boss|dog|cat|puppy|kitten"
)
# What is said of them runs to the sentence's end, or to where the speaker's own voice
# comes back ("My son Theo just turned six, and I'm learning Italian": the Italian is hers).
OWN_KIN = re.compile(rf"\bmy ({KIN})\b(?P<said>(?:(?!\b(?:{SPEAKER_I}|me|my)\b)[^.!?;])*)", re.I)
# "a son, Milo,", "my little dog, Rex.": who the name is, set off by commas (`called_names`);
# "Sorry about your dad, Deborah." names whom the speaker talks to.
APPOSED = re.compile(rf"\b(?:(?:my|our|a|an)\s+(?:[\w-]+\s+)?(?:{KIN})|named|called)\s*$", re.I)


def user_subject(item: Item, batch: Batch) -> str:
    """How `item` names the user as its subject (their name, first name, or "The user"), or
    "" when its subject is someone else."""
    user_name = batch.user_name
    return next(
        (
            s
            for s in (user_name, user_name.split(" ")[0], "The user")
            if s and item.text.startswith(f"{s} ")
        ),
        "",
    )


def kin_statement(item: Item, batch: Batch) -> Verdict:
    """A user fact that puts on the user what the user said of someone of theirs gets that
    person as its subject: "Deborah passed away on 25 January 2023." from her "my dad passed
    away two days ago" (Qwen 1.5B on LoCoMo conv-48) becomes "Deborah's dad passed away
    on 25 January 2023." The fact's claim must be nearly all (REFILE_SUPPORT) in what the
    user said right after "my <kin>", in a page it cites."""
    subject = user_subject(item, batch)
    if not subject:
        return None
    claim = item.text[len(subject) + 1 :]
    if not stems(claim):
        return None
    said = " ".join(batch.user_turns.get(p, "") for p in item.sources)
    for match in OWN_KIN.finditer(said):
        if support(claim, match.group("said")) >= REFILE_SUPPORT:
            return replace(item, text=f"{subject}'s {match.group(1).lower()} {claim}")
    return None


# A death said of the fact's subject, right after it ("Deborah sadly passed away ...", not
# "Deborah said her mom passed away"). "lost" alone is not one ("lost his job").
DIED = re.compile(
    r"^\s*(?:(?:has|had|have|sadly|recently|just)\s+)*"
    r"(?:passed away|passed on|died|is dead|was killed|lost (?:his|her|their) (?:life|battle))\b",
    re.I,
)


def user_died(item: Item, batch: Batch) -> Verdict:
    """A user fact that says the user died. The user is the one talking: the death they
    told of is someone else's, and a fact that puts it on them is false whoever it was.
    Qwen 1.5B stored "Deborah passed away last year (2022)." from Deborah's "she passed
    away a few years ago" about her mother (LoCoMo conv-48); `kin_statement`, which runs
    first, gives the fact its person when the user said "my <kin>", so only a death with
    no one named to put it on is dropped."""
    subject = user_subject(item, batch)
    if not subject or not DIED.match(item.text[len(subject) :]):
        return None
    return Drop("the user is the one talking: the death they told of is someone else's")


# Attributes that say where the user lives or what they do now. Where the user comes from
# (hometown, origin, nationality) stays theirs after a move, so it is not among them.
NOW_ATTRIBUTES = frozenset(
    {
        "city", "current_city", "town", "location", "current_location", "residence",
        "address", "lives_in", "country", "neighborhood", "neighbourhood",
        "job", "current_job", "work", "occupation", "profession", "employer", "workplace",
        "company", "school",
    }
)  # fmt: skip
PLACE_ATTRIBUTES = frozenset(
    {"city", "current_city", "town", "location", "current_location", "residence", "lives_in"}
)
# How people say they left a place or a job, just before naming it (case aside).
LEAVING = (
    r"(?:moved|moving|relocated|relocating)\s+(?:away\s+|out\s+|over\s+)?(?:from|of)"
    r"|left|leaving|quit|quitting"
    r"|used\s+to\s+(?:live|work|be)\s*(?:in|at|for|as)?"
    r"|no\s+longer\s+(?:live|work|am|be)\s*(?:in|at|for|as)?"
)
# Where they went, when they say it right after: "from Leeds to York" (a name, capitalised).
DESTINATION = r"(?:\s+to\s+(?P<to>[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*))?"
LEFT_BEHIND_CHANGES = "the user says they moved on from it: where they went instead"


def left_value(value: str) -> re.Pattern[str]:
    """The user saying they left `value`: "I moved from Leeds to York", "I quit my job at
    Acme", "I no longer work at Acme"; the destination, if named, as group "to"."""
    words = r"\s+".join(re.escape(w) for w in value.split())
    article = r"(?:my\s+job\s+(?:at|as|in)\s+|the\s+|an?\s+)?"
    return re.compile(rf"(?i:\b(?:{LEAVING})\s+{article}{words}\b){DESTINATION}")


def left_behind(item: Item, batch: Batch) -> Verdict:
    """A profile value of where the user lives or works that the user, the last time they
    name it in the batch, says they left: in a first session, "I teach chemistry at a high
    school in Leeds." then "Actually, I moved from Leeds to York last month." gave "city =
    Leeds" (Qwen 1.5B), which the chat then showed as where they live. It becomes the
    place they name next ("York"), or is dropped when they name none."""
    attribute = long_term.normalize_attribute(item.attribute)
    value = item.text.split(",")[0].strip()
    if attribute not in NOW_ATTRIBUTES or not value:
        return None
    named = re.compile(rf"(?i:\b{re.escape(value)}\b)")
    last = next(
        (
            (pid, said)
            for pid, said in sorted(batch.user_turns.items(), reverse=True)
            if named.search(said)
        ),
        None,
    )
    if last is None:
        return None
    pid, said = last
    left = left_value(value).search(said)
    if left is None:
        return None
    if left.group("to") and attribute in PLACE_ATTRIBUTES:
        return replace(item, text=left.group("to"), sources=(pid,))
    return Drop(f"the user says they left it (p{pid}: {left.group(0)!r})")


def moved_on(analysis: Analysis, batch: Batch) -> list[Note]:
    """Where the user lives, as stored, when this batch's user says they moved from it and
    names where to, and the reply holds no new value for it: the new place, added to the
    reply (`left_behind` reads the reply's own items; this reads the stored profile, which
    the model was shown as known and often leaves as it is). Returns the notes."""
    replied = {long_term.normalize_attribute(a) for a, _, _ in analysis.profile}
    notes = []
    for known in batch.profile:
        if long_term.normalize_attribute(known.attribute) in replied:
            continue
        stored = Item("profile", known.value, (), known.attribute)
        after = left_behind(stored, batch)
        if isinstance(after, Item):  # a new place; a drop cannot retire a stored value
            analysis.profile.append((after.attribute, after.text, list(after.sources)))
            notes.append(_note("left_behind", stored, after, "stored; " + LEFT_BEHIND_CHANGES))
    return notes


@dataclass(frozen=True)
class Rule:
    name: str
    check: Callable[[Item, Batch], Verdict]
    kinds: frozenset[Kind] = ALL_KINDS
    changes: str = ""  # why, in a note, for an item the rule changes or moves


# The one order: copies and chat lines go before any name in them is taken for the user's;
# citations are fixed before support is weighed on them; who said what is settled on the
# pages a fact cites; a subject is corrected last, on the side it ends up on.
RULES: tuple[Rule, ...] = (
    Rule("copied_example", copied_example),
    Rule("copied_turn", copied_turn, FACT_KINDS),
    Rule("chat_line", chat_line, FACT_KINDS),
    Rule("bare_role", bare_role, FACT_KINDS, "a side named by its bare role"),
    Rule("courtesy", courtesy, FACT_KINDS),
    Rule("addressed_name", addressed_name, frozenset({"profile"})),
    Rule("name_not_given", name_not_given, frozenset({"profile"})),
    Rule(
        "name_given",
        name_given,
        frozenset({"user"}),
        "the name the user gives as their own, which this fact calls them by",
    ),
    Rule("cite_pages", cite_pages),
    Rule("unsupported", unsupported),
    Rule("unsaid_age", unsaid_age, FACT_KINDS, "an age no page it cites says, taken out"),
    Rule("called_assistant", called_assistant),
    Rule("asked_not_told", asked_not_told, frozenset({"user", "profile"})),
    Rule(
        "reported_plan",
        reported_plan,
        frozenset({"assistant"}),
        "the user's own plan, told as the assistant's advice",
    ),
    Rule("misattributed", misattributed),
    Rule("model_said", model_said),
    Rule(
        "other_side_named",
        other_side_named,
        frozenset({"user"}),
        "about the one the user speaks to, or the user's own words under their name",
    ),
    Rule(
        "self_statement",
        self_statement,
        frozenset({"user"}),
        "what the user said of themself, under another name",
    ),
    Rule(
        "kin_statement",
        kin_statement,
        frozenset({"user"}),
        "what the user said of someone of theirs, put on the user",
    ),
    Rule("user_died", user_died, frozenset({"user"})),
    Rule(
        "left_behind",
        left_behind,
        frozenset({"profile"}),
        LEFT_BEHIND_CHANGES,
    ),
    Rule(
        "stamp_date",
        stamp_date,
        FACT_KINDS,
        "the day it was said, where its turn tells the event's own time",
    ),
    Rule("pin_dates", pin_dates, ALL_KINDS, "a relative time, pinned to the day it was said"),
)
RULE_NAMES = tuple(rule.name for rule in RULES)
REPLY_CHECK = "reply_check"  # not a rule here: the reply model's own validation


def items_of(analysis: Analysis) -> list[Item]:
    return [
        *(Item("user", t, tuple(s)) for t, s in analysis.user_facts),
        *(Item("assistant", t, tuple(s)) for t, s in analysis.assistant_facts),
        *(Item("profile", v, tuple(s), a) for a, v, s in analysis.profile),
    ]


def kept_notes(analysis: Analysis) -> list[Note]:
    """The items that passed every rule, as notes (rule "") beside the drops."""
    return [Note("", "kept", i.kind, i.shown, "", "", i.sources) for i in items_of(analysis)]


def _note(rule: str, before: Item, after: Item, reason: str = "") -> Note:
    if after.kind != before.kind:
        action: Any = "moved"
        reason = reason or f"filed under the {before.kind}, said by the {after.kind}"
    elif after.text != before.text:
        action = "changed"
    else:
        action = "cited"
        shown = ", ".join(f"p{p}" for p in after.sources)
        reason = reason or f"the page(s) that hold its words: {shown}"
    return Note(rule, action, before.kind, before.shown, after.shown, reason, after.sources)


def apply_rules(
    analysis: Analysis, batch: Batch, rules: tuple[Rule, ...] | None = None
) -> list[Note]:
    """Run `rules` in order over the reply's items; `analysis` keeps what passes. Returns
    the notes: what the reply's validation refused, then each drop and change by rule.

    An item moved to the other side joins the end of that side's list, after the items the
    model filed there."""
    notes = [
        Note(REPLY_CHECK, "dropped", kind, text, "", reason)
        for kind, text, reason in analysis.refused
    ]
    items = items_of(analysis)
    for rule in RULES if rules is None else rules:
        batch.items = items
        kept: list[Item] = []
        moved: list[Item] = []
        for item in items:
            if item.kind not in rule.kinds:
                kept.append(item)
                continue
            verdict = rule.check(item, batch)
            if verdict is None:
                kept.append(item)
            elif isinstance(verdict, Drop):
                notes.append(
                    Note(rule.name, "dropped", item.kind, item.shown, "", verdict.reason,
                         item.sources)
                )  # fmt: skip
            else:
                afters = verdict if isinstance(verdict, list) else [verdict]
                for after in afters:
                    (moved if after.kind != item.kind else kept).append(after)
                    if after != item and item in afters:  # kept, and one more
                        notes.append(
                            Note(rule.name, "added", after.kind, after.shown, after.shown,
                                 rule.changes, after.sources)
                        )  # fmt: skip
                    elif after != item:
                        notes.append(_note(rule.name, item, after, rule.changes))
        items = kept + moved
    analysis.user_facts = [(i.text, list(i.sources)) for i in items if i.kind == "user"]
    analysis.assistant_facts = [(i.text, list(i.sources)) for i in items if i.kind == "assistant"]
    analysis.profile = one_of_each(items)
    return notes


def one_of_each(items: list[Item]) -> list[tuple[str, str, list[int]]]:
    """The profile items, one for each attribute and value, citing the pages of all: a
    value given twice in one reply is one piece of evidence, not two. Two user facts
    calling the user Tom each made `name_given` add "name = Tom", and its evidence read 2
    after one analysis."""
    merged: dict[tuple[str, str], tuple[str, str, list[int]]] = {}
    for i in items:
        if i.kind != "profile":
            continue
        # the same value as `long_term.upsert_profile` judges it
        key = (long_term.normalize_attribute(i.attribute), long_term.normalized(i.text))
        if key in merged:
            sources = merged[key][2]
            sources.extend(p for p in i.sources if p not in sources)
        else:
            merged[key] = (i.attribute, i.text, list(i.sources))
    return list(merged.values())


# -- pages no item heard ----------------------------------------------------------------

MIN_STATED_WORDS = 3  # "I'm so glad!" tells nothing to keep; "I'm flying to Oslo" does


def tells_of_themself(said: str) -> bool:
    """Whether a turn holds a sentence in which the speaker tells something of themself:
    their own voice, MIN_STATED_WORDS content words, not a question."""
    return any(
        OWN_VOICE.search(sentence) and len(content_words(sentence)) >= MIN_STATED_WORDS
        for sentence in SENTENCE_END.split(said)
        if not sentence.rstrip().endswith("?")
    )


def unheard_pages(analysis: Analysis, batch: Batch) -> list[int]:
    """The pages of the batch where the user tells something of themself and no kept user
    fact or profile item cites them. Qwen 1.5B writes about one user fact per page, in page
    order, and skips the rest: "Next month I'm flying to Oslo..." after a page with two
    statements left nothing in 5 first sessions of 5 (issue 23)."""
    cited = {p for _, sources in analysis.user_facts for p in sources}
    cited |= {p for _, _, sources in analysis.profile for p in sources}
    told = [pid for pid, said in batch.user_turns.items() if tells_of_themself(said)]
    return [pid for pid in told if pid not in cited]
