"""The export file format, as pydantic models: what `export` writes and `import` accepts.

`memoryos export --schema` prints `ExportFile`'s JSON schema. Import validates a file
with these same models (strictly: JSON `true` is not a number, `1` is not a boolean),
then checks what a schema cannot say: unique ids, references between records, and
vector sizes. Export builds the models from the store without validating them again.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)

from memoryos_cli.memory.ingest import EARLIEST_TS, LATEST_TS

# When something was said: the years a day can be shown in (`ingest.parse_timestamp`).
Moment = Annotated[float, Field(ge=EARLIEST_TS, lt=LATEST_TS)]

# A record's id: from 1 to the largest integer every JSON reader keeps exact. Ids go on
# from the largest one there is: an imported page of id 2^63 - 1 left no id for the next
# exchange, and every later `add`, of any user, failed with "datatype mismatch".
MAX_ID = 2**53 - 1
RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]
Count = Annotated[int, Field(ge=1)]


def _not_empty(text: str) -> str:
    if not text.strip():
        raise ValueError("is empty")
    return text


# What `remember` and `profile set` refuse empty, refused empty here too.
Said = Annotated[str, AfterValidator(_not_empty)]

FORMAT = "memoryos-export"
FORMAT_VERSION = 1
Tier = Literal["short", "mid", "archive"]
JobState = Literal["pending", "running", "done", "failed"]


def _from_base64(value: Any) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise ValueError("is not base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError("is not valid base64") from exc


def _to_base64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# A unit vector, only in exports made with --embeddings (otherwise the key is absent).
Base64Vector = Annotated[
    bytes | None,
    BeforeValidator(_from_base64),
    PlainSerializer(_to_base64, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "contentEncoding": "base64",
            "description": "A unit vector: `dim` little-endian float32 values, base64."
            " Present in exports made with --embeddings.",
        }
    ),
    Field(
        exclude_if=lambda v: v is None, json_schema_extra=lambda field: field.pop("default", None)
    ),
]


class Record(BaseModel):
    """One row of the export; every record has an id unique in its list."""

    model_config = ConfigDict(strict=True, use_attribute_docstrings=True)

    id: RecordId
    """This record's id; references (segment_id, source_page_ids, ...) use it."""


class PageRecord(Record):
    """One exchange: what the user said and what the assistant answered."""

    user_input: str
    agent_response: str
    ts: Moment
    """When it was said, in seconds since the epoch (UTC)."""
    tier: Tier
    """short: the recent turns; mid: in a segment; archive: evicted from mid-term."""
    segment_id: int | None
    """The segment holding it: set exactly when tier is mid."""
    meta: dict[str, Any]
    keywords: list[str]
    analyzed: bool
    """Whether consolidation has read it."""
    created_at: float
    embedding: Base64Vector = None

    @model_validator(mode="after")
    def _segment_matches_tier(self) -> PageRecord:
        if (self.tier == "mid") != (self.segment_id is not None):
            raise ValueError("has a segment_id that does not match its tier")
        return self


class SegmentRecord(Record):
    """A mid-term topic: pages about one subject, with a summary and a heat."""

    summary: str
    keywords: list[str]
    summary_source: str
    n_visit: int
    """How often recall visited it."""
    l_interaction: int
    """How many exchanges it holds (the interaction length of its heat)."""
    last_visit_ts: float
    page_count: int
    recency: float | None = None
    """Computed at export for reading; import ignores it."""
    heat: float | None = None
    """Computed at export for reading; import ignores it."""
    created_at: float
    updated_at: float
    centroid: Base64Vector = None


class ProfileRecord(Record):
    """One value of a profile attribute; a newer value supersedes the older one."""

    attribute: Said
    value: Said
    evidence_count: Count
    source_page_ids: list[int]
    """The pages it was learnt from."""
    ts: Moment
    updated_at: float
    superseded_by: int | None
    """The profile item that replaced this value, or null while it is current."""
    created_at: float


class FactRecord(Record):
    """One long-term fact about the user or said by the assistant."""

    kind: Literal["user", "assistant"]
    text: Said
    evidence_count: Count
    source_page_ids: list[int]
    """The pages it was learnt from."""
    ts: Moment
    updated_at: float
    superseded_by: int | None
    """The fact that corrected this one, or null while it stands."""
    archived: bool
    """Retired by the long-term capacity (kept, no longer recalled)."""
    created_at: float
    embedding: Base64Vector = None


class JobRecord(Record):
    """A queued or finished consolidation job about one segment."""

    kind: str
    target_id: int
    """The segment it analyses."""
    state: JobState
    attempts: int
    error: str | None
    created_at: float
    updated_at: float


class EmbedderInfo(BaseModel):
    """The embedder that made the vectors: import re-embeds when it is not its own."""

    model_config = ConfigDict(strict=True)

    name: str
    dim: int = Field(ge=1)


def _check_unique(section: str, items: Sequence[Record]) -> set[int]:
    seen: set[int] = set()
    for n, item in enumerate(items):
        if item.id in seen:
            raise ValueError(f"{section}[{n}] repeats id {item.id}")
        seen.add(item.id)
    return seen


def _check_chain(
    section: str, prefix: str, items: Sequence[ProfileRecord | FactRecord], page_ids: set[int]
) -> None:
    """Profile items or facts: sources are pages of the file, superseded_by one of the list."""
    ids = _check_unique(section, items)
    for n, item in enumerate(items):
        missing = sorted(set(item.source_page_ids) - page_ids)
        if missing:
            raise ValueError(f"{section}[{n}].source_page_ids refers to missing page p{missing[0]}")
        sup = item.superseded_by
        if sup is not None and sup == item.id:
            raise ValueError(f"{section}[{n}].superseded_by is its own id, {prefix}{sup}")
        if sup is not None and sup not in ids:
            raise ValueError(f"{section}[{n}].superseded_by refers to a missing item {prefix}{sup}")


def _check_vectors(section: str, name: str, items: Sequence[Record], dim: int) -> None:
    for n, item in enumerate(items):
        raw = getattr(item, name)
        if raw is not None and len(raw) != 4 * dim:
            raise ValueError(f"{section}[{n}].{name} is not a {dim}-d float32 vector")


class ExportFile(BaseModel):
    """Everything memoryos holds about one user/assistant pair (`memoryos export`)."""

    model_config = ConfigDict(strict=True, use_attribute_docstrings=True, title="memoryos export")

    format: Literal["memoryos-export"]
    format_version: int = Field(ge=1, le=FORMAT_VERSION)
    """The version of this file format."""
    schema_version: int = Field(ge=1)
    """The database schema version of the memoryos that wrote it."""
    exported_at: float | None = None
    """When it was written (seconds since the epoch); import ignores it."""
    user_id: str
    assistant_id: str
    embedder: EmbedderInfo
    embeddings: bool = False
    """Whether records carry their vectors (`export --embeddings`)."""
    settings: dict[str, Any] = Field(default_factory=dict)
    """The memory's settings, without paths of the exporting machine; import ignores them."""
    pages: list[PageRecord]
    segments: list[SegmentRecord]
    profile: list[ProfileRecord]
    knowledge: list[FactRecord]
    jobs: list[JobRecord]

    @model_validator(mode="after")
    def _check_references(self) -> ExportFile:
        """Unique ids, references that resolve, and vectors of the embedder's size."""
        page_ids = _check_unique("pages", self.pages)
        seg_ids = _check_unique("segments", self.segments)
        for n, p in enumerate(self.pages):
            if p.segment_id is not None and p.segment_id not in seg_ids:
                raise ValueError(
                    f"pages[{n}].segment_id refers to a missing segment s{p.segment_id}"
                )
        filled = {p.segment_id for p in self.pages}
        for n, s in enumerate(self.segments):
            if s.id not in filled:
                raise ValueError(f"segments[{n}] has no pages")
        _check_chain("profile", "u", self.profile, page_ids)
        _check_chain("knowledge", "k", self.knowledge, page_ids)
        _check_unique("jobs", self.jobs)
        for n, job in enumerate(self.jobs):
            if job.state in ("pending", "running") and job.target_id not in seg_ids:
                raise ValueError(
                    f"jobs[{n}].target_id refers to a missing segment s{job.target_id}"
                )
        dim = self.embedder.dim
        _check_vectors("pages", "embedding", self.pages, dim)
        _check_vectors("knowledge", "embedding", self.knowledge, dim)
        _check_vectors("segments", "centroid", self.segments, dim)
        return self

    def to_data(self) -> dict[str, Any]:
        """Plain JSON-able data, vectors as base64."""
        return self.model_dump(mode="json")

    def to_json(self) -> str:
        return to_json(self.to_data())


def to_json(data: dict[str, Any]) -> str:
    """The file's text: indented, UTF-8 as is."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def schema() -> dict[str, Any]:
    """The JSON schema of an export file (`memoryos export --schema`)."""
    return ExportFile.model_json_schema()
