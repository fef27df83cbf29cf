"""`bench perf`: how add_memory and retrieve scale with the number of pages.

At each size a fresh store is filled through `Memoryos.add_memories` (LLM-free, one
transaction per batch). Page texts are synthesized from templates. Their vectors are
computed ahead in batches (one MiniLM call per 256 texts instead of one per page); beyond
POOL distinct texts, a page reuses a pooled text's vector plus a little noise, so a 100k
run stays within minutes. Then the timed part uses the real path: SAMPLES fresh
add_memory calls, each embedding its own new text, and SAMPLES retrieve calls, each
embedding its own new query; the same queries are timed again with the exact (flat
float) page scan, and the embedding and the commit (fsync) are timed on their own.
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
from unittest import mock

import numpy as np

from memoryos_cli.api import NO_MODEL, Memoryos
from memoryos_cli.bench.metrics import percentile
from memoryos_cli.bench.primed import PrimedEmbedder
from memoryos_cli.config import load_settings
from memoryos_cli.embed import Embedder, normalize
from memoryos_cli.embed.load import DEFAULT_EMBEDDER, embedder_named
from memoryos_cli.errors import InvalidInputError
from memoryos_cli.files import bytes_on_disk
from memoryos_cli.memory import retrieve
from memoryos_cli.memory.page_text import page_text

POOL = 4096
SAMPLES = 100
FILL_CHUNK = 5000
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


def timed(call: Callable[[Any], object], args: list[Any]) -> list[float]:
    """Seconds `call(arg)` took, for each arg."""
    took = []
    for arg in args:
        t0 = time.perf_counter()
        call(arg)
        took.append(time.perf_counter() - t0)
    return took


def measure(size: int, embedder: Embedder, seed: int, say: Callable[[str], None]) -> dict[str, Any]:
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    fill = max(0, size - SAMPLES)
    exchanges = [synth_exchange(rng, i) for i in range(size)]
    primed = PrimedEmbedder(embedder)
    say(f"{size:,} pages: embedding {min(fill, POOL):,} texts")
    start = time.perf_counter()
    fill_vectors(primed, [page_text(u, a) for u, a in exchanges[:fill]], nprng)
    embed_s = time.perf_counter() - start
    base_ts = 1_700_000_000.0
    items = [
        {"user_input": u, "agent_response": a, "timestamp": base_ts + 60 * i}
        for i, (u, a) in enumerate(exchanges)
    ]
    with tempfile.TemporaryDirectory(prefix="memoryos-perf-") as tmp:
        mem = Memoryos("perf", "bench", Path(tmp), llm_model=NO_MODEL, embedder=primed)
        try:
            start = time.perf_counter()
            for at in range(0, fill, FILL_CHUNK):
                say(f"{size:,} pages: storing pre-embedded pages {at:,}/{fill:,}")
                mem.add_memories(items[at : min(fill, at + FILL_CHUNK)])
            fill_s = time.perf_counter() - start
            primed.forget()
            gc.collect()
            say(f"{size:,} pages: timing add_memory and retrieve")
            adds = timed(lambda it: mem.add_memory(**it), items[fill:])
            # Fresh query texts for each pass: the embedder caches texts it has seen.
            queries = [
                [synth_query(rng, size * 10 + n * SAMPLES + i) for i in range(min(SAMPLES, size))]
                for n in range(3)
            ]
            gets = timed(lambda q: mem.retrieve(q, k=10), queries[0])
            with mock.patch.object(retrieve, "BINARY_MIN_PAGES", sys.maxsize):
                flat = timed(lambda q: mem.retrieve(q, k=10), queries[1])
            embeds = timed(lambda q: embedder.embed_query([q]), queries[2])
            full, normal = mem.time_commits("FULL"), mem.time_commits("NORMAL")
            pages = mem.stats()["pages"]
            text_bytes = sum(len(page_text(u, a).encode()) for u, a in exchanges)
            vector_bytes = pages * 4 * embedder.dim
            mem.checkpoint()
            size_bytes = bytes_on_disk(mem.settings.db_path)
        finally:
            mem.close()
    ms = lambda v: round(1000 * v, 2)  # noqa: E731
    return {
        "pages": pages,
        "add_memory_ms_p50": ms(percentile(adds, 50)),
        "add_memory_ms_p95": ms(percentile(adds, 95)),
        "retrieve_ms_p50": ms(percentile(gets, 50)),
        "retrieve_ms_p95": ms(percentile(gets, 95)),
        "retrieve_flat_ms_p50": ms(percentile(flat, 50)),
        "retrieve_flat_ms_p95": ms(percentile(flat, 95)),
        "embed_one_ms_p50": ms(percentile(embeds, 50)),
        "commit_full_ms_p50": ms(percentile(full, 50)),
        "commit_normal_ms_p50": ms(percentile(normal, 50)),
        "binary_prefilter": pages >= retrieve.BINARY_MIN_PAGES,
        "db_bytes": size_bytes,
        "bytes_per_page": round(size_bytes / max(1, pages)),
        "overhead_bytes_per_page": round((size_bytes - text_bytes - vector_bytes) / max(1, pages)),
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
        settings = load_settings()
        embedder = embedder_named(settings.embedder or DEFAULT_EMBEDDER, settings)
    embedder.embed(["warm up"])  # load the model before anything is timed
    results = [measure(size, embedder, seed, say) for size in sizes]
    return {
        "embedder": embedder.name,
        "method": (
            f"synthetic template pages; fill vectors batch-embedded (first {POOL} distinct "
            f"texts, the rest pooled vectors + noise); the last {SAMPLES} add_memory calls and "
            f"{SAMPLES} retrieve calls (k=10) are timed with real embedding of new text; "
            f"retrieve_flat: the same queries with the exact float page scan; overhead: bytes "
            f"beyond page text and float vectors ({retrieve.BINARY_MIN_PAGES:,}+ pages use the "
            "binary prefilter)"
        ),
        "sizes": results,
    }
