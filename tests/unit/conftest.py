"""Unit tests check logic with fakes: recall runs without the cross-encoder unless a test
hands one in (integration tests run the configured one, as users do)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_reranker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMORYOS_RERANKER", "none")
