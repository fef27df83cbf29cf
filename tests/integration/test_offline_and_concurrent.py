"""The paths a user takes, with networking refused, and several writer processes at once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memoryos_cli.api import Memoryos
from memoryos_cli.cli.app import app
from memoryos_cli.embed.hashing import HashingEmbedder

pytestmark = pytest.mark.integration
MEMORYOS = str(Path(sys.executable).parent / "memoryos")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("memoryos tried to use the network")

    for name in ("socket", "create_connection", "getaddrinfo"):
        monkeypatch.setattr(socket, name, refuse)


def test_chat_and_bench_run_with_networking_refused(
    home: Path, smol_model_path: Path, tmp_path: Path, no_network: None
) -> None:
    runner = CliRunner()
    chat = runner.invoke(
        app, ["--model", str(smol_model_path), "chat"], input="My name is Ada.\n/profile\n"
    )
    assert chat.exit_code == 0, chat.output
    assert "memoryos: " in chat.output
    data = tmp_path / "tiny.json"
    data.write_text(
        json.dumps(
            [
                {
                    "sample_id": "t",
                    "conversation": {
                        "speaker_a": "Ada",
                        "speaker_b": "Bo",
                        "session_1_date_time": "3:00 pm on 4 March, 2023",
                        "session_1": [
                            {"speaker": "Ada", "dia_id": "D1:1", "text": "I play the cello."},
                            {"speaker": "Bo", "dia_id": "D1:2", "text": "Lovely instrument."},
                        ],
                    },
                    "qa": [
                        {
                            "question": "What does Ada play?",
                            "answer": "cello",
                            "evidence": ["D1:1"],
                            "category": 4,
                        }
                    ],
                }
            ]
        )
    )
    bench = runner.invoke(
        app,
        [
            "--model",
            str(smol_model_path),
            "bench",
            "locomo",
            "--data",
            str(data),
            "--mode",
            "qa",
            "--methods",
            "bm25,memoryos",
            "--json",
            str(tmp_path / "qa.json"),
        ],
    )
    assert bench.exit_code == 0, bench.output
    report = json.loads((tmp_path / "qa.json").read_text())
    assert set(report["methods"]) == {"bm25", "memoryos", "no_memory"}
    assert report["methods"]["memoryos"]["llm_calls_per_answer"] == 1


WRITER = """
import sys
from memoryos_cli.api import Memoryos
from memoryos_cli.embed.sentence import SentenceTransformerEmbedder
m = Memoryos("default_user", "memoryos", sys.argv[1], llm_model="none",
             embedder=SentenceTransformerEmbedder())
for i in range(int(sys.argv[2])):
    m.add_memory(f"api writer note {i}", "ok")
"""


def test_chat_add_and_api_write_the_same_file_at_once(home: Path, smol_model_path: Path) -> None:
    env = dict(os.environ, MEMORYOS_HOME=str(home), MEMORYOS_MAX_ANSWER_TOKENS="8")
    lines = "".join(f"chat line {i}\n" for i in range(8))
    procs = [
        subprocess.Popen(
            [MEMORYOS, "--model", str(smol_model_path), "chat"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ),
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(home), "100"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ),
        subprocess.Popen(
            [
                "bash",
                "-c",
                " && ".join(
                    f"{MEMORYOS} add --user-input 'cli add {i}' --response ok" for i in range(4)
                ),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ),
    ]
    outputs = [procs[0].communicate(lines, timeout=300)] + [
        p.communicate(timeout=300) for p in procs[1:]
    ]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err
    with Memoryos(
        settings=None,
        data_storage_path=home,
        llm_model="none",
        embedder=HashingEmbedder(dim=384, name="all-MiniLM-L6-v2"),
    ) as mem:
        texts = [p.user_input for p in mem.pages()]
        assert sum(t.startswith("chat line") for t in texts) == 8
        assert sum(t.startswith("api writer note") for t in texts) == 100
        assert sum(t.startswith("cli add") for t in texts) == 4
        assert mem.store.integrity_check() == "ok"
