"""The Memoryos facade: the only thing the CLI, the MCP server and the benches call."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, TextIO, overload

from memoryos_cli.catalog import TEXT_MODELS
from memoryos_cli.config import Settings, load_settings
from memoryos_cli.embed import Embedder, Reranker
from memoryos_cli.embed.load import DEFAULT_EMBEDDER, embedder_named, reranker_for
from memoryos_cli.errors import InvalidInputError, ModelError, NotFoundError, StoreError
from memoryos_cli.files import bytes_on_disk
from memoryos_cli.health import Check, run_checks
from memoryos_cli.llm import LLM, Message, approx_tokens, prompts
from memoryos_cli.llm.loops import until_it_repeats
from memoryos_cli.memory import (
    analysis_log,
    baselines,
    consolidate,
    ingest,
    jobs,
    long_term,
    mid_term,
    pages,
    portable,
    short_term,
)
from memoryos_cli.memory import context as prompt_context
from memoryos_cli.memory import forget as forgetting
from memoryos_cli.memory import reindex as reindexing
from memoryos_cli.memory.forget import LARGEST_ID, ForgetPlan
from memoryos_cli.memory.person import known_name
from memoryos_cli.memory.records import Fact, Page, ProfileItem, Recall, Segment
from memoryos_cli.memory.retrieve import Signals
from memoryos_cli.memory.retrieve import recall as run_recall
from memoryos_cli.memory.ruled_out import still_said, told_of_self
from memoryos_cli.memory.scope import NO_OWNER, Scope
from memoryos_cli.store import Store, as_store_error
from memoryos_cli.vector import Vector

NO_MODEL = "none"


class Memoryos:
    """Hierarchical memory for one user/assistant pair in one SQLite file.

    Parameters follow the original MemoryOS. `llm_model` is a catalogue name, a GGUF
    path, an object implementing the `LLM` protocol, or "none" for LLM-free mode; when
    omitted, the configured model is loaded on first need (never for storage or recall).
    """

    def __init__(
        self,
        user_id: str | None = None,
        assistant_id: str | None = None,
        data_storage_path: str | Path | None = None,
        llm_model: str | LLM | None = None,
        short_term_capacity: int | None = None,
        mid_term_heat_threshold: float | None = None,
        retrieval_queue_capacity: int | None = None,
        long_term_knowledge_capacity: int | None = None,
        *,
        embedder: Embedder | None = None,
        reranker: Reranker | None | str = "configured",
        settings: Settings | None = None,
        **overrides: Any,
    ) -> None:
        self.settings = settings or load_settings(
            data_storage_path,
            user_id=user_id,
            assistant_id=assistant_id,
            short_term_capacity=short_term_capacity,
            mid_term_heat_threshold=mid_term_heat_threshold,
            retrieval_queue_capacity=retrieval_queue_capacity,
            long_term_knowledge_capacity=long_term_knowledge_capacity,
            model=llm_model if isinstance(llm_model, str) else None,
            **overrides,
        )
        self.store = Store(self.settings.db_path)
        # Embeds on a second core while the store works on the first: recall searches the
        # query's words, add_memory writes the page's text (see `_embed_soon`).
        self._embedding = ThreadPoolExecutor(max_workers=1, thread_name_prefix="memoryos-embed")
        try:  # whatever fails from here on, the file is closed again
            if embedder is None:
                embedder = embedder_named(self._embedder_name(), self.settings)
            if reranker == "configured":
                reranker = reranker_for(self.settings)
            self.embedder = embedder
            self.reranker = reranker if not isinstance(reranker, str) else None
            self.store.bind_embedder(embedder.name, embedder.dim)
            owner = self.store.find_owner(self.settings.user_id, self.settings.assistant_id)
        except BaseException:
            self._embedding.shutdown()
            self.store.close()
            raise
        self.scope = Scope(self.store, owner or NO_OWNER, self.settings, embedder, self.reranker)
        # Jobs whose analysis failed in this process: left for a later session (a model
        # that failed a segment once fails it again on the same pages and the same prompt).
        self._failed_jobs: set[int] = set()
        self._llm: LLM | None = (
            llm_model if llm_model is not None and not isinstance(llm_model, str) else None
        )
        self._llm_lock = threading.Lock()
        self.conversation = prompt_context.Conversation()

    def _embedder_name(self) -> str:
        """The configured embedder; unset, the one this file was indexed with (a store made
        with an older default keeps working: `reindex_hint` says how to move it)."""
        if self.settings.embedder:
            return self.settings.embedder
        bound = self.store.get_meta("embedder")
        if bound and (bound in TEXT_MODELS or Path(bound).expanduser().is_dir()):
            return bound
        # Bound to an embedder not on this machine (a test's, a folder moved): binding
        # the default fails with the one line that says to run `memoryos reindex`.
        return DEFAULT_EMBEDDER

    def warm_text_models(self) -> None:
        """Load the embedder and the relevance judge now (a first question then waits for
        neither); a model that cannot load raises its one-line error."""
        for model in (self.embedder, self.reranker):
            warm = getattr(model, "warm", None)
            if warm is not None:
                warm()

    @property
    def reindex_hint(self) -> str | None:
        """One line for a store indexed with another embedder than today's default."""
        if self.settings.embedder or self.embedder.name == DEFAULT_EMBEDDER:
            return None
        return (
            f"this memory is indexed with {self.embedder.name}; `memoryos reindex` moves it "
            f"to {DEFAULT_EMBEDDER} (better recall)"
        )

    # -- model --------------------------------------------------------------------------

    @property
    def llm_free(self) -> bool:
        return self._llm is None and self.settings.model.lower() == NO_MODEL

    @property
    def llm(self) -> LLM:
        """The chat model, loaded on first use."""
        with self._llm_lock:
            if self._llm is None:
                if self.llm_free:
                    raise ModelError("no model configured (LLM-free mode); use --model NAME|PATH")
                from memoryos_cli.llm.loader import load_llm

                self._llm = load_llm(self.settings.model, self.settings)
            return self._llm

    @property
    def llm_loaded(self) -> bool:
        return self._llm is not None

    def count_tokens(self, text: str) -> int:
        return self._llm.count_tokens(text) if self._llm is not None else approx_tokens(text)

    def prompt_budget(self) -> prompt_context.Budget:
        """How the model's context is shared (its configured size until the model loads)."""
        context = self._llm.context_size if self._llm is not None else self.settings.context_tokens
        return prompt_context.Budget(
            context=context,
            answer=min(self.settings.max_answer_tokens, context // 2),
            recall=self.settings.recall_token_budget,
        )

    def cancel(self) -> None:
        """Stop the model's running answer or analysis now (from any thread)."""
        if self._llm is not None:
            self._llm.cancel()

    # -- writing ------------------------------------------------------------------------

    def _check_text(self, name: str, value: Any) -> str:
        return ingest.check_text(name, value, self.settings.max_input_chars)

    def add_memory(
        self,
        user_input: str,
        agent_response: str,
        timestamp: Any = None,
        meta_data: dict[str, Any] | None = None,
    ) -> int:
        """Store one exchange (one transaction, no LLM call); returns its page id."""
        exchange = {"user_input": user_input, "agent_response": agent_response}
        return self.add_memories([exchange | {"timestamp": timestamp, "meta_data": meta_data}])[0]

    def _embed_soon(self, texts: Sequence[str]) -> Future[Vector]:
        """The vectors of `texts`, computed on the embedding thread.

        One embedder thread and SQLite on the other core overlap almost fully: at 100k
        pages a query's keyword searches and its embedding take ~13 ms each, 15 ms
        together (`memoryos bench perf`).
        """
        return self._embedding.submit(self.embedder.embed, list(texts))

    ADD_BATCH = ingest.ADD_BATCH

    def add_memories(self, exchanges: list[dict[str, Any]]) -> list[int]:
        """Store many exchanges, same result as `add_memory` on each in order; returns page ids.

        Each is a dict of add_memory's arguments (user_input, agent_response, and optional
        timestamp, meta_data). All are checked before anything is written; then each batch
        of ADD_BATCH is embedded in one call and written in one transaction (one fsync).
        """
        return ingest.add_exchanges(self.scope, exchanges, self._embed_soon, self.ADD_BATCH)

    def remember(self, text: str, kind: str = "user") -> int:
        """Store an explicit fact in long-term knowledge; returns its fact id."""
        text = self._check_text("text", text).strip()
        if not text:
            raise InvalidInputError("nothing to remember: the text is empty")
        if kind not in ("user", "assistant"):
            raise InvalidInputError("kind must be 'user' or 'assistant'")
        vec = self.embedder.embed([text])[0]
        with self.scope.writing() as conn:
            return long_term.add_fact(
                conn,
                self.scope.owner_id,
                kind,
                text,
                vec,
                [],
                time.time(),
                capacity=self.settings.long_term_knowledge_capacity,
            )

    def set_profile(self, attribute: str, value: str) -> int:
        """Tell the profile one trait directly ("diet", "vegetarian"), as `remember` tells a
        fact: no model, no source exchange. A new value supersedes the current one, which
        stays in the history; the same value again adds evidence. Returns the item's id."""
        attribute = self._check_text("attribute", attribute).strip()
        value = self._check_text("value", value).strip()
        if not attribute or not value:
            raise InvalidInputError("a profile trait needs an attribute and a value")
        with self.scope.writing() as conn:
            return long_term.upsert_profile(
                conn, self.scope.owner_id, attribute, value, [], time.time()
            )

    def end_session(self) -> bool:
        """Queue analysis of every page not analysed yet (the chat calls it at exit and on
        /new); `consolidate()` then runs it. Returns whether a job was queued."""
        with self.store.transaction() as conn:
            return consolidate.queue_pages(conn, self.scope.owner_id, min_pages=1)

    def mark_digested(self, *, but_newest: int = 0, note: str = "loaded as digested") -> None:
        """Record every page as analysed but the newest `but_newest`, and every job as done
        with `note` (a history loaded as already digested: a bench's prefilled store)."""
        with self.store.transaction() as conn:
            consolidate.mark_digested(conn, self.scope.owner_id, but_newest, note)

    def new_session(self) -> None:
        """A fresh short-term memory (pages move to mid-term); long-term is unchanged."""
        self.end_session()
        with self.store.transaction() as conn:
            ingest.spill_short_term(conn, self.scope, 0)
        with self.store.lock:
            last = pages.latest_id(self.store.conn, self.scope.owner_id)
        self.conversation.restart(last)

    # -- consolidation ------------------------------------------------------------------

    def pending_jobs(self, *, runnable: bool = False) -> int:
        """Queued analyses of this owner; `runnable` leaves out those failed in this process."""
        with self.store.lock:
            ids = jobs.open_ids(self.store.conn, self.scope.owner_id)
        return len(ids - self._failed_jobs) if runnable else len(ids)

    def consolidate(
        self, max_jobs: int | None = None, cancel: threading.Event | None = None
    ) -> int:
        """Run queued analyses with the LLM (off the hot path); returns jobs completed."""
        if self.llm_free or not self.pending_jobs(runnable=True):
            return 0
        return consolidate.run_pending(
            self.scope, self.llm, max_jobs=max_jobs, cancel=cancel, failed=self._failed_jobs
        )

    def idle_work(self, cancel: threading.Event) -> None:
        """What the chat runs while its user types, until `cancel` is set (then `cancel()`
        stops the model at once): the next answer's stable prefix first (the model keeps
        its state aside, so an answer asked mid-analysis evaluates only what follows it),
        then queued consolidation, then the prefix again if an analysis changed the profile.
        """
        if self.llm_free:
            return
        self.llm.warm(self.warm_messages())
        if not cancel.is_set() and self.consolidate(cancel=cancel) and not cancel.is_set():
            self.llm.warm(self.warm_messages())

    def warm_messages(self) -> list[Message]:
        """What idle work evaluates: the stable prefix, then the turn that comes before a
        message that asks no question (`prompts.REPLY_TO_TELLING`). A message that tells
        finds it evaluated; a question's prompt parts from it where the prefix ends, and
        costs what it did (bench chat: 16 more tokens evaluated a turn, without it)."""
        return [*self.stable_prefix(), prompts.REPLY_TO_TELLING]

    # -- reading ------------------------------------------------------------------------

    def retrieve(
        self,
        query: str,
        *,
        k: int | None = None,
        touch: bool = True,
        signals: Signals = Signals(),  # noqa: B008 - frozen, as recall's own default
    ) -> Recall:
        """Recall for `query` across tiers; `touch=False` previews without heating segments,
        and `signals` turns page-ranking signals off (the benches' ablations)."""
        query = self._check_text("query", query)
        if not query.strip():  # an MCP client's "" recalled every recent page, and heated
            raise InvalidInputError("the query is empty; say what to look for")
        qvec = self._embedding.submit(lambda: self.embedder.embed_query([query])[0])
        return run_recall(self.scope, query, qvec, pages_k=k, touch=touch, signals=signals)

    def search(self, query: str, k: int | None = None) -> Recall:
        return self.retrieve(query, k=k, touch=False)

    def search_pages(
        self,
        query: str,
        *,
        method: baselines.Method = "hybrid",
        k: int = 10,
        qvec: Vector | None = None,
    ) -> list[int]:
        """Ids of the pages best matching `query` by one flat index, best first: "bm25",
        "dense" or both fused ("hybrid"), no tiers, heating nothing (the baselines the
        benches compare recall with). `qvec`: the query's vector, when already embedded."""
        query = self._check_text("query", query)
        if qvec is None:
            qvec = self.embedder.embed_query([query])[0]
        return baselines.search_pages(self.scope, query, qvec, k, method)

    def profile(self, history: bool = False) -> list[ProfileItem]:
        with self.store.lock:
            return long_term.profile(self.store.conn, self.scope.owner_id, history=history)

    def knowledge(self, kind: str | None = None, history: bool = False) -> list[Fact]:
        with self.store.lock:
            return long_term.facts(self.store.conn, self.scope.owner_id, kind, history=history)

    def analysis_log(self, analyses: int = 1) -> list[analysis_log.Entry]:
        """What the consolidation rules kept, dropped and changed in the newest `analyses`
        analyses, oldest first (`memoryos memory why`)."""
        with self.store.lock:
            return analysis_log.entries(self.store.conn, self.scope.owner_id, analyses)

    def short_term(self) -> list[Page]:
        with self.store.lock:
            return short_term.pages(self.store.conn, self.scope.owner_id)

    def segments(self) -> list[Segment]:
        with self.store.lock:
            return mid_term.list_segments(
                self.store.conn, self.scope.owner_id, settings=self.settings
            )

    def segment_pages(self, segment_id: int) -> list[Page]:
        if segment_id > LARGEST_ID:  # no row has it, and SQLite cannot even be asked
            raise NotFoundError(f"no segment s{segment_id} for this user")
        with self.store.lock:
            if mid_term.segment_owner(self.store.conn, segment_id) != self.scope.owner_id:
                raise NotFoundError(f"no segment s{segment_id} for this user")
            return pages.in_segment(self.store.conn, segment_id)

    def pages(self, ids: list[int] | None = None, limit: int | None = None) -> list[Page]:
        """Pages of this memory in id order: all of them, those in `ids`, or the newest `limit`."""
        with self.store.lock:
            return pages.load(self.store.conn, self.scope.owner_id, ids, limit)

    def recent_pages(self) -> list[Page]:
        """The recent-turn window of the chat prompt (append-only, cut in big steps)."""
        cap = self.settings.short_term_capacity
        with self.store.lock:
            ids = pages.newest_ids(self.store.conn, self.scope.owner_id, 2 * cap)
        recent = self.conversation.recent(ids, cap)
        return self.pages(recent) if recent else []

    def stats(self) -> dict[str, Any]:
        """Counts per tier and of jobs, and what the file and models are."""
        owner = self.scope.owner_id
        with self.store.lock:
            conn = self.store.conn
            counts = {
                "pages": pages.count(conn, owner),
                "short_term": pages.count(conn, owner, "short"),
                "mid_term_pages": pages.count(conn, owner, "mid"),
                "archived_pages": pages.count(conn, owner, "archive"),
                "segments": mid_term.count_segments(conn, owner),
                "profile_items": long_term.count_profile(conn, owner),
                "user_knowledge": long_term.count_facts(conn, owner, "user"),
                "assistant_knowledge": long_term.count_facts(conn, owner, "assistant"),
                "jobs": jobs.counts(conn, owner),
            }
        return {
            "user_id": self.settings.user_id,
            "assistant_id": self.settings.assistant_id,
            **counts,
            "db_path": str(self.store.path),
            "db_bytes": bytes_on_disk(self.store.path),
            "embedder": self.embedder.name,
            "model": self.settings.model,
            "schema_version": self.store.schema_version,
        }

    # -- answering ----------------------------------------------------------------------

    @property
    def last_recall(self) -> Recall | None:
        """What the last prepared answer recalled (`/why`)."""
        return self.conversation.last_recall

    @property
    def last_prompt(self) -> prompt_context.BuiltPrompt | None:
        """The last prepared prompt, as the model was given it."""
        return self.conversation.last_prompt

    def prepare(
        self,
        query: str,
        relationship_with_user: str = "friend",
        style_hint: str = "",
        *,
        recall: Recall | None = None,
        recent: bool = True,
    ) -> prompt_context.BuiltPrompt:
        """Recall and lay out the prompt for `query`, held to the model's context (no LLM call).

        `recall` replaces this memory's own recall and `recent=False` leaves out the
        recent turns: the benchmark answers every method through this same builder.
        """
        recall = self.retrieve(query) if recall is None else recall
        turns = self.recent_pages() if recent else []
        built = prompt_context.build(
            query,
            recall,
            turns,
            assistant=self.settings.assistant_id,
            budget=self.prompt_budget(),
            count_tokens=self.count_tokens,
            zone=self.settings.zone,
            relationship=relationship_with_user,
            style_hint=style_hint,
            told=told_of_self(  # what the user says now too: no analysis has read it yet
                [
                    *(f.text for f in self.knowledge("user")),
                    *still_said([*(p.user_input for p in turns), query]),
                ],
                known_name(recall.profile),
            ),
        )
        self.conversation.last_recall, self.conversation.last_prompt = recall, built
        return built

    def stable_prefix(self, relationship_with_user: str = "friend", style_hint: str = "") -> list:
        """The part of the next prompt already known before the user types (to warm)."""
        return prompt_context.prefix_messages(
            self.settings.assistant_id,
            self.profile(),
            self.recent_pages(),
            relationship_with_user,
            style_hint,
            budget_tokens=self.prompt_budget().prefix,
            count_tokens=self.count_tokens,
        )

    def stream_response(
        self,
        query: str,
        relationship_with_user: str = "friend",
        style_hint: str = "",
        meta_data: dict[str, Any] | None = None,
    ) -> Generator[str, None, None]:
        """Stream the answer token by token; the exchange is stored when the stream ends,
        also when it is stopped early or the model fails: what was said so far is kept, and
        the user's words always are (stopped before the first token, the answer is empty)."""
        query = self._check_text("query", query)
        parts: list[str] = []
        asked_at = time.time()
        try:  # a model that fails to load, or a failed recall, loses no word the user typed
            _ = self.llm  # loaded first: the prompt is measured with its tokenizer
            built = self.prepare(query, relationship_with_user, style_hint)
            for piece in self.stream_answer(built):
                parts.append(piece)
                yield piece
        finally:
            # marked as the model's: consolidation never takes its words for the user's
            answered = {**(meta_data or {}), pages.ANSWERED_BY: self.settings.model}
            self.add_memory(query, "".join(parts).strip(), asked_at, answered)

    def stream_answer(
        self, built: prompt_context.BuiltPrompt, *, max_tokens: int | None = None
    ) -> Iterator[str]:
        """The model's answer to a prompt from `prepare`, made as the chat makes it: at the
        chat's temperature, never offering a food the profile rules out, and stopped where
        it says a line again (`llm.loops`). Stores nothing."""
        pieces = self.llm.stream(
            built.messages,
            max_tokens=self.prompt_budget().answer if max_tokens is None else max_tokens,
            temperature=self.settings.answer_temperature,
            # only when there is something to avoid: an LLM object of the user's may predate it
            **({"avoid": built.avoid} if built.avoid else {}),
        )
        return until_it_repeats(pieces)

    def get_response(
        self,
        query: str,
        relationship_with_user: str = "friend",
        style_hint: str = "",
        user_conversation_meta_data: dict[str, Any] | None = None,
    ) -> str:
        """Answer `query` with one LLM call, using recalled memory; stores the exchange."""
        return "".join(
            self.stream_response(
                query, relationship_with_user, style_hint, user_conversation_meta_data
            )
        ).strip()

    # -- forgetting ---------------------------------------------------------------------
    # Each forget plans first (`memory/forget.py` says what goes and what stays). With
    # `dry_run` it returns that plan and changes nothing (the preview); otherwise it runs
    # exactly the plan and returns what was deleted per kind. `expect`, a preview's plan,
    # refuses a delete that would differ from what the user was shown.

    @overload
    def forget(self, ref: str, *, dry_run: Literal[True]) -> ForgetPlan: ...
    @overload
    def forget(
        self, ref: str, *, dry_run: Literal[False] = False, expect: ForgetPlan | None = None
    ) -> dict[str, int]: ...
    def forget(
        self, ref: str, *, dry_run: bool = False, expect: ForgetPlan | None = None
    ) -> ForgetPlan | dict[str, int]:
        """Erase one item (p12 page, k3 fact, u4 profile item, s5 segment) everywhere."""
        return self._forget(forgetting.plan_ref, ref, dry_run=dry_run, expect=expect)

    @overload
    def forget_matching(self, text: str, *, dry_run: Literal[True]) -> ForgetPlan: ...
    @overload
    def forget_matching(
        self, text: str, *, dry_run: Literal[False] = False, expect: ForgetPlan | None = None
    ) -> dict[str, int]: ...
    def forget_matching(
        self, text: str, *, dry_run: bool = False, expect: ForgetPlan | None = None
    ) -> ForgetPlan | dict[str, int]:
        """Erase every page, fact, profile item and typed chat line containing `text`."""
        return self._forget(forgetting.plan_matching, text, dry_run=dry_run, expect=expect)

    @overload
    def forget_all(self, *, dry_run: Literal[True]) -> ForgetPlan: ...
    @overload
    def forget_all(
        self, *, dry_run: Literal[False] = False, expect: ForgetPlan | None = None
    ) -> dict[str, int]: ...
    def forget_all(
        self, *, dry_run: bool = False, expect: ForgetPlan | None = None
    ) -> ForgetPlan | dict[str, int]:
        """Erase this whole memory, and the chat's input history."""
        return self._forget(forgetting.plan_all, dry_run=dry_run, expect=expect)

    def _forget(
        self,
        planner: Callable[..., ForgetPlan],
        *args: str,
        dry_run: bool,
        expect: ForgetPlan | None,
    ) -> ForgetPlan | dict[str, int]:
        """Plan with `planner(conn, owner_id, *args, history_path=...)`, then run the plan."""
        owner, history = self.scope.owner_id, self.settings.history_path
        plan = forgetting.run(
            self.scope,
            lambda conn: planner(conn, owner, *args, history_path=history),
            dry_run=dry_run,
            expect=expect,
        )
        return plan if dry_run else plan.counts

    # -- export, import and health -------------------------------------------------------
    # An export file is one `portable.ExportFile` (`export_schema()` is its JSON schema).
    # `read_export` and `health` need no open memory: a bad file is refused before the
    # store is touched, and the doctor works when the memory cannot be opened.

    def export(self, *, embeddings: bool = False) -> portable.ExportFile:
        """Everything of this user/assistant pair, lossless; `embeddings` adds the vectors."""
        return portable.build(self.scope, embeddings=embeddings)

    @staticmethod
    def export_schema() -> dict[str, Any]:
        """The JSON schema of an export file."""
        return portable.schema()

    @staticmethod
    def store_error(exc: Exception) -> StoreError | None:
        """An error the SQLite driver raised outside memoryos's own handling (a query that
        met a damaged page) as the StoreError to show; None for any other error."""
        return as_store_error(exc)

    @staticmethod
    def read_export(source: str | Path | TextIO) -> portable.ExportFile:
        """The export file at `source` (a path, or a text stream such as stdin), wholly
        checked; InvalidInputError says what is wrong."""
        if isinstance(source, str | Path):
            return portable.read_file(source)
        return portable.read_stream(source)

    def import_(self, export: portable.ExportFile | str | Path) -> portable.ImportCounts:
        """Merge an export (or the file at a path) into this memory: all of it in one
        transaction or nothing, without duplicating what is already here."""
        if not isinstance(export, portable.ExportFile):
            export = portable.read_file(export)
        return portable.import_data(self.scope, export)

    @staticmethod
    def health(settings: Settings | None = None) -> list[Check]:
        """Check the SQLite driver, sqlite-vec, FTS5, llama.cpp, the model file (sha256),
        the embedder, the database's integrity and file permissions; each on its own."""
        return run_checks(settings or load_settings())

    # -- lookup and maintenance, for the inspect commands -------------------------------

    def find(self, ref: str) -> Fact | ProfileItem:
        """A fact (k3) or profile item (u4) by its id, superseded history included."""
        if ref.strip().lower()[:1] not in ("k", "u"):
            raise InvalidInputError(f"{ref!r} is not a fact or profile item id; use k3 or u4")
        kind, num = forgetting.parse_ref(ref)
        items: list[Fact] | list[ProfileItem]
        items = self.knowledge(history=True) if kind == "k" else self.profile(history=True)
        for item in items:
            if item.id == num:
                return item
        raise NotFoundError(f"no {'fact' if kind == 'k' else 'profile item'} {ref} in this memory")

    @staticmethod
    def reindex(
        settings: Settings | None = None,
        *,
        progress: reindexing.Progress | None = None,
        estimated: Callable[[reindexing.Estimate], None] | None = None,
    ) -> dict[str, Any]:
        """Re-embed every page, segment and fact in the file with the configured embedder.

        It opens the store itself: after an embedder change no memory opens until this ran.
        `progress` and `estimated` are passed on to `memory.reindex.reindex`.
        """
        settings = settings or load_settings()
        store = Store(settings.db_path)
        try:
            embedder = reindexing.make_embedder(settings)
            return reindexing.reindex(store, embedder, progress, estimated)
        finally:
            store.close()

    def time_commits(self, synchronous: str = "FULL", n: int = 20) -> list[float]:
        """Seconds each of `n` one-row write transactions takes under PRAGMA synchronous
        (`bench perf`: what a commit costs)."""
        return self.store.time_commits(synchronous, n)

    def checkpoint(self) -> None:
        """Move the write-ahead log into the memory file (its size is then the file's)."""
        self.store.checkpoint()

    def close(self) -> None:
        self._embedding.shutdown(wait=True)
        self.store.close()

    def __enter__(self) -> Memoryos:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
