"""`bench perf`: how add_memory and retrieve scale with the number of pages.

At each size a fresh store is filled through `Memoryos.add_memory` (LLM-free). Page
texts are synthesized from templates. Their vectors are computed ahead in batches (one
MiniLM call per 256 texts instead of one per page); beyond POOL distinct texts, a page
reuses a pooled text's vector plus a little noise, so a 100k run stays within minutes.
Then the timed part uses the real path: SAMPLES fresh add_memory calls, each embedding
its own new text, and SAMPLES retrieve calls, each embedding its own new query.
"""

from __future__ import annotations

import gc
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from memoryos_cli.api import NO_MODEL, Memoryos
from memoryos_cli.bench.metrics import percentile
from memoryos_cli.bench.primed import PrimedEmbedder
from memoryos_cli.embed import Embedder, normalize
from memoryos_cli.errors import InvalidInputError
from memoryos_cli.memory.text import page_text

POOL = 4096
SAMPLES = 100
NOISE = 0.15
DEFAULT_SIZES = (1000, 10000, 100000)

PEOPLE = [
    "Anna",
    "Ben",
    "Carla",
    "Dev",
    "Emil",
    "Farah",
    "Gus",
    "Hana",
    "Ivo",
    "Jia",
    "Kofi",
    "Lena",
    "Milo",
    "Nora",
    "Omar",
    "Pia",
]
PLACES = [
    "the lake",
    "the museum",
    "Lisbon",
    "the climbing gym",
    "my sister's wedding",
    "the farmers market",
    "Kyoto",
    "the office",
    "a jazz bar",
    "the dentist",
    "the library",
    "the beach",
    "a pottery class",
    "Oslo",
]
THINGS = [
    "a red bicycle",
    "sourdough bread",
    "a new job offer",
    "the marathon",
    "a broken laptop",
    "tomato seeds",
    "a vintage camera",
    "the tax forms",
    "guitar lessons",
    "a puppy",
    "the garden fence",
    "a chess set",
]
WHEN = [
    "yesterday",
    "last week",
    "on Sunday",
    "this morning",
    "in March",
    "two days ago",
    "last summer",
]
FEEL = ["happy", "nervous", "tired", "excited", "annoyed", "proud", "relieved", "curious"]


def synth_exchange(rng: random.Random, i: int) -> tuple[str, str]:
    """A plausible, unique exchange (the index keeps texts distinct)."""
    who, where, what = rng.choice(PEOPLE), rng.choice(PLACES), rng.choice(THINGS)
    user = (
        f"I went to {where} with {who} {rng.choice(WHEN)} and we talked about {what}. "
        f"I feel {rng.choice(FEEL)} about it (note {i})."
    )
    agent = f"That sounds {rng.choice(FEEL)}! How did {who} like {where}, and what about {what}?"
    return user, agent


def synth_query(rng: random.Random, i: int) -> str:
    return f"What did I do with {rng.choice(PEOPLE)} at {rng.choice(PLACES)}? ({i})"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (it only grows across sizes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def fill_vectors(primed: PrimedEmbedder, texts: list[str], rng: np.random.Generator) -> None:
    """Embed up to POOL texts for real; the rest borrow a pooled vector plus noise."""
    real = texts[:POOL]
    primed.prime(real)
    if len(texts) <= POOL:
        return
    pool = primed.embed(real)
    rest = texts[POOL:]
    picks = pool[rng.integers(0, len(pool), size=len(rest))]
    noise = rng.normal(0.0, NOISE / np.sqrt(pool.shape[1]), size=picks.shape)
    primed.provide(rest, normalize(picks + noise))


def db_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def measure(size: int, embedder: Embedder, seed: int, say: Callable[[str], None]) -> dict[str, Any]:
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    fill = max(0, size - SAMPLES)
    exchanges = [synth_exchange(rng, i) for i in range(size)]
    primed = PrimedEmbedder(embedder)
    start = time.perf_counter()
    fill_vectors(primed, [page_text(u, a) for u, a in exchanges[:fill]], nprng)
    embed_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory(prefix="memoryos-perf-") as tmp:
        mem = Memoryos("perf", "bench", Path(tmp), llm_model=NO_MODEL, embedder=primed)
        try:
            say(f"{size:,} pages: storing {fill:,} pre-embedded pages")
            start = time.perf_counter()
            base_ts = 1_700_000_000.0
            for i, (user, agent) in enumerate(exchanges[:fill]):
                mem.add_memory(user, agent, base_ts + 60 * i)
            fill_s = time.perf_counter() - start
            primed.forget()
            gc.collect()
            say(f"{size:,} pages: timing add_memory and retrieve")
            adds = []
            for i, (user, agent) in enumerate(exchanges[fill:], start=fill):
                t0 = time.perf_counter()
                mem.add_memory(user, agent, base_ts + 60 * i)
                adds.append(time.perf_counter() - t0)
            gets = []
            for i in range(min(SAMPLES, size)):
                query = synth_query(rng, size * 10 + i)
                t0 = time.perf_counter()
                mem.retrieve(query, k=10)
                gets.append(time.perf_counter() - t0)
            pages = mem.stats()["pages"]
            text_bytes = sum(len(page_text(u, a).encode()) for u, a in exchanges)
            mem.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            size_bytes = db_bytes(mem.store.path)
        finally:
            mem.close()
    ms = lambda v: round(1000 * v, 2)  # noqa: E731
    return {
        "pages": pages,
        "add_memory_ms_p50": ms(percentile(adds, 50)),
        "add_memory_ms_p95": ms(percentile(adds, 95)),
        "retrieve_ms_p50": ms(percentile(gets, 50)),
        "retrieve_ms_p95": ms(percentile(gets, 95)),
        "db_bytes": size_bytes,
        "bytes_per_page": round(size_bytes / max(1, pages)),
        "overhead_bytes_per_page": round((size_bytes - text_bytes) / max(1, pages)),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "setup_embed_s": round(embed_s, 1),
        "setup_fill_s": round(fill_s, 1),
        "samples": len(adds),
    }


def run_perf(
    sizes: list[int] | tuple[int, ...] = DEFAULT_SIZES,
    *,
    embedder: Embedder | None = None,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Timings, size on disk and memory at each page count (see the module docstring)."""
    if not sizes or any(s < 1 for s in sizes):
        raise InvalidInputError("--pages needs positive page counts, e.g. --pages 1000 10000")
    say = progress or (lambda _msg: None)
    if embedder is None:
        from memoryos_cli.embed.sentence import SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder()
    embedder.embed(["warm up"])  # load the model before anything is timed
    results = [measure(size, embedder, seed, say) for size in sizes]
    return {
        "embedder": embedder.name,
        "method": (
            f"synthetic template pages; fill vectors batch-embedded (first {POOL} distinct "
            f"texts, the rest pooled vectors + noise); the last {SAMPLES} add_memory calls and "
            f"{SAMPLES} retrieve calls (k=10) are timed with real embedding of new text"
        ),
        "sizes": results,
    }
