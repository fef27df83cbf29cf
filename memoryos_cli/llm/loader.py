"""Turn a model spec (catalogue name or GGUF path) into a loaded, verified LLM."""

from __future__ import annotations

from memoryos_cli import catalog
from memoryos_cli.config import Settings
from memoryos_cli.llm import LLM


def load_llm(spec: str, settings: Settings) -> LLM:
    """Resolve `spec` via the catalogue, verify the file (hash cached), check memory, load it."""
    path = catalog.resolve(spec, settings)
    catalog.check_memory(path)
    from memoryos_cli.llm.llama import LlamaCppLLM

    name = spec if spec in catalog.CATALOG else path.stem
    return LlamaCppLLM(path, settings, name=name)
