"""What every memory operation needs: the store, whose memory it is, settings, embedder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from memoryos_cli.config import Settings
from memoryos_cli.embed import Embedder
from memoryos_cli.store import Store


@dataclass
class Scope:
    store: Store
    owner_id: int
    settings: Settings
    embedder: Embedder

    def logical_now(self, conn: Any | None = None) -> float:
        """The latest exchange time of this owner.

        Heat recency is measured against it rather than the wall clock, so imported or
        back-dated conversations (LoCoMo spans months) age the way they happened.
        """
        sql = "SELECT MAX(ts) FROM pages WHERE owner_id = ?"
        row = (conn or self.store.conn).execute(sql, (self.owner_id,)).fetchone()
        return float(row[0]) if row and row[0] is not None else 0.0
