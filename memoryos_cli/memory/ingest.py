"""The write path: exchanges checked, embedded and stored, short-term spilling to mid-term.

Every exchange is checked before anything is written. Then each batch of ADD_BATCH is
embedded in one call, on the embedding thread, while the batch's text (pages, FTS,
sessions) is written in one transaction (one fsync); the vectors close that transaction,
and a failed embedding rolls the whole batch back. No LLM call: analysis is queued here
and runs later (`consolidate`).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from memoryos_cli.errors import InvalidInputError
from memoryos_cli.memory import consolidate, mid_term, pages, short_term
from memoryos_cli.memory.keywords import keywords
from memoryos_cli.memory.page_text import page_text
from memoryos_cli.memory.scope import Scope
from memoryos_cli.store import vectors
from memoryos_cli.vector import Vector

ADD_BATCH = 256
FIELDS = frozenset({"user_input", "agent_response", "timestamp", "meta_data"})
# A checked exchange: user input, agent response, timestamp, meta data, keywords.
Exchange = tuple[str, str, float, dict[str, Any], list[str]]
# Vectors of texts (one row each), computed on the embedding thread.
EmbedSoon = Callable[[Sequence[str]], "Future[Vector]"]


# The moments a page may be dated: a day shown in any zone stays within the years Python
# can show (a page of 1 January, year 1, stored in UTC, broke `memory short` in Tokyo).
EARLIEST_TS = dt.datetime(1900, 1, 1, tzinfo=dt.UTC).timestamp()
LATEST_TS = dt.datetime(9000, 1, 1, tzinfo=dt.UTC).timestamp()
YEARS = "from the year 1900 to 8999"
# A time ahead of this machine's clock by more than this is refused (another machine's
# clock, or a zone read wrong, may be a little ahead).
FUTURE_SLACK_S = 36 * 3600


def parse_timestamp(value: Any, zone: dt.tzinfo) -> float:
    """Seconds since the epoch from None (now), a number, a datetime or an ISO 8601 string.

    Strings go through `datetime.fromisoformat` (which reads "2024-05-01 14:30", a bare
    date and a trailing Z), else they must be a number. A time without a zone is a wall
    time in `zone`, the user's: "2024-05-01 18:00" is 6 pm where the user lives, as the
    day it is then shown on says (a time that would be UTC needs its Z or +00:00).
    """
    if value is None:
        return time.time()
    parsed = value
    if isinstance(value, str):
        for read in (dt.datetime.fromisoformat, float):
            try:
                parsed = read(value.strip())
                break
            except ValueError:
                pass
    try:
        if isinstance(parsed, int | float) and not isinstance(parsed, bool):
            seconds = float(parsed)
        elif isinstance(parsed, dt.datetime):
            seconds = (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).timestamp()
        else:
            raise InvalidInputError(
                f"cannot read timestamp {value!r}; use ISO 8601, e.g. 2024-05-01T14:30"
            )
    except (ValueError, OverflowError, OSError) as exc:  # year 0 in the zone
        # Python's own words said "year 0 is out of range" of the year 1 typed
        raise InvalidInputError(f"timestamp {value!r} is out of range: {YEARS}") from exc
    if not EARLIEST_TS <= seconds < LATEST_TS:  # nan fails both comparisons
        raise InvalidInputError(f"timestamp {value!r} is out of range: {YEARS}")
    if seconds > time.time() + FUTURE_SLACK_S:
        # Heat's "now" is the newest exchange's time (`pages.logical_now`): one typed as
        # 2062 left every segment "just visited" until then, even after it was forgotten.
        raise InvalidInputError(
            f"timestamp {value!r} is in the future; an exchange is stored when it happened"
        )
    return seconds


def check_text(name: str, value: Any, max_chars: int) -> str:
    """`value` as text to store: a str of at most `max_chars` that encodes as UTF-8, NUL
    dropped; anything else is one clear error."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be text, not {type(value).__name__}")
    if len(value) > max_chars:
        raise InvalidInputError(
            f"{name} is {len(value):,} characters; the limit is {max_chars:,}"
            " (setting max_input_chars)"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError(
            f"{name} is not valid UTF-8 text (position {exc.start}); re-encode it as UTF-8"
        ) from exc
    return value.replace("\x00", "")


def checked_sides(user_input: Any, agent_response: Any, max_chars: int) -> tuple[str, str]:
    """An exchange's two sides as `check_text` takes them, not both empty (what `add` and
    an import both check)."""
    user_input = check_text("user_input", user_input, max_chars)
    agent_response = check_text("agent_response", agent_response, max_chars)
    if not user_input.strip() and not agent_response.strip():
        raise InvalidInputError("an exchange needs a user input or an agent response")
    return user_input, agent_response


def checked_exchange(item: Any, scope: Scope) -> Exchange:
    """One exchange of `add_memories`, checked as `add_memory` checks its arguments."""
    if not isinstance(item, dict):
        raise InvalidInputError("each exchange must be an object with user_input/agent_response")
    unknown = set(item) - FIELDS
    if unknown:
        raise InvalidInputError(f"unknown exchange fields: {', '.join(sorted(unknown))}")
    limit = scope.settings.max_input_chars
    user_input, agent_response = checked_sides(
        item.get("user_input", ""), item.get("agent_response", ""), limit
    )
    meta_data = item.get("meta_data")
    if meta_data is not None and not isinstance(meta_data, dict):
        raise InvalidInputError("meta_data must be a JSON object")
    try:
        meta_chars = len(json.dumps(meta_data or {}))
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"meta_data is not JSON-serializable: {exc}") from exc
    if meta_chars > limit:  # an MCP client stored 3 MB of it beside a capped text
        raise InvalidInputError(
            f"meta_data is {meta_chars:,} characters as JSON; the limit is {limit:,}"
            " (setting max_input_chars)"
        )
    ts = parse_timestamp(item.get("timestamp"), scope.settings.zone)
    words = keywords(f"{user_input}\n{agent_response}")
    return user_input, agent_response, ts, meta_data or {}, words


def spill_short_term(
    conn: Any,
    scope: Scope,
    keep: int,
    unwritten: Callable[[int], Vector | None] = lambda _: None,
) -> None:
    """Move the pages beyond the newest `keep` from short-term into mid-term segments
    (`unwritten` gives the vectors of pages whose vector is not in the store yet)."""
    for page in short_term.overflow(conn, scope.owner_id, keep):
        page_vec = unwritten(page.id)
        if page_vec is None:
            page_vec = vectors.get(conn, "pages_vec", [page.id])[page.id]
        mid_term.place_page(conn, scope.owner_id, page, page_vec, settings=scope.settings)


def add_exchanges(
    scope: Scope, exchanges: list[dict[str, Any]], embed_soon: EmbedSoon, batch: int = ADD_BATCH
) -> list[int]:
    """Store `exchanges` in order, as many `add_memory` calls would; their page ids. Each
    batch is embedded while the one before it is written."""
    checked = [checked_exchange(item, scope) for item in exchanges]
    batches = [checked[at : at + batch] for at in range(0, len(checked), batch)]

    def embedded(exchanges: list[Exchange]) -> Future[Vector]:
        return embed_soon([page_text(u, a) for u, a, *_ in exchanges])

    ids: list[int] = []
    embedding = [embedded(b) for b in batches[:1]]
    for n, exchanges_of_batch in enumerate(batches):
        if n + 1 < len(batches):
            embedding.append(embedded(batches[n + 1]))
        ids.extend(write_batch(scope, exchanges_of_batch, embedding.pop(0)))
    return ids


def write_batch(scope: Scope, batch: list[Exchange], vecs: Future[Vector]) -> list[int]:
    """One transaction: the batch's pages, spills to mid-term, vectors, analysis jobs.

    The text (pages, FTS, sessions) is written while `vecs` is being computed; a single
    add_memory waits for it only at the end. A failed embedding rolls it all back.
    """
    ids = list[int]()

    def batch_vector(page_id: int) -> Vector | None:
        """A vector not written yet: a page of this batch spilling to mid-term."""
        return vecs.result()[ids.index(page_id)] if page_id in ids else None

    with scope.writing() as conn:
        owner = scope.owner_id
        for user_input, agent_response, ts, meta, words in batch:
            ids.append(pages.insert(conn, owner, user_input, agent_response, ts, meta, words))
            spill_short_term(conn, scope, scope.settings.short_term_capacity, batch_vector)
        for page_id, vec in zip(ids, vecs.result(), strict=True):
            vectors.upsert(conn, "pages_vec", page_id, owner, vec)
        consolidate.queue_pages(conn, owner)
    return ids
