"""No consolidation job is stranded: not by a reused pid, not by an evicted segment."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from memoryos_cli.api import Memoryos
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.llm.fake import ScriptedLLM
from memoryos_cli.memory import jobs

T0 = 1_700_000_000.0
EMPTY_REPLY = json.dumps(
    {"summary": "", "keywords": [], "profile": [], "user_facts": [], "assistant_facts": []}
)


def claimed(mem: Memoryos, claimed_by: str, age: float = 0.0) -> int:
    """A running job, claimed by `claimed_by` `age` seconds ago; returns its id."""
    with mem.scope.writing() as conn:
        jobs.enqueue(conn, mem.scope.owner_id, jobs.ANALYZE_SEGMENT, 999)
        job = jobs.claim(conn, mem.scope.owner_id)
        assert job is not None
        conn.execute(
            "UPDATE jobs SET claimed_by = ?, claimed_at = ? WHERE id = ?",
            (claimed_by, time.time() - age, job.id),
        )
    return job.id


def recovered(mem: Memoryos) -> int:
    with mem.store.transaction() as conn:
        return jobs.recover(conn)


def test_a_claim_whose_pid_now_belongs_to_another_process_is_taken_back(mem: Memoryos) -> None:
    # The claimer died; the OS gave its pid to a process that started later (here: this one).
    host, pid = os.uname().nodename, os.getpid()
    job_id = claimed(mem, f"{host}:{pid}:1")  # started 1 tick after boot: not this process
    assert recovered(mem) == 1
    assert mem.store.one("SELECT state, claimed_by FROM jobs WHERE id = ?", (job_id,)) == (
        "pending",
        None,
    )
    assert jobs.started(pid) not in (None, "1")


def test_a_claim_without_start_time_expires_even_while_its_pid_lives(mem: Memoryos) -> None:
    # Written by an older memoryos as host:pid; the pid is alive (reused, or not: untold).
    legacy = f"{os.uname().nodename}:{os.getpid()}"
    claimed(mem, legacy, age=jobs.STALE_CLAIM_SECONDS - 60)
    assert recovered(mem) == 0
    mem.store.conn.execute("UPDATE jobs SET claimed_at = ?", (time.time() - 3600,))
    assert recovered(mem) == 1


def test_a_live_claim_stays_with_its_process(mem: Memoryos) -> None:
    claimed(mem, jobs.me(), age=3600)  # a long analysis is not a stale one
    assert recovered(mem) == 0


def test_an_evicted_segment_still_gets_its_pages_analysed(home: Path) -> None:
    llm = ScriptedLLM(default=EMPTY_REPLY)
    small = {"short_term_capacity": 1, "mid_term_capacity": 1, "mid_term_heat_threshold": 1.5}
    with Memoryos("bob", "a", home, llm_model=llm, embedder=HashingEmbedder(), **small) as mem:
        for i, topic in enumerate(["violin lessons practice", "garden tomatoes compost"]):
            mem.add_memory(topic, f"about {topic}", timestamp=T0 + i)
        first = mem.segments()[0]
        assert mem.pending_jobs() == 1  # the hot segment's analysis is queued
        mem.add_memory("rust compiler borrow checker", "ok", timestamp=T0 + 10)
        assert first.id not in [s.id for s in mem.segments()]  # evicted before it ran
        archived = [p.id for p in mem.pages() if p.tier == "archive"]
        assert archived == [1]
        mem.consolidate()
        analysed = mem.store.one("SELECT analyzed FROM pages WHERE id = 1")[0]
        assert analysed == 1
        prompts = [json.dumps(c["messages"]) for c in llm.calls if c["kind"] == "complete"]
        assert any("violin lessons practice" in p for p in prompts)
