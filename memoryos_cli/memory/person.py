"""Who a text speaks of: the user's name as the profile gives it, and a user's message put in
the third person, the way stored facts name the user.

The relevance judge (an ms-marco cross-encoder) reads person: against "Where do I live
now?" it scored "Noor moved from Leeds to York last month." -10.1, and 4.6 against "Where
does Noor live now?"; "Remember my allergy." against "The user is allergic to shellfish."
-10.5, and -0.6 against "Remember the user's allergy." Facts are written in the third
person (the analysis prompt asks for it), so the judge reads them against the message in
the third person too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from memoryos_cli.memory.support import stems
from memoryos_cli.words import SENTENCE_END

NAME_ATTRIBUTES = ("name", "user_name", "first_name", "full_name")
# How facts name a user whose name is not known.
THE_USER = "the user"

# The user's words for themself, and what each becomes ({} is the name): "I" and its
# contractions are matched as written (a capital I); the others in any case.
_FIRST_PERSON = {
    "I'm": "{} is",
    "I've": "{} has",
    "I'd": "{} would",
    "I'll": "{} will",
    "I": "{}",
    "me": "{}",
    "myself": "{}",
    "my": "{}'s",
    "mine": "{}'s",
}
_WORD = re.compile(r"\b(I['’](?:m|ve|d|ll)|I|[Mm]e|[Mm]yself|[Mm]y|[Mm]ine)\b")


# How a person gives their own name in a chat: "I'm Tom", "my name is Tom", "call me Tom".
GIVES_OWN_NAME = "my name is|my name's|i am|i'm|call me"
_GIVES_A_NAME = re.compile(rf"\b(?i:{GIVES_OWN_NAME})\s+[A-Z][a-z]+")


def gives_a_name(text: str) -> bool:
    """Whether `text` gives a capitalized word as its speaker's name ("I'm Tom"; also "I'm
    Italian", which is harmless where this is used)."""
    return _GIVES_A_NAME.search(text) is not None


# Where the word after "I'm" is a name and not what the speaker is ("I'm Italian", "I'm
# Vegan"): said in a greeting ("Hi, I'm Tom"), or with "my name" or "call me".
_NAMES_THEMSELF = re.compile(
    r"(?i:\bmy name is|\bmy name['’]s|\bcall me"
    r"|^\W*(?:hi|hello|hey|hiya)\b.{0,12}?\bi(?:['’]m| am))\s+([A-Z][a-z]+)\b"
)


def name_told(text: str) -> str:
    """The name `text` gives its speaker in so many words ("Hi, I'm Tom", "my name is
    Tom", "call me Tom"), or "" ("I'm Italian" gives none)."""
    found = _NAMES_THEMSELF.search(text)
    return found.group(1) if found else ""


# How a chat model says it knows nothing of the user, in the first sentence of its answer:
# "I'm sorry, but I don't have enough information to know who you are.", "I don't have any
# information about you." ("about your location" is not the user: it stays).
_DENIES_KNOWING = re.compile(
    r"\bI\s+(?:do not|don['’]t|can['’]t|cannot)\s+(?:[\w'’]+\s+){0,6}?"
    r"(?:about you|who you are|your name|know you)\b(?!['’])",
    re.IGNORECASE,
)


def denies_knowing(answer: str) -> bool:
    """Whether `answer` opens by saying it does not know the user."""
    first = SENTENCE_END.split(answer.strip(), maxsplit=1)[0]
    return _DENIES_KNOWING.search(first) is not None


# What a question about the user themself asks, beside "me", "I" and words with no content:
# "Do you know who I am?", "What do you remember about me?", "Tell me about myself."
_OF_KNOWING = stems("know knew remember recall tell told say said learn learned think far anything")


def asks_of_self(query: str) -> bool:
    """Whether `query` asks what is known of the user, and nothing else: in the first
    person, with no content word but words of knowing and telling ("Where do I live?" names
    what it asks: recall answers it)."""
    return in_first_person(query) and stems(query) <= _OF_KNOWING


def says_of_self(text: str) -> bool:
    """Whether a user's turn tells something of them: a sentence in the first person that
    is not a question ("Hi, I'm Sam. I moved to Glasgow." does; "Hi! Do you know who I am?"
    does not)."""
    return any(
        in_first_person(s) and not s.rstrip().endswith("?")
        for s in SENTENCE_END.split(text.strip())
    )


def known_name(profile: list[Any]) -> str:
    """The user's name from the profile, or "" when none is stored."""
    names = [p.value for p in profile if p.attribute in NAME_ATTRIBUTES]
    return names[0] if names else ""


def in_first_person(text: str) -> bool:
    return _WORD.search(text) is not None


def third_person(text: str, name: str = THE_USER) -> str:
    """`text` with the speaker's first person put as `name`: "Where do I live now?" ->
    "Where do Noor live now?" (the judge reads the person, not the grammar)."""

    def said_of(match: re.Match[str]) -> str:
        word = match.group(1).replace("’", "'")
        key = word if word.startswith("I") else word.lower()
        return _FIRST_PERSON[key].format(name)

    return _WORD.sub(said_of, text)


def user_forms(profile: list[Any]) -> list[str]:
    """The names facts may give the user: the stored name (facts written after it was
    learned) and "the user" (facts written before)."""
    name = known_name(profile)
    return [name, THE_USER] if name else [THE_USER]


def as_the_fact_says(text: str, fact: str, user_names: Sequence[str]) -> str:
    """`text` said of the user the way `fact` names them: of the name among `user_names`
    that the fact holds, else as written. A fact that names the user otherwise ("Alice quit
    her job at the bank", the profile holding no name) or not at all ("Idris turns 7") was
    judged closer to the message as typed: 7.4 against 3.2 for "Why did I quit my job at
    the bank?" as "Why did the user quit the user's job...", -5.0 against -8.8 for "How old
    will my son be next week?"."""
    if not in_first_person(text) or in_first_person(fact):
        return text
    lowered = fact.lower()
    name = next((n for n in user_names if re.search(rf"\b{re.escape(n.lower())}\b", lowered)), "")
    return third_person(text, name) if name else text
