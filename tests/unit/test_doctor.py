"""`memoryos doctor` renders `Memoryos.health()`; the checks run without opening the memory."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cli_support import run

from memoryos_cli.api import Memoryos
from memoryos_cli.cli.env import Env
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.health import Check

NAMES = ["sqlite driver", "sqlite-vec", "fts5", "llama.cpp", "model", "embedder", "database",
         "permissions"]  # fmt: skip


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
