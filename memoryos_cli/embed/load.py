"""Build the configured embedder and reranker from the catalogue (or a model folder)."""

from __future__ import annotations

from pathlib import Path

from memoryos_cli.catalog import (
    DEFAULT_EMBEDDER,
    DEFAULT_RERANKER,
    TEXT_MODELS,
    get_text_model,
    text_model_folder,
)
from memoryos_cli.config import Settings
from memoryos_cli.cpu import physical_cores
from memoryos_cli.embed import Embedder, Reranker

__all__ = ["DEFAULT_EMBEDDER", "DEFAULT_RERANKER", "embedder_named", "reranker_for"]
NO_RERANKER = "none"


def embedder_named(name: str, settings: Settings) -> Embedder:
    """A catalogue embedder by name, or a sentence-transformers model folder by path."""
    from memoryos_cli.embed.sentence import SentenceTransformerEmbedder

    entry = TEXT_MODELS.get(name)
    if entry is None:
        if not Path(name).expanduser().is_dir():
            get_text_model(name, "embedder")  # one error that lists the known names
        return SentenceTransformerEmbedder(name, threads=settings.embed_threads)
    folder = text_model_folder(get_text_model(name, "embedder"), settings)
    if entry.backend == "sentence-transformers":
        return SentenceTransformerEmbedder(
            name, entry.dim, threads=settings.embed_threads, path=folder
        )
    from memoryos_cli.embed.onnx import OnnxEmbedder

    return OnnxEmbedder(
        name,
        folder,
        dim=entry.dim,
        pooling=entry.pooling,
        query_prefix=entry.query_prefix,
        threads=settings.embed_threads,
    )


def reranker_for(settings: Settings) -> Reranker | None:
    """The configured cross-encoder; None when the setting is "none" ("" = the default)."""
    name = settings.reranker or DEFAULT_RERANKER
    if name == NO_RERANKER:
        return None
    entry = get_text_model(name, "reranker")
    from memoryos_cli.embed.onnx import OnnxCrossEncoder

    threads = settings.judge_threads or physical_cores()
    return OnnxCrossEncoder(name, text_model_folder(entry, settings), threads=threads)
