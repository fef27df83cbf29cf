"""The sentence-transformers backend prepares its own process: offline, and its threads."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest

from memoryos_cli.api import Memoryos
from memoryos_cli.embed import sentence


def _fake_module(monkeypatch: pytest.MonkeyPatch, name: str, **attrs: object) -> None:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    monkeypatch.setitem(sys.modules, name, module)


def test_loading_the_embedder_sets_hf_hub_offline_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "unset below")  # so teardown restores the original
    monkeypatch.delenv("HF_HUB_OFFLINE")
    seen: dict[str, object] = {}

    class FakeSentenceTransformer:
        def __init__(self, path: str, device: str) -> None:
            seen["offline when loading"] = os.environ.get("HF_HUB_OFFLINE")

        def get_embedding_dimension(self) -> int:
            return 384

    # stand-ins for the slow libraries: the test is about what happens before they load
    _fake_module(monkeypatch, "sentence_transformers", SentenceTransformer=FakeSentenceTransformer)
    logging = types.SimpleNamespace(disable_progress_bar=lambda: None)
    _fake_module(monkeypatch, "transformers")
    _fake_module(monkeypatch, "transformers.utils", logging=logging)
    _fake_module(monkeypatch, "torch", set_num_threads=lambda n: seen.update(threads=n))

    sentence.SentenceTransformerEmbedder(threads=2).warm()
    assert seen == {"offline when loading": "1", "threads": 2}


def test_the_embedder_takes_its_threads_from_settings(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMORYOS_EMBED_THREADS", "3")
    with Memoryos("alice", "assistant", home, llm_model="none") as mem:
        assert isinstance(mem.embedder, sentence.SentenceTransformerEmbedder)
        assert mem.embedder.threads == 3
