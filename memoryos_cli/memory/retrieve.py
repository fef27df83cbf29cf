"""Recall: hybrid ranking (sqlite-vec KNN + FTS5 BM25) over segments, pages and
knowledge, shaped by the MemoryOS tiers and by where a page sits in its conversation.

A page's score is the relative-score fusion of its BM25 and cosine lists, plus:
- its phrases: half its min-max BM25 over the query's adjacent word pairs ("dance class");
- its neighbours: half the fused score of the better of the pages just before and after
  it in the same session (an answer often sits one exchange after the question);
- its session: half the session's BM25 over all its exchanges (min-max over sessions),
  so words of the question spread over one conversation lift its pages;
- a date the query names ("on October 13, 2023", "in June"): +1 when the page is from then;
- its mid-term segment, as in MemoryOS (a small bonus by the segment's rank and specificity).

A message of a few asks ("What should I cook for Lena? Remember my allergy.") is also
ranked ask by ask (`memory/asks.py`): a page stands at its best rank among the message's
and each ask's, and the judge reads each page and fact against each ask.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np

from memoryos_cli.embed import Reranker, Vector
from memoryos_cli.memory import long_term, mid_term, short_term
from memoryos_cli.memory.asks import asks
from memoryos_cli.memory.dates import date_cues
from memoryos_cli.memory.fts import fts_query, phrase_query
from memoryos_cli.memory.page_text import page_text
from memoryos_cli.memory.person import as_the_fact_says, user_forms
from memoryos_cli.memory.records import PAGE_COLUMNS, Page, Recall, RecallItem
from memoryos_cli.memory.scope import Scope
from memoryos_cli.store import vectors

RRF_K = 60
CANDIDATES = 50
TOP_SEGMENTS = 5
TOP_KNOWLEDGE = 5
MIN_KNOWLEDGE_SIMILARITY = 0.25
# Most a top segment adds to a page's fused score (which is at most 2.0).
SEGMENT_BONUS = 0.5
# From this many pages of one owner, page KNN scans sign bits (`pages_bin`) for a
# shortlist and reranks it exactly: a flat float scan of 100k pages takes ~74 ms here,
# the binary scan of 200 plus rerank ~25 ms. Below it the exact scan is cheap enough.
BINARY_MIN_PAGES = 20_000
BINARY_SHORTLIST = 200
# Context counts half as much as a page's own text: a neighbour's fused score and the
# session's BM25 each add up to half of what one full-strength list gives (1.0).
NEIGHBOUR_WEIGHT = 0.5
SESSION_WEIGHT = 0.5
# Two of the query's words in a row ("dance class") say more than each word apart: a
# bigram match counts half as much as one whole list, as context does (term proximity).
PHRASE_WEIGHT = 0.5
# A date the user names is a constraint as strong as one whole list.
DATE_WEIGHT = 1.0
# FTS5 floors the IDF of a word found in half the documents or more at 1e-6, so a match
# on such words alone scores under 1e-4 (even 32 of them): it says nothing, and min-max
# scaling would blow it up to a full-strength hit; a word in at most 45% of them scores
# far above it (IDF >= 0.2 at any size, times a term-frequency factor of ~0.3 or more).
# Without it, pages that only share a name with the query (in every page of a chat) get
# full-strength noise, and neighbours lift whole blocks of such pages together.
MIN_BM25 = 1e-4
# The cross-encoder (the relevance judge) re-reads the best-scored pages against the
# question: it reads words and meaning together, where the fused score adds them from
# apart. Its opinion, min-max over the pages it read, adds up to twice what one whole
# list gives: a page it likes best overtakes one that only matched more words, while
# dates, sessions and neighbours still count. Depth and weight were chosen on two LoCoMo
# conversations and checked on two others (docs/benchmarks.md, "Relevance judge"): the
# best 10, not 20, because the chat's prompt holds two or three pages, recall@5 gains as
# much from 10, and each page read costs the first token ~15-40 ms.
RERANK_DEPTH = 10
RERANK_WEIGHT = 2.0


@dataclass(frozen=True)
class Signals:
    """Which page-ranking signals recall uses: all of them, unless a bench ablation says."""

    phrases: bool = True
    neighbours: bool = True
    sessions: bool = True
    dates: bool = True
    segments: bool = True
    rerank: bool = True  # the cross-encoder, when the scope has one
    asks: bool = True  # a message of a few asks also ranked ask by ask


def rrf(rankings: Iterable[list[int]], k: int = RRF_K) -> dict[int, float]:
    """Reciprocal rank fusion: sum of 1/(k + rank) over the lists an item appears in."""
    scores: dict[int, float] = defaultdict(float)
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] += 1.0 / (k + rank)
    return dict(scores)


def _sole_owner(conn: Any, owner_id: int) -> bool:
    rows = conn.execute("SELECT id FROM owners LIMIT 2").fetchall()
    return len(rows) == 1 and int(rows[0][0]) == owner_id


def bm25_scored(
    conn: Any, table: str, owner_id: int, query: str, k: int, match: str | None = None
) -> list[tuple[int, float]]:
    """(row id, BM25 score) of one owner's rows best matching `query` (any of its content
    words; or the FTS5 expression `match`), best first."""
    match = fts_query(query) if match is None else match
    if not match or k <= 0:
        return []
    base = {
        "pages_fts": "pages",
        "segments_fts": "segments",
        "knowledge_fts": "knowledge",
        "sessions_fts": "sessions",
    }[table]
    if base != "knowledge" and _sole_owner(conn, owner_id):
        # One owner in the file (the usual case): no per-match lookup of the owner column,
        # which was most of BM25's cost when a common word matches thousands of pages.
        rows = conn.execute(
            f"SELECT rowid, -rank FROM {table} WHERE {table} MATCH ? ORDER BY rank LIMIT ?",
            (match, k),
        ).fetchall()
        return [(int(r[0]), float(r[1])) for r in rows]
    extra = " AND b.superseded_by IS NULL AND b.archived = 0" if base == "knowledge" else ""
    rows = conn.execute(
        f"SELECT f.rowid, -f.rank FROM {table} f JOIN {base} b ON b.id = f.rowid"
        f" WHERE {table} MATCH ? AND b.owner_id = ?{extra} ORDER BY f.rank LIMIT ?",
        (match, owner_id, k),
    ).fetchall()
    return [(int(r[0]), float(r[1])) for r in rows]


def bm25(conn: Any, table: str, owner_id: int, query: str, k: int) -> list[int]:
    """Row ids of one owner best matching `query` by FTS5 BM25, best first."""
    return [i for i, _ in bm25_scored(conn, table, owner_id, query, k)]


def minmax(scores: dict[int, float]) -> dict[int, float]:
    """Scores rescaled to 0..1 within one result list (the best gets 1)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    return {i: (v - low) / (high - low) if high > low else 1.0 for i, v in scores.items()}


def relative_fusion(score_lists: Iterable[dict[int, float]]) -> dict[int, float]:
    """Relative score fusion: the sum of each list's min-max normalized scores.

    Unlike RRF it keeps how far apart results are: a page BM25 matches far better than
    the rest is not pulled level with the 30th-nearest vector.
    """
    fused: dict[int, float] = defaultdict(float)
    for scores in score_lists:
        for item, value in minmax(scores).items():
            fused[item] += value
    return dict(fused)


def segment_specificity(segment_pages: int, total_pages: int) -> float:
    """How much belonging to a segment says: 1 for a single page, 0 for all of them."""
    if total_pages < 2:
        return 0.0
    return math.log(total_pages / max(1, segment_pages)) / math.log(total_pages)


def dense(conn: Any, table: str, owner_id: int, qvec: Vector, k: int) -> list[tuple[int, float]]:
    return vectors.knn(conn, table, owner_id, qvec, k)


def dense_pages(
    conn: Any, owner_id: int, qvec: Vector, k: int, total: int
) -> list[tuple[int, float]]:
    """Nearest pages: exact below BINARY_MIN_PAGES, binary prefilter + exact rerank above."""
    if total < BINARY_MIN_PAGES:
        return vectors.knn(conn, "pages_vec", owner_id, qvec, k)
    return vectors.knn_binary(conn, "pages_vec", owner_id, qvec, k, max(BINARY_SHORTLIST, 4 * k))


def hybrid(
    conn: Any, table: str, owner_id: int, query: str, qvec: Vector, k: int
) -> tuple[dict[int, float], dict[int, float]]:
    """Fused scores and cosine similarities for the top candidates of one index."""
    dense_hits = dense(conn, f"{table}_vec", owner_id, qvec, k)
    lexical = bm25(conn, f"{table}_fts", owner_id, query, k)
    fused = rrf([[i for i, _ in dense_hits], lexical])
    return fused, dict(dense_hits)


def load_pages(conn: Any, ids: Iterable[int]) -> dict[int, Page]:
    ids = list(ids)
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = conn.execute(f"SELECT {PAGE_COLUMNS} FROM pages WHERE id IN ({marks})", ids).fetchall()
    return {int(r[0]): Page.from_row(r) for r in rows}


def _similarities(conn: Any, table: str, ids: list[int], qvec: Vector) -> dict[int, float]:
    got = vectors.get(conn, table, ids)
    return {i: float(np.dot(v, qvec)) for i, v in got.items()}


def page_item(
    page: Page,
    score: float,
    sim: float,
    relevance: dict[int, float] | None = None,
    by_ask: dict[int, tuple[float, ...]] | None = None,
) -> RecallItem:
    return RecallItem(
        ref=page.ref,
        tier=page.tier,
        text=page_text(page.user_input, page.agent_response),
        score=score,
        similarity=sim,
        ts=page.ts,
        segment_id=page.segment_id,
        page=page,
        relevance=(relevance or {}).get(page.id),
        ask_relevance=(by_ask or {}).get(page.id, ()),
    )


class Position(NamedTuple):
    """Where a page sits: its session, its time and its mid-term segment."""

    session: int | None
    ts: float
    segment: int | None


def positions(conn: Any, owner_id: int, ids: Iterable[int]) -> dict[int, Position]:
    """The positions of those of `ids` that are pages of this owner."""
    ids = list(dict.fromkeys(ids))
    found: dict[int, Position] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        # By primary key only: with `owner_id = ?` too, SQLite picks the owner index and
        # scans every page of the owner (13 ms at 100k pages instead of 1).
        for pid, owner, sid, ts, seg in conn.execute(
            f"SELECT id, owner_id, session_id, ts, segment_id FROM pages WHERE id IN ({marks})",
            chunk,
        ):
            if owner == owner_id:
                found[int(pid)] = Position(sid, float(ts), seg)
    return found


def neighbour_lift(fused: dict[int, float], where: dict[int, Position]) -> dict[int, float]:
    """NEIGHBOUR_WEIGHT x the better fused score of the pages right before and after each
    page in its session (a session's pages are written in order: ids - 1 and + 1)."""
    lift: dict[int, float] = {}
    for pid, pos in where.items():
        if pos.session is None:
            continue
        around = [
            fused.get(other, 0.0)
            for other in (pid - 1, pid + 1)
            if other in where and where[other].session == pos.session
        ]
        best = max(around, default=0.0)
        if best > 0:
            lift[pid] = NEIGHBOUR_WEIGHT * best
    return lift


def informative_bm25(
    conn: Any, table: str, owner_id: int, query: str, match: str | None = None
) -> dict[int, float]:
    """The best CANDIDATES rows by BM25, less those matching common words only (MIN_BM25)."""
    found = bm25_scored(conn, table, owner_id, query, CANDIDATES, match)
    return {row: score for row, score in found if score >= MIN_BM25}


def session_scores(conn: Any, owner_id: int, query: str) -> dict[int, float]:
    """Sessions whose whole text matches `query` by BM25, min-max scaled to 0..1."""
    return minmax(informative_bm25(conn, "sessions_fts", owner_id, query))


def segment_bonuses(
    conn: Any, top_segments: list[tuple[int, float]], total: int
) -> dict[int, float]:
    """What each top segment adds to its pages: by rank and by how specific it is (a
    segment holding half of all pages says little about any one of them)."""
    bonus: dict[int, float] = {}
    for rank, (sid, _) in enumerate(top_segments, start=1):
        row = conn.execute("SELECT page_count FROM segments WHERE id = ?", (sid,)).fetchone()
        size = int(row[0]) if row else total
        bonus[sid] = SEGMENT_BONUS * segment_specificity(size, total) / rank
    return bonus


@dataclass(frozen=True)
class Lexical:
    """What the query's words find in every index: all of recall that needs no vector,
    so it runs while the query is being embedded (`recall` takes a Future)."""

    total_pages: int
    pages: dict[int, float]  # informative BM25 of pages
    phrases: dict[int, float]  # BM25 of pages holding two of the query's words in a row
    sessions: dict[int, float]  # session BM25, min-max scaled
    segments: list[int]  # BM25 ranking
    knowledge: list[int]  # BM25 ranking of active facts


def total_pages(conn: Any, owner_id: int) -> int:
    """The owner's page count, summed over sessions (every page has one, kept by the
    store's triggers): 0.25 ms at 100k pages, where COUNT(*) on pages takes 1.8 ms."""
    row = conn.execute(
        "SELECT COALESCE(SUM(page_count), 0) FROM sessions WHERE owner_id = ?", (owner_id,)
    ).fetchone()
    return int(row[0])


def search_words(conn: Any, owner_id: int, query: str, signals: Signals) -> Lexical:
    return Lexical(
        total_pages=total_pages(conn, owner_id),
        pages=informative_bm25(conn, "pages_fts", owner_id, query),
        phrases=(
            informative_bm25(conn, "pages_fts", owner_id, query, phrase_query(query))
            if signals.phrases
            else {}
        ),
        sessions=session_scores(conn, owner_id, query) if signals.sessions else {},
        segments=bm25(conn, "segments_fts", owner_id, query, CANDIDATES),
        knowledge=bm25(conn, "knowledge_fts", owner_id, query, CANDIDATES),
    )


def rank_pages(
    conn: Any,
    owner_id: int,
    query: str,
    qvec: Vector,
    words: Lexical,
    extra: Iterable[int],
    top_segments: list[tuple[int, float]],
    signals: Signals,
    zone: dt.tzinfo,
) -> tuple[dict[int, float], dict[int, float]]:
    """Scores of the candidate pages (and of `extra` pages), and the cosines known so far;
    a date the query names is read in `zone`, the user's.

    Candidates: the best CANDIDATES by BM25 and by cosine, and, with neighbours on, the
    pages next to them. The module docstring says what each signal adds.
    """
    total = words.total_pages
    sims = dict(dense_pages(conn, owner_id, qvec, CANDIDATES, total))
    # Relative score fusion of BM25 and cosine: RRF let the weaker dense list drag strong
    # lexical matches down (docs/benchmarks.md, "Numbers behind the code").
    fused = relative_fusion([words.pages, sims])
    for pid, value in minmax(words.phrases).items():
        fused[pid] = fused.get(pid, 0.0) + PHRASE_WEIGHT * value
    ids = set(fused) | set(extra)
    if signals.neighbours:
        ids |= {n for pid in fused for n in (pid - 1, pid + 1)}
    where = positions(conn, owner_id, ids)
    scores = {pid: fused.get(pid, 0.0) for pid in where}
    if signals.neighbours:
        for pid, lift in neighbour_lift(fused, where).items():
            scores[pid] += lift
    if signals.sessions:
        for pid, pos in where.items():
            if pos.session is not None:
                scores[pid] += SESSION_WEIGHT * words.sessions.get(pos.session, 0.0)
    cues = date_cues(query) if signals.dates else []
    for pid, pos in where.items():
        if any(cue.matches(pos.ts, zone) for cue in cues):
            scores[pid] += DATE_WEIGHT
    if signals.segments:
        bonus = segment_bonuses(conn, top_segments, total)
        for pid, pos in where.items():
            if pos.segment is not None:
                scores[pid] += bonus.get(pos.segment, 0.0)
    return scores, sims


def knowledge_candidates(
    conn: Any, owner: int, query: str, qvec: Vector, words: Lexical, k: int
) -> list[RecallItem]:
    """The active facts closest to `query` (by RRF of cosine and BM25), at most k; a fact
    neither close in meaning nor sharing a word with the query is left out."""
    fact_sims = dict(dense(conn, "knowledge_vec", owner, qvec, CANDIDATES))
    fact_scores = rrf([list(fact_sims), words.knowledge])
    lexical_hits = set(words.knowledge)
    active = {f.id: f for f in long_term.facts(conn, owner)}
    items: list[RecallItem] = []
    for fid, score in sorted(fact_scores.items(), key=lambda kv: -kv[1]):
        fact = active.get(fid)
        if fact is None:
            continue
        sim = fact_sims.get(fid)
        if sim is None:
            sim = _similarities(conn, "knowledge_vec", [fid], qvec).get(fid, 0.0)
        # A raw cosine: a question against a fact is on a scale of its own (bge-small with
        # its query instruction: 0.34-0.41 unrelated, 0.48-0.56 related), not the pages'
        # floor; with bge this lets nearly every fact through to the relevance judge.
        if sim < MIN_KNOWLEDGE_SIMILARITY and fid not in lexical_hits:
            continue
        tier = "knowledge" if fact.kind == "user" else "assistant_knowledge"
        items.append(RecallItem(fact.ref, tier, fact.text, score, sim, fact.ts))
        if len(items) >= k:
            break
    return items


def judge_pages(judge: Reranker, query: str, pages: dict[int, Page]) -> dict[int, float]:
    """The judge's score of each page against `query`."""
    ids = list(pages)
    texts = [page_text(pages[i].user_input, pages[i].agent_response) for i in ids]
    return dict(zip(ids, judge.score(query, texts), strict=True))


def judged_lift(relevance: dict[int, float]) -> dict[int, float]:
    """What the judge's opinion adds to each page it read."""
    return {pid: RERANK_WEIGHT * value for pid, value in minmax(relevance).items()}


def judge_pages_per_ask(
    judge: Reranker, texts: list[str], pages: dict[int, Page]
) -> tuple[dict[int, float], dict[int, float], dict[int, tuple[float, ...]]]:
    """Each page's relevance (its best score against any of `texts`), lift (its best lift
    among the pages read against the same text: a page that answers one ask is lifted as
    high as the page that answers another) and score against each text."""
    scores = [judge_pages(judge, text, pages) for text in texts]
    lifts = [judged_lift(s) for s in scores]
    by_text = {pid: tuple(s[pid] for s in scores) for pid in pages}
    relevance = {pid: max(values) for pid, values in by_text.items()}
    return relevance, {pid: max(lift[pid] for lift in lifts) for pid in pages}, by_text


def judge_facts(
    judge: Reranker, texts: list[str], facts: list[RecallItem], user_names: Sequence[str] = ()
) -> list[RecallItem]:
    """The facts with the judge's score (the best against any of `texts`, and against each
    when there are several), best first (the same scale as the pages').

    Facts name the user in the third person: a text in the first person is read against
    each fact as said of the user the way the fact names them ("Where do I live now?" as
    "Where do Noor live now?" for "Noor moved to York"; `memory/person.py`). Each fact is
    still read once per text."""
    body = [f.text for f in facts]
    per_text = []
    for text in texts:
        forms = [as_the_fact_says(text, fact, user_names) for fact in body]
        scores = [0.0] * len(body)
        for form in dict.fromkeys(forms):
            ids = [i for i, f in enumerate(forms) if f == form]
            for i, score in zip(ids, judge.score(form, [body[i] for i in ids]), strict=True):
                scores[i] = score
        per_text.append(scores)
    per_fact = list(zip(*per_text, strict=True))
    judged = [
        replace(f, relevance=max(s), ask_relevance=tuple(s) if len(texts) > 1 else ())
        for f, s in zip(facts, per_fact, strict=True)
    ]
    return sorted(judged, key=lambda f: -(f.relevance or 0.0))


def best_segments(conn: Any, owner: int, qvec: Vector, words: Lexical) -> list[tuple[int, float]]:
    """The TOP_SEGMENTS mid-term segments closest to a query (RRF of cosine and BM25)."""
    seg_dense = dense(conn, "segments_vec", owner, qvec, CANDIDATES)
    seg_scores = rrf([[i for i, _ in seg_dense], words.segments])
    return sorted(seg_scores.items(), key=lambda kv: -kv[1])[:TOP_SEGMENTS]


def at_best_rank(whole: dict[int, float], per_ask: list[dict[int, float]]) -> dict[int, float]:
    """Page scores of a message, each page at its best standing: an ask's scores are
    scaled so that its best page ties with the message's best page."""
    best = max(whole.values(), default=0.0)
    merged = dict(whole)
    for scores in per_ask:
        top = max(scores.values(), default=0.0)
        if top <= 0.0:
            continue
        for pid, value in scores.items():
            merged[pid] = max(merged.get(pid, 0.0), value / top * best)
    return merged


def unique_facts(lists: list[list[RecallItem]]) -> list[RecallItem]:
    """The facts of several candidate lists, each once (first seen kept)."""
    seen: dict[str, RecallItem] = {}
    for items in lists:
        for item in items:
            seen.setdefault(item.ref, item)
    return list(seen.values())


def recall(
    scope: Scope,
    query: str,
    qvec: Vector | Future[Vector],
    *,
    pages_k: int | None = None,
    knowledge_k: int = TOP_KNOWLEDGE,
    touch: bool = True,
    signals: Signals = Signals(),
) -> Recall:
    """What memoryos remembers for `query`: every tier, scored, with timestamps.

    Mid-term ranking follows MemoryOS (segments first, pages inside the best segments),
    fused with a flat page search so pages of evicted or unlucky segments are not lost,
    and with where each page sits in its conversation (`rank_pages`). `qvec` may be a
    Future of the query's vector: the keyword searches run while it is computed (at 100k
    pages they take as long as embedding the query, so this halves both).
    """
    store, owner = scope.store, scope.owner_id
    k = pages_k or scope.settings.retrieval_queue_capacity
    zone = scope.settings.zone
    judge = scope.reranker if signals.rerank else None
    parts = asks(query) if signals.asks else []
    with store.lock:
        words = search_words(store.conn, owner, query, signals)
        part_words = [search_words(store.conn, owner, part, signals) for part in parts]
    if isinstance(qvec, Future):
        qvec = qvec.result()
    part_vecs: Vector | list[Vector] = scope.embedder.embed_query(parts) if parts else []
    with store.lock:
        conn = store.conn
        short = short_term.pages(conn, owner)
        short_ids = {p.id for p in short}
        top_segments = best_segments(conn, owner, qvec, words)
        page_scores, page_sims = rank_pages(
            conn, owner, query, qvec, words, short_ids, top_segments, signals, zone
        )
        per_ask: list[dict[int, float]] = []
        fact_lists = [knowledge_candidates(conn, owner, query, qvec, words, knowledge_k)]
        for part, vec, found in zip(parts, part_vecs, part_words, strict=True):
            segments = best_segments(conn, owner, vec, found)
            scores, _ = rank_pages(
                conn, owner, part, vec, found, short_ids, segments, signals, zone
            )
            per_ask.append(scores)
            fact_lists.append(knowledge_candidates(conn, owner, part, vec, found, knowledge_k))
        page_scores = at_best_rank(page_scores, per_ask)
        facts = unique_facts(fact_lists)
        judged_ids = (
            sorted(page_scores, key=lambda pid: (-page_scores[pid], -pid))[:RERANK_DEPTH]
            if judge
            else []
        )
        judged_pages = load_pages(conn, judged_ids)
        profile = long_term.profile(conn, owner)
    # The judge reads outside the lock: a write waits for the store, not for the model.
    relevance: dict[int, float] = {}
    by_ask: dict[int, tuple[float, ...]] = {}
    if judge is not None:
        # A message of several asks is read ask by ask: against the whole message the
        # judge scored "I'm allergic to shellfish" -9.0 for "What should I cook for Lena?
        # Remember my allergy.", under every page about Lena.
        texts = parts or [query]
        relevance, lifts, by_text = judge_pages_per_ask(judge, texts, judged_pages)
        by_ask = by_text if parts else {}
        for pid, lift in lifts.items():
            page_scores[pid] += lift
        facts = judge_facts(judge, texts, facts, user_forms(profile))
    with store.lock:
        conn = store.conn
        # Short-term pages get the same score as mid-term ones, so the two rank together.
        short_sims = _similarities(conn, "pages_vec", list(short_ids), qvec)
        short_items = [
            page_item(p, page_scores.get(p.id, 0.0), short_sims.get(p.id, 0.0), relevance, by_ask)
            for p in short
        ]
        best = sorted(
            ((score, pid) for pid, score in page_scores.items() if pid not in short_ids),
            key=lambda sp: (-sp[0], -sp[1]),
        )[:k]
        chosen = [pid for _, pid in best]
        page_sims.update(
            _similarities(conn, "pages_vec", [i for i in chosen if i not in page_sims], qvec)
        )
        pages = load_pages(conn, chosen)
        mid_items = [
            page_item(pages[pid], score, page_sims.get(pid, 0.0), relevance, by_ask)
            for score, pid in best
            if pid in pages
        ]
    if touch:
        hit_segments = [i.segment_id for i in mid_items if i.segment_id is not None]
        if hit_segments:
            with store.transaction() as conn:
                mid_term.touch(
                    conn,
                    owner,
                    [s for s in hit_segments if s is not None],
                    settings=scope.settings,
                )
    return Recall(
        query=query,
        short_term=short_items,
        mid_term=mid_items,
        knowledge=facts,
        profile=profile,
        segments=top_segments,
    )
