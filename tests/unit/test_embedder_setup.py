"""The sentence-transformers backend prepares its own process: offline, and its threads."""

from __future__ import annotations

import os
import sys
import threading
import types
from pathlib import Path

import numpy as np
import pytest

from memoryos_cli.api import Memoryos
from memoryos_cli.cpu import physical_cores
from memoryos_cli.embed import sentence
from memoryos_cli.embed.onnx import OnnxCrossEncoder, OnnxEmbedder


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
    monkeypatch.setenv("MEMORYOS_RERANKER", "ms-marco-minilm-l12")
    with Memoryos("alice", "assistant", home, llm_model="none") as mem:
        assert isinstance(mem.embedder, OnnxEmbedder)
        assert mem.embedder.model.threads == 3
        assert isinstance(mem.reranker, OnnxCrossEncoder)
        assert mem.reranker.model.threads == physical_cores()  # the judge: every core
    monkeypatch.setenv("MEMORYOS_JUDGE_THREADS", "1")
    with Memoryos("alice", "assistant", home, llm_model="none") as mem:
        assert isinstance(mem.reranker, OnnxCrossEncoder)
        assert (mem.embedder.model.threads, mem.reranker.model.threads) == (3, 1)
    monkeypatch.setenv("MEMORYOS_EMBEDDER", "all-MiniLM-L6-v2")
    with Memoryos("bob", "assistant", home / "minilm", llm_model="none") as mem:
        assert isinstance(mem.embedder, sentence.SentenceTransformerEmbedder)
        assert mem.embedder.threads == 3


class CountingModel:
    """Stands in for the loaded sentence-transformers model: a vector per text, counted."""

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: list[str], **_: object) -> np.ndarray:
        self.encoded += texts
        return np.array([[len(t), 1.0, float(ord(t[0]))] for t in texts], dtype=np.float32)


def test_the_cache_never_loses_a_vector_it_is_about_to_return(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A batch larger than the cache evicts its own cached entries while it inserts the
    new ones: the vectors returned must still be complete and in order."""
    emb = sentence.SentenceTransformerEmbedder()
    emb._model, emb._dim = CountingModel(), 3
    emb._cache.size = 2
    first = emb.embed(["a"])
    both = emb.embed(["a", "bb", "ccc", "a"])
    assert emb._model.encoded == ["a", "bb", "ccc"]  # "a" came from the cache
    assert np.allclose(both[0], first[0]) and np.allclose(both[3], first[0])
    assert [round(float(v[0] / v[1])) for v in both] == [1, 2, 3, 1]


def test_the_cache_is_shared_safely_between_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedding thread and the caller's embed at once (recall and add_memory): with a
    small cache churned by both, every call still gets its own vectors."""
    emb = sentence.SentenceTransformerEmbedder()
    emb._model, emb._dim = CountingModel(), 3
    emb._cache.size = 3
    errors: list[BaseException] = []

    def churn(prefix: str) -> None:
        try:
            for i in range(300):
                texts = [f"{prefix}{i % 5}", f"{prefix}{(i + 1) % 5}", f"{prefix}x"]
                out = emb.embed(texts)
                assert [round(float(v[0] / v[1])) for v in out] == [len(t) for t in texts]
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    workers = [threading.Thread(target=churn, args=(p,)) for p in ("a", "bb", "ccc")]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []


def test_the_judges_threads_do_not_spin_once_it_has_scored(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The judge runs on every core just before llama.cpp evaluates the prompt: threads
    left spinning would take those cores from it."""
    monkeypatch.setenv("MEMORYOS_RERANKER", "ms-marco-minilm-l12")
    with Memoryos("alice", "assistant", home, llm_model="none") as mem:
        assert isinstance(mem.reranker, OnnxCrossEncoder)
        assert len(mem.reranker.score("a question", ["a page", "another page"])) == 2
        options = mem.reranker.model._session.get_session_options()
        assert options.intra_op_num_threads == physical_cores()
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
