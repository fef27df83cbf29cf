"""A bounded per-text vector cache shared by the embedders: a chat re-embeds the same
question or page text often (a retry, the bench's repeated queries, reindex of a copy)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from memoryos_cli.embed import Vector

CACHE_SIZE = 4096


class VectorCache:
    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[str, Vector] = OrderedDict()

    def get_or_compute(
        self, texts: Sequence[str], compute: Callable[[list[str]], Vector], dim: int
    ) -> Vector:
        """The vectors of `texts`; those not cached come from one `compute` call.

        Read and written under the lock: the embedding thread and the caller's may embed
        at once, and an entry seen but evicted before it is read would be a KeyError.
        Vectors found are held here, so eviction cannot take them.
        """
        unique = list(dict.fromkeys(texts))
        with self._lock:
            found = {t: self._items[t] for t in unique if t in self._items}
        missing = [t for t in unique if t not in found]
        if missing:
            fresh = dict(zip(missing, compute(missing), strict=True))
            with self._lock:
                self._items.update(fresh)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
            found.update(fresh)
        if not texts:
            return np.zeros((0, dim), dtype=np.float32)
        return np.stack([found[t] for t in texts]).astype(np.float32)
