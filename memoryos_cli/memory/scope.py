"""What an operation that opens its own transactions needs: the store, whose memory it
is, its settings and the embedder. A function that works inside the caller's transaction
takes `(conn, owner_id)` and the settings it reads instead."""

from __future__ import annotations

from dataclasses import dataclass

from memoryos_cli.config import Settings
from memoryos_cli.embed import Embedder, Reranker
from memoryos_cli.store import Store

# The owner id of a user/assistant pair that has stored nothing yet: no row has it, so every
# read finds nothing, and the pair's row is made by its first write (`Memoryos._owned`).
NO_OWNER = 0


@dataclass
class Scope:
    store: Store
    owner_id: int  # NO_OWNER until this pair's first write
    settings: Settings
    embedder: Embedder
    reranker: Reranker | None = None
