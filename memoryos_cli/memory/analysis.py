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
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError, field_validator

FACT_TEXT_MAX = 200
# Upper bounds per list: they keep a small model from rambling under the grammar, and
# a free reply is cut to the same counts.
MAX_KEYWORDS, MAX_PROFILE, MAX_USER_FACTS, MAX_ASSISTANT_FACTS = 8, 8, 10, 6
Item = TypeVar("Item", bound=BaseModel)


def _page_numbers(value: Any) -> list[int]:
    """Page numbers as the model writes them: 12, "12", "page 12", "p12"."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        digits = re.sub(r"\D", "", str(item))
        if digits:
            out.append(int(digits))
    return out


class ProfileChange(BaseModel):
    """A stable attribute of the user (name, city, job, diet...)."""

    attribute: str = Field(min_length=1, max_length=40)
    value: str = Field(min_length=1, max_length=100)
    sources: list[int] = Field(default_factory=list, max_length=6)

    _pages = field_validator("sources", mode="before")(_page_numbers)


class FactItem(BaseModel):
    """One self-contained sentence, with the pages it comes from and what it corrects."""

    text: str = Field(min_length=4, max_length=FACT_TEXT_MAX)
    sources: list[int] = Field(default_factory=list, max_length=6)
    supersedes: list[str] = Field(default_factory=list, max_length=4)

    _pages = field_validator("sources", mode="before")(_page_numbers)

    @field_validator("supersedes", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> list[str]:
        return [str(v) for v in (value if isinstance(value, list) else [value])]


class AnalysisReply(BaseModel):
    """What ONE analysis call returns for a batch of pages."""

    summary: str = Field(max_length=200)
    keywords: list[str] = Field(max_length=MAX_KEYWORDS)
    profile: list[ProfileChange] = Field(max_length=MAX_PROFILE)
    user_facts: list[FactItem] = Field(max_length=MAX_USER_FACTS)
    assistant_facts: list[FactItem] = Field(max_length=MAX_ASSISTANT_FACTS)


def reply_schema() -> dict[str, Any]:
    """The JSON schema handed to llama.cpp's grammar for the constrained retry."""
    return AnalysisReply.model_json_schema()


@dataclass
class Analysis:
    """A validated reply, with references checked against what the model was shown."""

    summary: str = ""
    keywords: list[str] = field(default_factory=list)
    profile: list[tuple[str, str, list[int]]] = field(default_factory=list)
    user_facts: list[tuple[str, list[int], list[int]]] = field(default_factory=list)
    assistant_facts: list[tuple[str, list[int], list[int]]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.profile or self.user_facts or self.assistant_facts)


def _items(model: type[Item], value: Any, limit: int) -> list[Item]:
    """The valid items of a list, each checked on its own; the rest are dropped."""
    out: list[Item] = []
    for item in value if isinstance(value, list) else []:
        try:
            out.append(model.model_validate(item))
        except ValidationError:
            continue
    return out[:limit]


def _clip(text: Any, limit: int) -> str:
    return str(text).strip()[:limit] if isinstance(text, str) else ""


def read_reply(raw: str, page_ids: set[int], known_ids: set[int]) -> Analysis:
    """Validate the model's reply; keep well-formed items with known references.

    Raises ValueError when the reply holds no JSON object at all (then the caller asks
    again under the grammar). Sources outside the shown pages fall back to all of them;
    `supersedes` keeps only ids of facts the model was shown.
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
        out.keywords = [_clip(k, 40).lower() for k in words if isinstance(k, str)][:MAX_KEYWORDS]
    all_pages = sorted(page_ids)
    for change in _items(ProfileChange, data.get("profile"), MAX_PROFILE):
        sources = [s for s in change.sources if s in page_ids] or all_pages
        out.profile.append((change.attribute.strip(), change.value.strip(), sources))
    for key, target, limit in (
        ("user_facts", out.user_facts, MAX_USER_FACTS),
        ("assistant_facts", out.assistant_facts, MAX_ASSISTANT_FACTS),
    ):
        for fact in _items(FactItem, data.get(key), limit):
            sources = [s for s in fact.sources if s in page_ids] or all_pages
            supersedes = [n for n in _page_numbers(fact.supersedes) if n in known_ids]
            target.append((fact.text.strip(), sources, supersedes))
    return out
