"""MCP tools over the Memoryos facade, served on stdio (LLM-free: storage and recall only)."""

# No `from __future__ import annotations`: the SDK reads the tool signatures at runtime,
# and they refer to locals of build_server.

import dataclasses
import datetime as dt
import inspect
import logging
import threading
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from memoryos_cli import __version__
from memoryos_cli.api import NO_MODEL, Memoryos
from memoryos_cli.clock import iso
from memoryos_cli.config import Settings
from memoryos_cli.errors import MemoryosError
from memoryos_cli.memory.records import Fact, ProfileItem, Recall, as_dict

SERVER_NAME = "memoryos"
INSTRUCTIONS = (
    "Long-term memory of one user across conversations. Call retrieve_memory with the "
    "user's message before answering, and add_memory with each finished exchange. "
    "Every recalled item carries an id (p12 page, k3 fact, u4 profile item, s5 segment), "
    "a tier, a score and an ISO 8601 timestamp in the user's time zone (with its offset), so "
    "'when' questions can be answered with the user's day."
)
log = logging.getLogger(__name__)
T = TypeVar("T")
JSON = "application/json"


def _stamped(item: dict[str, Any], zone: dt.tzinfo) -> dict[str, Any]:
    """An item keyed by `id` (p12, k3, u4: what forget_memory takes), with an ISO timestamp."""
    rest = {k: v for k, v in item.items() if k not in ("ref", "id")}
    return {"id": item["ref"], **rest, "timestamp": iso(item["ts"], zone)}


def _item(item: ProfileItem | Fact, zone: dt.tzinfo) -> dict[str, Any]:
    return _stamped(as_dict(item), zone)


def _recall(recall: Recall, zone: dt.tzinfo) -> dict[str, Any]:
    data = recall.to_dict()
    for tier in ("short_term", "mid_term", "knowledge", "profile"):
        data[tier] = [_stamped(item, zone) for item in data[tier]]
    data["segments"] = [{"id": s["ref"], "score": s["score"]} for s in data["segments"]]
    return data


class MemoryTools:
    """What the MCP tools do, as plain methods: typed arguments in, JSON-ready dicts out.

    Bad input raises a `MemoryosError` before anything is written. Calls are serialized:
    the SDK runs sync tools on worker threads, and one Memoryos shares one connection.
    """

    def __init__(self, memory: Memoryos) -> None:
        self.memory = memory
        self.zone = memory.settings.zone
        self._lock = threading.Lock()

    def _call(self, fn: Callable[[], T]) -> T:
        with self._lock:
            return fn()

    def add_memory(
        self,
        user_input: str,
        agent_response: str,
        timestamp: str | float | None = None,
        meta_data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        page_id = self._call(
            lambda: self.memory.add_memory(user_input, agent_response, timestamp, meta_data)
        )
        page = self._call(lambda: self.memory.pages([page_id]))[0]
        stamp = iso(page.ts, self.zone)
        return {"id": page.ref, "tier": page.tier, "timestamp": stamp, "ts": page.ts}

    def retrieve_memory(self, query: str, max_results: int | None = None) -> dict[str, Any]:
        return _recall(self._call(lambda: self.memory.retrieve(query, k=max_results)), self.zone)

    def search_memory(self, query: str, k: int | None = None) -> dict[str, Any]:
        return _recall(self._call(lambda: self.memory.search(query, k=k)), self.zone)

    def get_user_profile(
        self, include_knowledge: bool = True, include_assistant_knowledge: bool = False
    ) -> dict[str, Any]:
        def read() -> dict[str, Any]:
            out: dict[str, Any] = {
                "user_id": self.memory.settings.user_id,
                "assistant_id": self.memory.settings.assistant_id,
                "profile": [_item(p, self.zone) for p in self.memory.profile()],
            }
            if include_knowledge:
                out["knowledge"] = [_item(f, self.zone) for f in self.memory.knowledge("user")]
            if include_assistant_knowledge:
                facts = self.memory.knowledge("assistant")
                out["assistant_knowledge"] = [_item(f, self.zone) for f in facts]
            return out

        return self._call(read)

    def forget_memory(self, id: str) -> dict[str, Any]:  # noqa: A002 - the tool's argument name
        counts = self._call(lambda: self.memory.forget(id))
        return {"forgotten": id.strip().lower(), "deleted": counts}

    def list_segments(self) -> dict[str, Any]:
        segments = self._call(self.memory.segments)
        return {
            "segments": [
                {
                    "id": s.ref,
                    "summary": s.summary,
                    "keywords": s.keywords,
                    "heat": round(s.heat, 4),
                    "page_count": s.page_count,
                    "visits": s.n_visit,
                    "last_visit": iso(s.last_visit_ts, self.zone),
                }
                for s in segments
            ]
        }

    def stats(self) -> dict[str, Any]:
        return self._call(self.memory.stats)


def build_server(tools: MemoryTools) -> MCPServer:
    """An MCPServer whose tools call `tools`; MemoryosError becomes a tool error result."""
    limit = tools.memory.settings.max_input_chars
    server = MCPServer(
        SERVER_NAME, version=__version__, instructions=INSTRUCTIONS, log_level="WARNING"
    )
    most = f"at most {limit:,} characters"
    Query = Annotated[str, Field(description=f"What to recall, in words ({most}).")]

    def guarded(fn: Callable[[], T]) -> T:
        try:
            return fn()
        except MemoryosError as exc:
            raise ToolError(str(exc)) from exc

    def add_memory(
        user_input: Annotated[str, Field(description=f"What the user said ({most}).")],
        agent_response: Annotated[str, Field(description=f"What the assistant answered ({most}).")],
        timestamp: Annotated[
            str | float | None,
            Field(
                description="When it was said: ISO 8601 (2024-05-01T14:30, the user's local "
                "time unless it names a zone) or epoch seconds; default now."
            ),
        ] = None,
        meta_data: Annotated[
            dict[str, Any] | None,
            Field(
                description="Any JSON object to keep with the exchange. With "
                '{"answered_by": "<your model>"} the response is your own words: the '
                "analysis then never takes them for facts about the user."
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Store one exchange (user input + assistant response) in the user's memory.
        No model is called; returns the new page id (like p12)."""
        return guarded(lambda: tools.add_memory(user_input, agent_response, timestamp, meta_data))

    def retrieve_memory(
        query: Query,
        max_results: Annotated[
            int | None,
            Field(
                ge=1,
                le=100,
                description="Most mid-term pages to return (default from settings); the"
                " recent turns of short-term memory always come too.",
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Recall what is relevant to `query`: short-term pages, mid-term pages, knowledge and
        the user profile, each item with id, tier, score and timestamp. Counts as a visit
        (recalled topics get hotter); use search_memory to look without that side effect."""
        return guarded(lambda: tools.retrieve_memory(query, max_results))

    def search_memory(
        query: Query,
        k: Annotated[
            int | None,
            Field(ge=1, le=100, description="Most mid-term pages (short-term: all recent turns)."),
        ] = None,
    ) -> dict[str, Any]:
        """Preview what retrieve_memory would return for `query`, with scores and tiers,
        without changing anything (segments are not heated)."""
        return guarded(lambda: tools.search_memory(query, k))

    def get_user_profile(
        include_knowledge: Annotated[
            bool, Field(description="Also return facts about the user.")
        ] = True,
        include_assistant_knowledge: Annotated[
            bool, Field(description="Also return what the assistant learned about itself.")
        ] = False,
    ) -> dict[str, Any]:
        """The user's long-term profile (traits and preferences with evidence counts), and
        optionally the user and assistant knowledge. Built by consolidation in `memoryos chat`;
        this server queues that work but never runs a model itself."""
        return guarded(
            lambda: tools.get_user_profile(include_knowledge, include_assistant_knowledge)
        )

    def forget_memory(
        id: Annotated[  # noqa: A002 - the name the client sees
            str, Field(description="p12 (page), k3 (fact), u4 (profile item) or s5 (segment).")
        ],
    ) -> dict[str, Any]:
        """Erase one memory everywhere: its text, its index entries, and what was learned
        from it. Cannot be undone."""
        return guarded(lambda: tools.forget_memory(id))

    def list_segments() -> dict[str, Any]:
        """The mid-term topic segments, hottest first: id, summary, keywords, heat, page count."""
        return guarded(tools.list_segments)

    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)
    writes = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
    destructive = ToolAnnotations(
        destructive_hint=True, idempotent_hint=True, open_world_hint=False
    )
    for fn, annotations in (
        (add_memory, writes),
        (retrieve_memory, writes),
        (search_memory, read_only),
        (get_user_profile, read_only),
        (forget_memory, destructive),
        (list_segments, read_only),
    ):
        description = " ".join(inspect.cleandoc(fn.__doc__ or "").split())
        server.add_tool(fn, description=description, annotations=annotations)

    @server.resource("memoryos://profile", description="Profile and knowledge.", mime_type=JSON)
    def profile_resource() -> dict[str, Any]:
        return tools.get_user_profile(True, True)

    @server.resource("memoryos://stats", description="Counts per tier, jobs.", mime_type=JSON)
    def stats_resource() -> dict[str, Any]:
        return tools.stats()

    return server


def open_memory(settings: Settings, **kwargs: Any) -> Memoryos:
    """The memory in LLM-free mode: no chat model is ever loaded by this process."""
    return Memoryos(settings=dataclasses.replace(settings, model=NO_MODEL), **kwargs)


def warm_in_background(memory: Memoryos) -> threading.Thread | None:
    """Load the embedder and reranker on a daemon thread: `initialize` is answered at once."""

    def run() -> None:
        try:
            memory.warm_text_models()
        except MemoryosError as exc:  # the first tool call reports it as a tool error
            log.warning("text models not loaded: %s", exc)

    thread = threading.Thread(target=run, name="memoryos-embedder-warm", daemon=True)
    thread.start()
    return thread


def serve(settings: Settings) -> None:
    """Run the MCP server on stdin/stdout until the client disconnects."""
    memory = open_memory(settings)
    warming: threading.Thread | None = None
    try:
        server = build_server(MemoryTools(memory))
        warming = warm_in_background(memory)
        server.run("stdio")
    finally:
        # A client that leaves at once must not leave the warm-up inside onnxruntime while
        # the interpreter exits: the process would abort instead of exiting 0 (seen in the
        # chat, `repl.leave_if_loading`). The warm-up is bounded: load, then one batch.
        if warming is not None:
            warming.join()
        memory.close()
