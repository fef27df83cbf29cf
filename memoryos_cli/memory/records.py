"""Plain records that cross the memory/api boundary."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Page:
    id: int
    user_input: str
    agent_response: str
    ts: float
    tier: str
    segment_id: int | None
    meta: dict[str, Any] = field(default_factory=dict)
    keywords: list[str] = field(default_factory=list)
    analyzed: bool = False

    @property
    def ref(self) -> str:
        return f"p{self.id}"

    @classmethod
    def from_row(cls, row: Any) -> Page:
        return cls(
            id=int(row[0]),
            user_input=row[1],
            agent_response=row[2],
            ts=float(row[3]),
            tier=row[4],
            segment_id=None if row[5] is None else int(row[5]),
            meta=json.loads(row[6]),
            keywords=json.loads(row[7]),
            analyzed=bool(row[8]),
        )


PAGE_COLUMNS = (
    "id, user_input, agent_response, ts, tier, segment_id, meta_json, keywords_json, analyzed"
)


@dataclass
class Segment:
    id: int
    summary: str
    keywords: list[str]
    summary_source: str
    n_visit: int
    l_interaction: int
    last_visit_ts: float
    page_count: int
    heat: float = 0.0
    recency: float = 0.0  # the heat's recency term, 1 just visited and falling towards 0

    @property
    def ref(self) -> str:
        return f"s{self.id}"


@dataclass
class ProfileItem:
    id: int
    attribute: str
    value: str
    evidence_count: int
    source_page_ids: list[int]
    ts: float
    updated_at: float
    superseded_by: int | None = None

    @property
    def ref(self) -> str:
        return f"u{self.id}"


@dataclass
class Fact:
    id: int
    kind: str
    text: str
    evidence_count: int
    source_page_ids: list[int]
    ts: float
    updated_at: float
    superseded_by: int | None = None
    archived: bool = False

    @property
    def ref(self) -> str:
        return f"k{self.id}"


def as_dict(record: Page | Segment | ProfileItem | Fact) -> dict[str, Any]:
    """A record as JSON-ready data: its fields and its ref (p12, s5, u4, k3)."""
    return asdict(record) | {"ref": record.ref}


@dataclass
class RecallItem:
    """One recalled memory: what, from which tier, how strongly, and when it happened."""

    ref: str
    tier: str  # short | mid | archive | knowledge | assistant_knowledge
    text: str
    score: float
    similarity: float
    ts: float
    segment_id: int | None = None
    page: Page | None = None
    # The relevance judge's score against the question (a cross-encoder logit), when
    # recall ran one: pages and facts on one scale, so they compete for the prompt.
    relevance: float | None = None
    # A message of several asks (`memory/asks.py`): the judge's score against each ask, in
    # order (`relevance` is the best of them); empty otherwise.
    ask_relevance: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("page")
        if self.page is not None:
            out["user_input"] = self.page.user_input
            out["agent_response"] = self.page.agent_response
            out["meta"] = self.page.meta
        return out


@dataclass
class Recall:
    query: str
    short_term: list[RecallItem]
    mid_term: list[RecallItem]
    knowledge: list[RecallItem]
    profile: list[ProfileItem]
    segments: list[tuple[int, float]] = field(default_factory=list)
    # False for a recall that leaves the long-term tier out (the bench's pages-only and
    # flat methods): its empty profile says nothing of what the user has told.
    long_term: bool = True

    def items(self) -> list[RecallItem]:
        return [*self.short_term, *self.mid_term, *self.knowledge]

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "short_term": [i.to_dict() for i in self.short_term],
            "mid_term": [i.to_dict() for i in self.mid_term],
            "knowledge": [i.to_dict() for i in self.knowledge],
            "profile": [as_dict(p) for p in self.profile],
            "segments": [{"ref": f"s{sid}", "score": s} for sid, s in self.segments],
        }
