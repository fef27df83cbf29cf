"""The default embedder and reranker as installed (`make test` runs `memoryos models install
--if-missing` first): every listed file there, with the catalogue's sha256."""

from __future__ import annotations

from pathlib import Path

import pytest

from memoryos_cli import catalog
from memoryos_cli.config import load_settings

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("name", [catalog.DEFAULT_EMBEDDER, catalog.DEFAULT_RERANKER])
def test_the_installed_default_text_models_verify(home: Path, name: str) -> None:
    entry = catalog.TEXT_MODELS[name]
    folder = catalog.text_model_folder(entry, load_settings(home))  # a new home: hashed
    assert sum((folder / f).stat().st_size for f in entry.files) == entry.size
    listed = {m.name: m for m in catalog.list_models(load_settings(home))}[name]
    assert (listed.installed, listed.verified, listed.default) == (True, True, True)
