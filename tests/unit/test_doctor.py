"""`memoryos doctor` renders `Memoryos.health()`; the checks run without opening the memory."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import run
from text_model_support import FakeSite, fake_site, flip_a_byte

from memoryos_cli.api import Memoryos
from memoryos_cli.cli.env import Env
from memoryos_cli.config import load_settings
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.health import Check
from memoryos_cli.store import Store

NAMES = ["sqlite driver", "sqlite-vec", "fts5", "llama.cpp", "model", "embedder", "reranker",
         "database", "permissions"]  # fmt: skip


def test_doctor_renders_the_report(monkeypatch: pytest.MonkeyPatch) -> None:
    missing = "qwen is not installed; run `memoryos models install`"
    report = [
        Check("sqlite driver", True, "sqlite3 (SQLite 3.45.1)"),
        Check("model", False, missing),
    ]
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(Memoryos, "health", staticmethod(lambda settings: report))
    as_json = run(Env(), "doctor", "--json", ok=False)
    assert as_json.exit_code == 1
    assert json.loads(as_json.output) == [
        {"name": "sqlite driver", "ok": True, "detail": "sqlite3 (SQLite 3.45.1)"},
        {"name": "model", "ok": False, "detail": missing},
    ]
    lines = run(Env(), "doctor", ok=False).output.splitlines()
    assert any(" sqlite driver " in line and " ok " in line for line in lines)
    assert any(
        " model " in line and " FAIL " in line and "models install" in line for line in lines
    )
    report.pop()
    assert run(Env(), "doctor").exit_code == 0


def test_health_of_a_new_home(home: Path) -> None:
    checks = {c.name: c for c in Memoryos.health()}
    assert list(checks) == NAMES
    assert checks["sqlite-vec"].ok and checks["sqlite-vec"].detail.startswith("sqlite-vec v")
    assert checks["fts5"] == Check("fts5", True, "available")
    assert checks["database"] == Check("database", True, f"{home / 'memoryos.db'} not created yet")


def test_health_finds_a_damaged_database(home: Path) -> None:
    with Memoryos("alice", "assistant", home, llm_model="none", embedder=HashingEmbedder()) as mem:
        for i in range(50):
            mem.add_memory(f"question {i} " * 20, f"answer {i} " * 20)
    with open(home / "memoryos.db", "r+b") as fh:  # scribble over a b-tree page
        fh.seek(3 * 4096)
        fh.write(b"\xff" * 4096)
    database = {c.name: c for c in Memoryos.health()}["database"]
    assert not database.ok and "restore a backup" in database.detail, database


def test_health_finds_a_folder_others_can_read(home: Path) -> None:
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    assert {c.name: c for c in Memoryos.health()}["permissions"] == Check(
        "permissions", False, f"{home} is 755 (run `chmod 700 {home}`)"
    )


# -- the embedder and reranker: their files, checked like the chat model's ---------------


def intact(site: FakeSite) -> None:
    pass


def corrupt(model: str) -> Callable[[FakeSite], None]:
    return lambda site: flip_a_byte(site.file(model, "model.onnx"))


def missing(model: str) -> Callable[[FakeSite], None]:
    return lambda site: site.file(model, "tokenizer.json").unlink()


def uninstalled(site: FakeSite) -> None:
    shutil.rmtree(site.root / "fake_pkg")


TEXT_CHECKS: list[tuple[str, str, str, Callable[[FakeSite], None], bool, str]] = [
    # id, setting, value, damage, ok, what the detail says
    ("reranker-off", "reranker", "none", uninstalled, True, "off (setting reranker = none)"),
    ("reranker-ok", "reranker", "fake-reranker", intact, True, "fake-reranker: {site}/fake_pkg/"
     "data/reranker (sha256 ok)"),
    ("reranker-corrupt", "reranker", "fake-reranker", corrupt("fake-reranker"), False,
     "reranker file {site}/fake_pkg/data/reranker/model.onnx is corrupt (sha256 "),
    ("reranker-missing-file", "reranker", "fake-reranker", missing("fake-reranker"), False,
     "reranker file {site}/fake_pkg/data/reranker/tokenizer.json is missing; "),
    ("reranker-not-installed", "reranker", "fake-reranker", uninstalled, False,
     "reranker fake-reranker is not installed; "),
    ("reranker-is-an-embedder", "reranker", "fake-embedder", intact, False,
     "no reranker named 'fake-embedder' in the catalogue"),
    ("embedder-ok", "embedder", "fake-embedder", intact, True, "fake-embedder: {site}/fake_pkg/"
     "data/embedder (sha256 ok)"),
    ("embedder-corrupt", "embedder", "fake-embedder", corrupt("fake-embedder"), False,
     "embedder file {site}/fake_pkg/data/embedder/model.onnx is corrupt (sha256 "),
    ("embedder-unknown", "embedder", "bge-typo", intact, False,
     "no embedder named 'bge-typo' in the catalogue"),
    ("embedder-folder", "embedder", "{site}", intact, True,
     "{site} (sentence-transformers folder)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("setting", "value", "damage", "ok", "detail"),
    [c[1:] for c in TEXT_CHECKS],
    ids=[c[0] for c in TEXT_CHECKS],
)
def test_doctor_checks_the_configured_text_models(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    setting: str,
    value: str,
    damage: Callable[[FakeSite], None],
    ok: bool,
    detail: str,
) -> None:
    """One line each: the files present with their sha256, or what is wrong and the fix."""
    site = fake_site(tmp_path, monkeypatch)
    site.install("fake-pkg==1.0")
    damage(site)
    monkeypatch.setenv(f"MEMORYOS_{setting.upper()}", value.format(site=site.root))
    check = {c.name: c for c in Memoryos.health()}[setting]
    assert check.ok is ok and "\n" not in check.detail
    assert check.detail.startswith(detail.format(site=site.root)), check.detail
    if not ok and "catalogue" not in detail:
        assert check.detail.endswith(f"; run `memoryos models install {value}`")


def test_doctor_shows_a_corrupt_reranker_and_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = fake_site(tmp_path, monkeypatch)
    site.install("fake-pkg==1.0")
    flip_a_byte(site.file("fake-reranker", "model.onnx"))
    monkeypatch.setenv("MEMORYOS_RERANKER", "fake-reranker")
    monkeypatch.setenv("COLUMNS", "400")  # the whole detail on one line
    result = run(Env(), "doctor", ok=False)
    assert result.exit_code == 1
    line = next(ln for ln in result.output.splitlines() if " reranker " in ln)
    assert " FAIL " in line and "model.onnx is corrupt" in line
    assert "run `memoryos models install fake-reranker`" in line


def test_doctor_checks_the_embedder_a_memory_was_indexed_with(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Embedder unset: `chat` loads the one the file was indexed with, so that is checked."""
    site = fake_site(tmp_path, monkeypatch)
    site.install("fake-pkg==1.0")
    store = Store(home / "memoryos.db")
    store.bind_embedder("fake-embedder", 8)
    store.close()
    check = {c.name: c for c in Memoryos.health()}["embedder"]
    assert check.ok and check.detail.startswith("fake-embedder: "), check
    assert check.detail.endswith("(sha256 ok) (this memory is indexed with it)")
    flip_a_byte(site.file("fake-embedder", "model.onnx"))
    check = {c.name: c for c in Memoryos.health()}["embedder"]
    assert not check.ok and "run `memoryos models install fake-embedder`" in check.detail


def test_an_embedder_set_apart_from_the_memorys_index_fails_with_the_way_out(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`config set embedder all-MiniLM-L6-v2` on a memory indexed with bge-small: every
    command that reads the memory refused it, and `doctor` said all was well."""
    with Memoryos("alice", "assistant", home, llm_model="none",
                  embedder=HashingEmbedder(name="bge-small-en-v1.5")) as mem:  # fmt: skip
        mem.add_memory("I like hiking.", "Nice!")
    monkeypatch.setenv("MEMORYOS_EMBEDDER", "all-MiniLM-L6-v2")
    embedder = {c.name: c for c in Memoryos.health()}["embedder"]
    assert not embedder.ok
    assert "indexed with bge-small-en-v1.5" in embedder.detail
    assert "memoryos reindex" in embedder.detail


def test_health_finds_a_config_others_can_read(home: Path) -> None:
    """A config.toml written by hand with 644 (it names the home, the models, the user):
    doctor said all was well."""
    home.mkdir(mode=0o700)
    os.chmod(home, 0o700)
    (home / "config.toml").write_text('[memoryos]\nuser_id = "noor"\n')
    settings = load_settings()  # reading it makes it private (test_config.py); opened later:
    os.chmod(home / "config.toml", 0o644)
    config = home / "config.toml"
    assert {c.name: c for c in Memoryos.health(settings)}["permissions"] == Check(
        "permissions", False, f"{config} is 644 (run `chmod 600 {config}`)"
    )
