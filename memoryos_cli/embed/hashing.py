"""A deterministic bag-of-words hashing embedder: for unit tests of logic, never for users."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from memoryos_cli.embed import Vector, normalize
from memoryos_cli.words import tokens


class HashingEmbedder:
    """Texts sharing words get similar vectors; identical texts get identical vectors."""

    def __init__(self, dim: int = 64, name: str = "hashing-test") -> None:
        self.dim = dim
        self.name = name

    def embed(self, texts: Sequence[str]) -> Vector:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in tokens(text):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                out[row, int.from_bytes(digest[:4], "little") % self.dim] += 1.0
            if not out[row].any():
                out[row, 0] = 1.0
        return normalize(out)

    def embed_query(self, texts: Sequence[str]) -> Vector:
        return self.embed(texts)
