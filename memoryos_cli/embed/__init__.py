"""Embedder protocol: texts in, L2-normalized float32 vectors out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from memoryos_cli.vector import Vector


@runtime_checkable
class Embedder(Protocol):
    name: str

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> Vector:
        """Return an (n, dim) float32 array of unit vectors: passages (pages, facts)."""
        ...

    def embed_query(self, texts: Sequence[str]) -> Vector:
        """The same for questions (some models read them with an instruction)."""
        ...


@runtime_checkable
class Reranker(Protocol):
    """Reads a question with each passage together: the relevance judge of recall."""

    name: str

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        """One score per passage, in order; higher is more relevant (any scale)."""
        ...


def normalize(matrix: npt.NDArray[np.floating]) -> Vector:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32)
