"""Data safety on a real SQLite file: concurrency, crashes, bad input, erasure, upgrade, offline.

Every test uses sqlean + sqlite-vec and the hashing embedder (no model), and is bounded in time.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import place_v1_fixture, v1_fixture_memory

from memoryos_cli.api import Memoryos
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.errors import InvalidInputError, MemoryosError, StoreError
from memoryos_cli.llm.fake import ScriptedLLM
from memoryos_cli.memory import jobs
from memoryos_cli.store import Store
from memoryos_cli.store.migrations import MIGRATIONS

ROOT = Path(__file__).parents[2]
CHILD_PRELUDE = """
import json, os, sys, time
from memoryos_cli.api import Memoryos
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.llm.fake import ScriptedLLM
"""


def spawn(
    script: str, home: Path, *args: str, prefix: tuple[str, ...] = ()
) -> subprocess.Popen[str]:
    """A child python running `script` against `home`, stdout piped line by line."""
    env = {**os.environ, "MEMORYOS_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [*prefix, sys.executable, "-c", CHILD_PRELUDE + textwrap.dedent(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def open_mem(home: Path, llm: ScriptedLLM | None = None, **kw: object) -> Memoryos:
    return Memoryos(
        "alice", "assistant", home, llm_model=llm or ScriptedLLM(), embedder=HashingEmbedder(), **kw
    )


def raw_bytes(home: Path) -> bytes:
    data = (home / "memoryos.db").read_bytes()
    wal = home / "memoryos.db-wal"
    return data + (wal.read_bytes() if wal.exists() else b"")


def consistent(mem: Memoryos) -> None:
    """Rows, FTS and vectors agree, and SQLite finds no damage."""
    store = mem.store
    assert store.integrity_check() == "ok"
    ids = {r[0] for r in store.query("SELECT id FROM pages")}
    assert {r[0] for r in store.query("SELECT page_id FROM pages_vec")} == ids
    assert {r[0] for r in store.query("SELECT page_id FROM pages_bin")} == ids
    assert {r[0] for r in store.query("SELECT rowid FROM pages_fts")} == ids
    store.conn.execute("INSERT INTO pages_fts(pages_fts, rank) VALUES ('integrity-check', 1)")
    store.conn.execute(
        "INSERT INTO knowledge_fts(knowledge_fts, rank) VALUES ('integrity-check', 1)"
    )
    facts = {r[0] for r in store.query("SELECT id FROM knowledge")}
    assert {r[0] for r in store.query("SELECT knowledge_id FROM knowledge_vec")} == facts
    segs = {r[0] for r in store.query("SELECT id FROM segments")}
    assert {r[0] for r in store.query("SELECT segment_id FROM segments_vec")} == segs


# -- 3. concurrent writers -----------------------------------------------------------------

WRITER = """
user = sys.argv[1]
m = Memoryos(user, "assistant", os.environ["MEMORYOS_HOME"], llm_model=ScriptedLLM(),
             embedder=HashingEmbedder(), short_term_capacity=3)
for i in range(int(sys.argv[2])):
    m.add_memory(f"{user} message {i} about topic {i % 7}", f"reply {i}")
m.close()
print("done", flush=True)
"""


def test_four_processes_write_at_once(home: Path) -> None:
    users, per = ["u1", "u2", "shared", "shared"], 200
    children = [spawn(WRITER, home, user, str(per)) for user in users]  # all open a new file
    for child in children:
        out, err = child.communicate(timeout=90)  # a hang guard, not a speed claim
        assert child.returncode == 0, err
        assert out.strip() == "done"
    store = Store(home / "memoryos.db")
    try:
        assert store.one("SELECT COUNT(*) FROM pages")[0] == len(users) * per
        counts = dict(
            store.query(
                "SELECT o.user_id, COUNT(*) FROM pages p JOIN owners o ON o.id = p.owner_id"
                " GROUP BY o.user_id"
            )
        )
        assert counts == {"u1": per, "u2": per, "shared": 2 * per}
        # The writers also queued consolidation jobs (the enqueue is part of each write).
        assert store.one("SELECT COUNT(*) FROM jobs WHERE state = 'pending'")[0] > 0
        assert store.one("SELECT COUNT(*) FROM schema_migrations")[0] == len(MIGRATIONS)
        assert store.integrity_check() == "ok"
    finally:
        store.close()
    with open_mem(home) as mem:
        consistent(mem)


# -- 4. crash safety -----------------------------------------------------------------------

INGEST_FOREVER = """
m = Memoryos("alice", "assistant", os.environ["MEMORYOS_HOME"], llm_model=ScriptedLLM(),
             embedder=HashingEmbedder(), short_term_capacity=3)
i = 0
while True:
    pid = m.add_memory(f"exchange {i} about the garden and tomatoes {i % 5}", f"answer {i}")
    print(pid, flush=True)
    i += 1
"""


def test_sigkill_mid_ingest_loses_no_acknowledged_page(home: Path) -> None:
    child = spawn(INGEST_FOREVER, home)
    acknowledged: list[int] = []
    deadline = time.monotonic() + 60
    assert child.stdout is not None
    while len(acknowledged) < 150 and time.monotonic() < deadline:
        line = child.stdout.readline()
        assert line, child.stderr.read() if child.stderr else ""
        acknowledged.append(int(line))
    child.send_signal(signal.SIGKILL)
    rest, _ = child.communicate(timeout=30)
    acknowledged += [int(x) for x in rest.split()]
    assert len(acknowledged) >= 150
    with open_mem(home, short_term_capacity=3) as mem:
        present = {p.id for p in mem.pages()}
        assert set(acknowledged) <= present
        consistent(mem)
        mem.add_memory("after the crash", "still works")


ANALYSIS = {
    "summary": "tomato growing",
    "keywords": ["tomatoes"],
    "profile": [{"attribute": "hobby", "value": "growing tomatoes", "sources": []}],
    "user_facts": [
        {"text": "The user grows tomatoes on the balcony", "sources": [], "supersedes": []}
    ],
    "assistant_facts": [],
}

CONSOLIDATE_HANGS = """
def hang(messages):
    print("in-llm", flush=True)
    time.sleep(120)
    return "{}"
m = Memoryos("alice", "assistant", os.environ["MEMORYOS_HOME"], llm_model=ScriptedLLM(default=hang),
             embedder=HashingEmbedder(), short_term_capacity=1, mid_term_heat_threshold=3)
m.consolidate()
"""


def test_consolidation_killed_mid_llm_call_runs_again_exactly_once(home: Path) -> None:
    with open_mem(home, short_term_capacity=1, mid_term_heat_threshold=3) as mem:
        for day in range(6):
            mem.add_memory("I grow tomatoes on my balcony", "Tomatoes love sun.", 1e9 + day * 60)
        assert mem.store.query("SELECT state FROM jobs") == [("pending",)]
    child = spawn(CONSOLIDATE_HANGS, home)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "in-llm"
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)

    # the analysis, then its second look at the pages its fact does not cite (it finds
    # nothing new)
    nothing = {"summary": "", "profile": [], "user_facts": [], "assistant_facts": []}
    llm = ScriptedLLM([json.dumps(ANALYSIS)], default=json.dumps(nothing))
    with open_mem(home, llm, short_term_capacity=1, mid_term_heat_threshold=3) as mem:
        row = mem.store.one("SELECT state, claimed_by FROM jobs")
        assert row[0] == "running" and row[1].startswith(f"{os.uname().nodename}:{child.pid}:")
        with mem.store.transaction() as conn:
            assert jobs.recover(conn) == 1
        assert mem.store.one("SELECT state FROM jobs")[0] == "pending"
        assert mem.consolidate() == 1
        assert mem.consolidate() == 0
        assert len(llm.calls) == 2  # one job: its analysis and its second look, once
        facts = mem.knowledge(history=True)
        assert [(f.text, f.evidence_count) for f in facts] == [
            ("The user grows tomatoes on the balcony", 1)
        ]
        assert [(p.attribute, p.value, p.evidence_count) for p in mem.profile(history=True)] == [
            ("hobby", "growing tomatoes", 1)
        ]
        assert mem.store.query("SELECT state FROM jobs") == [("done",)]
        consistent(mem)


# -- 5. bad input changes nothing ----------------------------------------------------------


def test_oversized_input_is_refused_and_writes_nothing(mem: Memoryos) -> None:
    with pytest.raises(InvalidInputError, match="limit"):
        mem.add_memory("x" * 1_000_000, "ok")
    with pytest.raises(InvalidInputError):
        mem.add_memory("ok", "y" * 1_000_000)
    assert mem.store.one("SELECT COUNT(*) FROM pages")[0] == 0


def test_control_characters_round_trip(mem: Memoryos) -> None:
    text = "bell\x07 esc\x1b[31mred\x1b[0m cr\r tab\t rtl\u202e emoji \U0001f600 bom\ufeff \x7f"
    pid = mem.add_memory(text, text, meta_data={"raw": text})
    page = mem.pages([pid])[0]
    assert page.user_input == text and page.agent_response == text
    assert page.meta == {"raw": text}
    consistent(mem)


def test_nul_is_dropped_not_crashed(mem: Memoryos) -> None:
    pid = mem.add_memory("before\x00after", "ok")
    assert mem.pages([pid])[0].user_input == "beforeafter"


def test_undecodable_input_is_one_clear_error(mem: Memoryos) -> None:
    """Bytes that were not UTF-8 reach Python as lone surrogates (surrogateescape)."""
    bad = b"caf\xe9 latin-1".decode("utf-8", "surrogateescape")
    with pytest.raises(InvalidInputError):
        mem.add_memory(bad, "ok")
    assert mem.store.one("SELECT COUNT(*) FROM pages")[0] == 0


READ_ONLY_CHILD = """
try:
    m = Memoryos("alice", "assistant", sys.argv[1], llm_model=ScriptedLLM(),
                 embedder=HashingEmbedder())
    m.add_memory("hello", "there")
except Exception as exc:
    print(json.dumps([type(exc).__name__, str(exc)]))
else:
    print(json.dumps(["none", ""]))
"""


def as_unprivileged() -> tuple[str, ...]:
    """Root ignores file modes: drop the capabilities that let it (or skip without setpriv)."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a folder read-only")
    return ("setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner")


def test_read_only_memory_is_one_clear_error(home: Path, tmp_path: Path) -> None:
    """A read-only copy of the memory (file 0400 in a 0500 folder): reading works, a write
    is one StoreError naming the file, and the file is unchanged."""
    data = tmp_path / "data"
    with open_mem(data) as mem:
        mem.add_memory("existing", "memory")
    before = (data / "memoryos.db").read_bytes()
    os.chmod(data / "memoryos.db", 0o400)
    os.chmod(data, 0o500)
    try:
        child = spawn(READ_ONLY_CHILD, home, str(data), prefix=as_unprivileged())
        out, err = child.communicate(timeout=60)
    finally:
        os.chmod(data, 0o700)
        os.chmod(data / "memoryos.db", 0o600)
    assert child.returncode == 0, err
    kind, message = json.loads(out)
    assert kind == "StoreError", message
    assert str(data / "memoryos.db") in message
    assert "read-only" in message
    assert (data / "memoryos.db").read_bytes() == before


def test_opening_never_widens_folder_permissions(home: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    Store(data / "memoryos.db").close()
    os.chmod(data, 0o500)
    try:
        # root may still write here; an unprivileged user gets a StoreError
        with contextlib.suppress(StoreError):
            Store(data / "memoryos.db").close()
        assert stat.S_IMODE(data.stat().st_mode) == 0o500
    finally:
        os.chmod(data, 0o700)


def test_disk_full_add_memory_raises_and_leaves_no_partial_rows(home: Path) -> None:
    with open_mem(home, short_term_capacity=2) as mem:
        for i in range(10):
            mem.add_memory(f"gardening note {i} tomatoes", "noted")
        before = {
            t: mem.store.one(f"SELECT COUNT(*) FROM {t}")[0]
            for t in ("pages", "pages_vec", "segments", "segments_vec", "jobs")
        }
        pages = mem.store.one("PRAGMA page_count")[0]
        mem.store.conn.execute(f"PRAGMA max_page_count = {pages + 2}")
        big = " ".join(f"w{i}x{i * 7919 % 100_003}" for i in range(8_000))
        with pytest.raises(StoreError, match="disk is full"):
            mem.add_memory(big, "too big to fit")
        after = {t: mem.store.one(f"SELECT COUNT(*) FROM {t}")[0] for t in before}
        assert after == before
        assert (
            mem.store.one("SELECT COUNT(*) FROM pages_fts WHERE pages_fts MATCH 'w1x7919'")[0] == 0
        )
        consistent(mem)
        mem.store.conn.execute("PRAGMA max_page_count = 1073741823")
        mem.add_memory("room again", "yes")
        consistent(mem)


# -- 6. erasure ------------------------------------------------------------------------------

MARKER = "zqvmarker4417"


def _seed_secret(mem: Memoryos) -> int:
    for i in range(4):
        mem.add_memory(f"weather chat {i}", "sunny")
    pid = mem.add_memory(f"my bank pin hint is {MARKER}", f"I will keep {MARKER} safe")
    for i in range(6):  # push the secret page into mid-term: a segment holds its keywords
        mem.add_memory(f"weather chat {i + 4}", "rainy")
    mem.remember(f"User's secret word is {MARKER}")
    assert MARKER.encode() in raw_bytes(mem.settings.home)
    return pid


def _gone(mem: Memoryos) -> None:
    home = mem.settings.home
    assert MARKER.encode() not in raw_bytes(home)
    wal = home / "memoryos.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    for table in ("pages_fts", "knowledge_fts", "segments_fts"):
        assert mem.store.query(f"SELECT rowid FROM {table} WHERE {table} MATCH ?", (MARKER,)) == []
    consistent(mem)


def test_forget_page_and_fact_erases_every_byte(home: Path) -> None:
    with open_mem(home, short_term_capacity=3) as mem:
        pid = _seed_secret(mem)
        fact = mem.knowledge()[0].id
        assert mem.store.one("SELECT COUNT(*) FROM pages_vec WHERE page_id = ?", (pid,))[0] == 1
        mem.forget(f"p{pid}")
        mem.forget(f"k{fact}")
        assert mem.store.one("SELECT COUNT(*) FROM pages_vec WHERE page_id = ?", (pid,))[0] == 0
        assert (
            mem.store.one("SELECT COUNT(*) FROM knowledge_vec WHERE knowledge_id = ?", (fact,))[0]
            == 0
        )
        _gone(mem)


def test_forget_matching_erases_every_byte(home: Path) -> None:
    with open_mem(home, short_term_capacity=3) as mem:
        _seed_secret(mem)
        counts = mem.forget_matching(MARKER)
        assert counts["pages"] == 1 and counts["facts"] == 1
        _gone(mem)
        assert mem.stats()["pages"] == 10


def test_forget_all_leaves_an_empty_working_store(home: Path) -> None:
    with open_mem(home, short_term_capacity=3) as mem:
        _seed_secret(mem)
        mem.forget_all()
        _gone(mem)
        for table in ("pages", "segments", "knowledge", "profile_items", "jobs", "pages_vec"):
            assert mem.store.one(f"SELECT COUNT(*) FROM {table}")[0] == 0
        pid = mem.add_memory("a fresh start", "welcome back")
        assert [i.ref for i in mem.retrieve("fresh start").items()] == [f"p{pid}"]
        consistent(mem)


# -- 7. upgrade from a shipped schema ------------------------------------------------------


def test_v1_fixture_opens_intact(home: Path) -> None:
    place_v1_fixture(home)
    with v1_fixture_memory(home) as mem:
        assert mem.store.integrity_check() == "ok"
        assert [r[0] for r in mem.store.query("SELECT name FROM schema_migrations")][0] == (
            "m001_initial"
        )
        pages = mem.pages()
        assert len(pages) == 5
        assert pages[0].user_input == "My sister Ana is getting married in Lisbon in June."
        assert pages[0].meta == {"n": 0}
        assert pages[1].ts == 1_714_550_400.0 + 86_400.0
        assert {p.tier for p in pages} == {"short", "mid"}
        assert len(mem.segments()) >= 1
        texts = {f.text for f in mem.knowledge()}
        assert "User's sister Ana marries in Lisbon on June 14" in texts
        assert "User prefers short answers" in texts
        assert [(p.attribute, p.value) for p in mem.profile()] == [
            ("role_at_sister_s_wedding", "maid of honour")
        ]
        recall = mem.search("Ana wedding speech")
        assert recall.short_term and recall.mid_term, "recall still finds pages of both tiers"
        consistent(mem)
        mem.add_memory("The wedding went well.", "Wonderful!")  # still writable after upgrade
        assert len(mem.pages()) == 6


# -- 8. no network ---------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("memoryos tried to use the network")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_api_never_touches_the_network(home: Path, no_network: None) -> None:
    with open_mem(home, short_term_capacity=2) as mem:
        ids = [mem.add_memory(f"offline note {i} about hiking", "ok") for i in range(5)]
        assert mem.retrieve("hiking").items()
        mem.forget(f"p{ids[0]}")
        mem.forget_matching("offline note 1")
        assert len(mem.pages()) == 3


def test_cli_add_and_search_never_touch_the_network(
    home: Path, no_network: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from memoryos_cli.cli.app import app
    from memoryos_cli.cli.env import Env

    monkeypatch.setattr(
        Env,
        "memoryos",
        lambda self, **kw: Memoryos(settings=self.settings(), embedder=HashingEmbedder(), **kw),
    )
    runner = CliRunner()
    added = runner.invoke(
        app,
        [
            "--model",
            "none",
            "add",
            "--user-input",
            "I love hiking in the Alps",
            "--response",
            "Noted",
        ],
    )
    assert added.exit_code == 0, added.output
    assert "stored p1" in added.output
    found = runner.invoke(app, ["--model", "none", "search", "hiking", "--json"])
    assert found.exit_code == 0, found.output
    assert "hiking in the Alps" in found.output


@pytest.mark.integration
def test_real_embedder_loads_and_embeds_offline(home: Path, no_network: None) -> None:
    from memoryos_cli.embed.sentence import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    with Memoryos("alice", "assistant", home, llm_model=ScriptedLLM(), embedder=embedder) as mem:
        for user, agent in [
            ("My tax return is due on Friday", "Let's plan it."),
            ("I love hiking in the Alps", "Noted"),
            ("I bought a new chess set", "Enjoy!"),
        ]:
            mem.add_memory(user, agent)
        items = mem.retrieve("mountain walks").items()  # no word in common: meaning only
        hiking = [i.similarity for i in items if "hiking" in i.text]
        others = [i.similarity for i in items if "hiking" not in i.text]
        assert len(hiking) == 1 and len(others) == 2
        assert hiking[0] > max(others) + 0.05


def test_errors_are_memoryos_errors() -> None:
    assert issubclass(StoreError, MemoryosError)
