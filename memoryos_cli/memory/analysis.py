"""The consolidation reply: one pydantic model is both the llama.cpp grammar and the check.

`AnalysisReply.model_json_schema()` is what the schema-constrained retry hands to
llama.cpp, and `read_reply` validates a free reply against the same models, so the
grammar and the validation cannot disagree. A free reply is read leniently, item by item:
one malformed fact costs that fact, not the whole (expensive) call.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError, field_validator

from memoryos_cli.memory.support import ROLES
from memoryos_cli.words import tokens

FACT_TEXT_MAX = 200
# Upper bounds per list: they keep a small model from rambling under the grammar, and
# a free reply is cut to the same counts.
MAX_PROFILE, MAX_USER_FACTS, MAX_ASSISTANT_FACTS = 8, 10, 6
Item = TypeVar("Item", bound=BaseModel)
Kind = Literal["user", "assistant", "profile"]
# "12: Ana ran a race on 7 May 2023.": the page first.
LINE = re.compile(r"^\s*\[?(?:p(?:age)?\s*)?(\d+(?:\s*,\s*\d+)*)\]?\s*[:|-]\s*(.+?)\s*$", re.I)


def _page_numbers(value: Any) -> list[int]:
    """Page numbers as the model writes them: 12, "12", "page 12", "p12"."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        digits = re.sub(r"\D", "", str(item))
        if digits:
            out.append(int(digits))
    return out


# A value that says the attribute is not known: Qwen 1.5B wrote "city = unknown (since
# moving from home country)" on LoCoMo conv-26, which the prompt then showed as known.
NOT_KNOWN = re.compile(
    r"^\W*(?:unknown|not (?:known|mentioned|specified|stated|given|sure)|unspecified|"
    r"none|n/?a|null|unclear|tbd|-+|\?+)\W*(?:$|[(,;])",
    re.IGNORECASE,
)


# A value that only names a side of the chat: Qwen 1.5B wrote "name = User" in a chat
# where the user never gave a name (the prompt calls that side "User"), which the system
# message then showed as the user's name.
ROLE_ONLY = re.compile(
    rf"^\W*(?:the\s+)?(?:{'|'.join(sorted(ROLES))}|me|myself|i)\W*$", re.IGNORECASE
)


class ProfileChange(BaseModel):
    """A stable attribute of the user (name, city, job, diet...). A value that says the
    attribute is not known is refused, as a malformed item is: it would be shown to the
    chat model as what the user is."""

    attribute: str = Field(min_length=1, max_length=40)
    value: str = Field(min_length=1, max_length=100)
    sources: list[int] = Field(default_factory=list, max_length=6)

    _pages = field_validator("sources", mode="before")(_page_numbers)

    @field_validator("value")
    @classmethod
    def _says_what_it_is(cls, value: str) -> str:
        if NOT_KNOWN.match(value.strip()):
            raise ValueError("the value says it is not known")
        if ROLE_ONLY.match(value.strip()):
            raise ValueError("the value names a side of the chat, not what the user is")
        return value


# Words that name a kind of attribute, not its value: a fact made of its subject and
# these ("Maria is Maria's profession.") says nothing. Small models write such sentences
# when they turn a profile into facts.
ATTRIBUTE_NAMES = frozenset(
    {"name", "names", "profession", "job", "occupation", "work", "career", "hobby", "hobbies",
     "interest", "interests", "age", "gender", "location", "city", "hometown", "home",
     "nationality", "family", "status", "relationship", "preference", "preferences",
     "personality", "trait", "traits", "background", "role", "title", "identity", "detail",
     "details", "information", "info", "thing", "things"}
)  # fmt: skip
LINKING_WORDS = frozenset(
    {"is", "are", "was", "were", "be", "been", "the", "a", "an", "of", "and", "s", "his", "her",
     "their", "its"}
)  # fmt: skip


def restates_its_subject(text: str) -> bool:
    """True for a sentence that names its subject and attributes and nothing else."""
    words = [w for w in tokens(text) if w not in ("the", "a", "an")]
    if not words:
        return True
    subject = words[0].removesuffix("'s")
    told = [
        w
        for w in words[1:]
        if w.removesuffix("'s") != subject and w not in LINKING_WORDS | ATTRIBUTE_NAMES
    ]
    return not told


# "James recommends James to try out RPGs", "The assistant recommends the assistant to
# show Jolene one of their snakes" (Qwen 1.5B, LoCoMo conv-47 and conv-48): one person who
# does something to themself by name is a model that lost track of who is who.
_PERSON = r"[Tt]he (?:assistant|user)|[A-Z][\w-]*(?: [A-Z][\w-]*)?"
SUBJECT_VERB_OBJECT = re.compile(
    rf"^(?P<subject>{_PERSON}) \w+(?: (?:to|with|for|about|on))? (?P<object>{_PERSON})\b(?!['’])"
)


def done_to_itself(text: str) -> bool:
    """True for a fact whose subject is, by name, its own object."""
    match = SUBJECT_VERB_OBJECT.match(text)
    if match is None:
        return False
    return match.group("subject").lower() == match.group("object").lower()


def own_attribute_as_fact(text: str) -> str:
    """ "Maria is Maria's hobbies of kickboxing and yoga." -> "Maria's hobbies: kickboxing
    and yoga." A subject equated with its own attribute is attribute-value knowledge
    written as a sentence; its value is kept, in the form that says what it is."""
    first = text.split(" ", 1)[0]
    head = f"{first} is {first}'s "
    if not first or not text.lower().startswith(head.lower()):
        return text
    rest = text[len(head) :]
    for joint in (" of ", ": ", " is ", " are "):
        attribute, found, value = rest.partition(joint)
        if found and attribute and len(attribute.split()) <= 3 and value.strip():
            return f"{first}'s {attribute}: {value.strip()}"
    return text


class FactItem(BaseModel):
    """One self-contained sentence, with the pages it comes from.

    Corrections are not asked of the model: it is shown the profile, not the stored facts
    (see `consolidate.analyse`); a fact said again merges in `long_term.add_fact`. A
    sentence that only names its subject, or has it as its own object, is refused here, as
    a malformed item is."""

    text: str = Field(min_length=4, max_length=FACT_TEXT_MAX)
    sources: list[int] = Field(default_factory=list, max_length=6)

    _pages = field_validator("sources", mode="before")(_page_numbers)

    @field_validator("text")
    @classmethod
    def _tells_something(cls, text: str) -> str:
        text = own_attribute_as_fact(text.strip())
        if restates_its_subject(text):
            raise ValueError("the fact only names its subject")
        if done_to_itself(text):
            raise ValueError("the fact's subject is its own object")
        return text


def _line(value: Any) -> dict[str, Any] | Any:
    """A compact item "12: text" as a FactItem's fields; objects pass through."""
    if not isinstance(value, str):
        return value
    match = LINE.match(value)
    pages, text = (match.group(1), match.group(2)) if match else ("", value.strip())
    return {"text": text, "sources": _page_numbers(pages.split(","))}


def _profile_line(value: Any) -> dict[str, Any] | Any:
    """A compact profile item "3: city = Lisbon" as a ProfileChange's fields."""
    item = _line(value)
    if not isinstance(item, dict) or "attribute" in item:
        return item
    attribute, sep, val = str(item["text"]).partition("=")
    if not sep:
        attribute, sep, val = str(item["text"]).partition(":")
    return {"attribute": attribute.strip(), "value": val.strip(), "sources": item["sources"]}


# "12: sentence": the page number, then one fact of at most FACT_TEXT_MAX characters.
Line = Annotated[str, Field(max_length=FACT_TEXT_MAX + 20)]


class AnalysisReply(BaseModel):
    """What ONE analysis call returns for a batch of pages.

    Items are compact strings ("12: Ana ran a race on 7 May 2023."), a third of the tokens
    of nested objects: output tokens are what a call spends its time on (~12/s for Qwen
    1.5B on 2 cores). `read_reply` also accepts items written as objects.
    """

    user_facts: list[Line] = Field(max_length=MAX_USER_FACTS)
    assistant_facts: list[Line] = Field(max_length=MAX_ASSISTANT_FACTS)
    profile: list[Line] = Field(max_length=MAX_PROFILE)
    summary: str = Field(max_length=200)


def reply_schema() -> dict[str, Any]:
    """The JSON schema handed to llama.cpp's grammar for the constrained retry."""
    return AnalysisReply.model_json_schema()


@dataclass
class Analysis:
    """A validated reply, with references checked against what the model was shown."""

    summary: str = ""
    keywords: list[str] = field(default_factory=list)
    profile: list[tuple[str, str, list[int]]] = field(default_factory=list)
    user_facts: list[tuple[str, list[int]]] = field(default_factory=list)
    assistant_facts: list[tuple[str, list[int]]] = field(default_factory=list)
    # (kind, item as written, why): items the validation refused, for `memory why`
    refused: list[tuple[Kind, str, str]] = field(default_factory=list)

    def add(self, other: Analysis) -> None:
        """Take in the items of another look at some of the same pages."""
        self.profile += other.profile
        self.user_facts += other.user_facts
        self.assistant_facts += other.assistant_facts
        self.keywords += [k for k in other.keywords if k not in self.keywords]

    @property
    def empty(self) -> bool:
        return not (self.profile or self.user_facts or self.assistant_facts)


def _items(
    model: type[Item], value: Any, limit: int, kind: Kind, refused: list[tuple[Kind, str, str]]
) -> list[Item]:
    """The valid items of a list, each checked on its own; the rest are dropped, each noted
    in `refused` (its kind, the item as written, the first error)."""
    out: list[Item] = []
    for item in value if isinstance(value, list) else []:
        try:
            out.append(model.model_validate(item))
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"])
            why = str(error["msg"]).removeprefix("Value error, ")
            refused.append((kind, _written(item), f"{where}: {why}" if where else why))
    return out[:limit]


def _written(item: Any) -> str:
    if isinstance(item, dict):
        if "attribute" in item:
            return f"{item.get('attribute')} = {item.get('value')}"
        return str(item.get("text", item))
    return str(item)


def _clip(text: Any, limit: int) -> str:
    return str(text).strip()[:limit] if isinstance(text, str) else ""


def read_reply(raw: str, page_ids: set[int]) -> Analysis:
    """Validate the model's reply; keep well-formed items with known references.

    Raises ValueError when the reply holds no JSON object at all, or items of which not
    one is well-formed (then the caller asks again under the grammar: Qwen 0.5B wrote the
    profile as lists of lists, and its first session learned nothing). Sources outside
    the shown pages fall back to all of them.
    """
    match = re.search(r"\{.*\}", raw, re.DOTALL)
    if match is None:
        raise ValueError("no JSON object in the model's reply")
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError as exc:
        raise ValueError(f"the model's reply is not valid JSON ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise ValueError("the model's reply is not a JSON object")
    out = Analysis(summary=_clip(data.get("summary"), 400))
    words = data.get("keywords")
    if isinstance(words, list):
        out.keywords = [_clip(k, 40).lower() for k in words if isinstance(k, str)][:8]
    all_pages = sorted(page_ids)
    profile = data.get("profile")
    profile = [_profile_line(i) for i in profile] if isinstance(profile, list) else []
    for change in _items(ProfileChange, profile, MAX_PROFILE, "profile", out.refused):
        sources = [s for s in change.sources if s in page_ids] or all_pages
        out.profile.append((change.attribute.strip(), change.value.strip(), sources))
    lists: list[tuple[str, Kind, list[tuple[str, list[int]]], int]] = [
        ("user_facts", "user", out.user_facts, MAX_USER_FACTS),
        ("assistant_facts", "assistant", out.assistant_facts, MAX_ASSISTANT_FACTS),
    ]
    for key, kind, target, limit in lists:
        raw_items = data.get(key)
        items = [_line(i) for i in raw_items] if isinstance(raw_items, list) else []
        for fact in _items(FactItem, items, limit, kind, out.refused):
            sources = [s for s in fact.sources if s in page_ids] or all_pages
            target.append((fact.text.strip(), sources))
    written = sum(
        len(value)
        for key in ("profile", "user_facts", "assistant_facts")
        if isinstance(value := data.get(key), list)
    )
    if written and out.empty:
        raise ValueError(f"none of the {written} items in the model's reply is well-formed")
    return out
