"""docs/commands.md is generated from --help and must match the commands as they are."""

from __future__ import annotations

from pathlib import Path

from memoryos_cli.cli.reference import render

DOC = Path(__file__).parents[2] / "docs" / "commands.md"


def test_command_reference_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), "run `make docs`"


def test_every_command_is_documented_with_help() -> None:
    sections = render().split("\n## ")[1:]
    assert len(sections) > 30
    for section in sections:
        title, _, body = section.partition("\n")
        assert body.strip().split("\n")[0] != "```", f"{title} has no help text"
