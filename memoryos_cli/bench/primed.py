"""An embedder wrapper that serves vectors computed ahead in big batches.

Memoryos embeds one text per add_memory; a bench that knows every text in advance
embeds them all at once (many times faster) and hands the wrapper to Memoryos, which
then finds each vector ready. Texts it was not primed with go to the real embedder.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from memoryos_cli.embed import Embedder, Vector

BATCH = 256


class PrimedEmbedder:
    """Same name and dimension as `inner`, so stores bound to either are interchangeable."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self._ready: dict[str, Vector] = {}
        self._queries: dict[str, Vector] = {}
        self.misses = 0

    @property
    def dim(self) -> int:
        return self.inner.dim

    def prime(self, texts: Sequence[str]) -> None:
        """Embed the texts not seen yet, in batches."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._ready]
        for start in range(0, len(todo), BATCH):
            chunk = todo[start : start + BATCH]
            self._ready.update(zip(chunk, self.inner.embed(chunk), strict=True))

    def provide(self, texts: Sequence[str], vectors: Vector) -> None:
        """Serve given vectors for given texts (synthesized corpora)."""
        self._ready.update(zip(texts, vectors, strict=True))

    def forget(self) -> None:
        self._ready.clear()

    def embed(self, texts: Sequence[str]) -> Vector:
        missing = [t for t in dict.fromkeys(texts) if t not in self._ready]
        if missing:
            self.misses += len(missing)
            fresh = dict(zip(missing, self.inner.embed(missing), strict=True))
        else:
            fresh = {}
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([fresh[t] if t in fresh else self._ready[t] for t in texts]).astype(
            np.float32
        )

    def embed_query(self, texts: Sequence[str]) -> Vector:
        """Questions go to the real embedder (each is asked once), cached for reruns."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._queries]
        for start in range(0, len(missing), BATCH):
            chunk = missing[start : start + BATCH]
            self._queries.update(zip(chunk, self.inner.embed_query(chunk), strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._queries[t] for t in texts]).astype(np.float32)
