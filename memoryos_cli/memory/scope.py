"""What an operation that opens its own transactions needs: the store, whose memory it
is, its settings and the embedder. A function that works inside the caller's transaction
takes `(conn, owner_id)` and the settings it reads instead."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from memoryos_cli.config import Settings
from memoryos_cli.embed import Embedder, Reranker
from memoryos_cli.store import Store

# The owner id of a user/assistant pair that has stored nothing yet: no row has it, so every
# read finds nothing, and the pair's row is made by its first write (`Scope.writing`).
NO_OWNER = 0


@dataclass
class Scope:
    store: Store
    owner_id: int  # NO_OWNER until this pair's first write
    settings: Settings
    embedder: Embedder
    reranker: Reranker | None = None

    @contextmanager
    def writing(self) -> Iterator[Any]:
        """A write transaction of this pair. Its first one also makes the pair's owner row:
        opening a memory makes none, since a read under a mistyped `--user` left a second
        owner in the file for good (and keyword search then filtered every query by owner,
        `retrieve._sole_owner`). A write that fails makes no row either."""
        before = self.owner_id
        try:
            with self.store.transaction() as conn:
                if self.owner_id == NO_OWNER:
                    st = self.settings
                    self.owner_id = self.store.owner_in(conn, st.user_id, st.assistant_id)
                yield conn
        except BaseException:
            self.owner_id = before
            raise
