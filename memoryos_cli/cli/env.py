"""The injected terminal environment: console, input, options shared by every command."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import typer
from rich.console import Console
from rich.segment import Segment

from memoryos_cli.config import Settings, load_settings
from memoryos_cli.errors import InvalidInputError


@dataclass
class Env:
    """What commands need from the outside world, in one object, so tests can swap it."""

    home: Path | None = None
    user: str | None = None
    assistant: str | None = None
    model: str | None = None
    debug: bool = False
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    console: Console = field(default_factory=lambda: make_console())

    def choose(
        self, home: str | None = None, user: str | None = None, assistant: str | None = None
    ) -> None:
        """Take the options a command was given over what is set. An empty --user or
        --assistant is kept, and refused by the settings: taken as unset, it wrote into the
        default user's memory (an unset variable in a script: --user "$NAME"). An empty
        --home is refused: read as a path, it was the working folder, and a memory was
        made wherever the script ran."""
        if home is not None and not home.strip():
            raise InvalidInputError(
                "--home is empty; give a folder, or leave it out for MEMORYOS_HOME or the"
                " platform data dir"
            )
        self.home = Path(home) if home is not None else self.home
        self.user = user if user is not None else self.user
        self.assistant = assistant if assistant is not None else self.assistant

    def settings(self, **overrides: Any) -> Settings:
        return load_settings(
            self.home,
            user_id=self.user,
            assistant_id=self.assistant,
            model=self.model,
            **overrides,
        )

    def memoryos(self, **kwargs: Any) -> Any:
        """Open the memory for the selected user/assistant (no model loaded)."""
        from memoryos_cli.api import Memoryos

        return Memoryos(settings=self.settings(), **kwargs)

    def print_json(self, data: Any) -> None:
        text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
        self.console.file.write(text + "\n")
        self.console.file.flush()

    @property
    def interactive(self) -> bool:
        return self.stdin.isatty() and self.console.is_terminal


# Piped output (a log file, CI) has no width of its own; rich would assume 80 columns and
# squeeze table cells to "0…". Tables get room for every cell instead; COLUMNS still wins.
PIPED_WIDTH = 240


# Remembered text may hold terminal escapes (an import, an MCP client, a paste): printed
# as they are, "\x1b]0;...\x07" retitles the window and "\x1b[2J" clears the screen. Each
# control character but newline and tab is shown as its Unicode picture ("␛") instead; rich
# itself only drops bell, backspace and carriage returns.
CONTROL_PICTURES = {
    **{c: chr(0x2400 + c) for c in range(0x20) if c not in (0x09, 0x0A)},
    0x7F: "\u2421",
    **{c: "\ufffd" for c in range(0x80, 0xA0)},  # C1 controls: "\x9b" is a CSI too
}


class SafeConsole(Console):
    """A console that shows the control characters of what it prints, never runs them."""

    def render(self, renderable: Any, options: Any = None) -> Any:
        for segment in super().render(renderable, options):
            if segment.control or segment.text.isprintable():
                yield segment
            else:
                yield Segment(segment.text.translate(CONTROL_PICTURES), segment.style)


def make_console(file: TextIO | None = None) -> Console:
    """A console that goes plain and wide when piped, colourless when NO_COLOR is set, and
    shows control characters rather than sending them to the terminal."""
    no_color = "NO_COLOR" in os.environ
    console = SafeConsole(file=file, no_color=no_color, highlight=False, soft_wrap=False)
    if not console.is_terminal and not os.environ.get("COLUMNS", "").isdigit():
        console.width = PIPED_WIDTH
    return console


def get_env(ctx: typer.Context) -> Env:
    obj = ctx.find_root().obj
    if not isinstance(obj, Env):
        obj = Env()
        ctx.find_root().obj = obj
    return obj
