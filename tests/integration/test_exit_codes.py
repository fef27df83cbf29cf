"""Exit statuses as a shell sees them: the real console script in a subprocess (CliRunner
runs typer in standalone mode and would not see what `main` does with them)."""

from __future__ import annotations

import os
import select
import signal
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest
from helpers import memoryos_command

from memoryos_cli.api import Memoryos
from memoryos_cli.errors import ExitCode

pytestmark = pytest.mark.integration


def _env(home: Path) -> dict[str, str]:
    return dict(os.environ, MEMORYOS_HOME=str(home), PYTHONUNBUFFERED="1", NO_COLOR="1")


def test_a_failing_doctor_exits_non_zero(home: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent.gguf"
    done = subprocess.run(
        [memoryos_command(), "--model", str(missing), "doctor"],
        capture_output=True,
        text=True,
        env=_env(home),
        timeout=300,
    )
    assert "FAIL" in done.stdout
    assert done.returncode == ExitCode.ERROR, done.stdout + done.stderr


def test_a_declined_forget_exits_1_and_keeps_everything(
    home: Path, default_embedder: object
) -> None:
    with Memoryos(data_storage_path=home, llm_model="none", embedder=default_embedder) as mem:  # type: ignore[arg-type]
        mem.add_memory("I keep bees on the roof.", "Lovely.", 1_700_000_000)
    done = subprocess.run(
        [memoryos_command(), "forget", "p1"],
        input="n\n",
        capture_output=True,
        text=True,
        env=_env(home),
        timeout=300,
    )
    assert "kept everything" in done.stdout
    assert done.returncode == 1, done.stdout + done.stderr
    with Memoryos(data_storage_path=home, llm_model="none", embedder=default_embedder) as mem:  # type: ignore[arg-type]
        assert [p.id for p in mem.pages()] == [1]


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["forget", "--bogus"], "No such option: --bogus"),
        (["nosuch"], "No such command 'nosuch'"),
        (["add", "--user-input", "hi"], "Missing option '--response'"),
    ],
)
def test_a_usage_error_exits_2_with_the_usage_line(home: Path, argv: list[str], said: str) -> None:
    """A mistyped command is the shell's usage error (2), told as click tells it, with the
    command's usage and where its help is; not a crash line asking for --debug."""
    done = subprocess.run(
        [memoryos_command(), *argv],
        capture_output=True,
        text=True,
        env=_env(home),
        timeout=300,
    )
    assert done.returncode == ExitCode.USAGE, done.stderr
    assert said in done.stderr
    assert "Usage: memoryos" in done.stderr and "--help" in done.stderr
    assert "--debug" not in done.stderr


# The chat's loader thread kept inside onnxruntime, as on a cold disk: the embedder's
# session is built again and again until the process ends.
SLOW_LOADER = """
import sys
from memoryos_cli.api import Memoryos
from memoryos_cli.embed.load import embedder_named

def warm_forever(self):
    while True:
        embedder = embedder_named("bge-small-en-v1.5", self.settings)
        embedder.warm()
        embedder.embed(["a sentence to embed"] * 8)

Memoryos.warm_text_models = warm_forever
from memoryos_cli.cli.app import main
sys.argv[0] = "memoryos"
main()
"""


@pytest.mark.parametrize("loader", ["as shipped", "inside onnxruntime"])
def test_ctrl_c_inside_a_command_exits_130(home: Path, loader: str) -> None:
    """Ctrl-C while `chat` waits for the next piped line: typer turns the interrupt into an
    Abort, which must still leave with 130 (the shell's code for SIGINT), not 1 or 0. Also
    while the loader thread is inside onnxruntime: the interpreter's exit then ran its C++
    destructors under it, and the process aborted (a fresh-clone run: -6, "terminate called
    without an active exception")."""
    import sys

    command = [memoryos_command()]
    if loader != "as shipped":
        command = [sys.executable, "-c", SLOW_LOADER]
    proc = subprocess.Popen(
        [*command, "--model", "none", "chat"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(home),
        # As from a terminal: a test run started in the background inherits SIGINT ignored,
        # and Python then installs no KeyboardInterrupt handler at all.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"/help\n")
    proc.stdin.flush()
    # the command is running (it answered /help) and now blocks on the next line
    ready, _, _ = select.select([proc.stdout], [], [], 120)
    assert ready, "chat printed nothing"
    assert proc.stdout.read1(65536)  # type: ignore[attr-defined]
    proc.send_signal(signal.SIGINT)
    try:  # stdin stays open: an EOF would end the chat normally; how fast is not the subject
        code = proc.wait(timeout=180)
    finally:
        proc.kill()
    assert code == ExitCode.INTERRUPTED, proc.stderr.read() if proc.stderr else ""


def test_a_memory_others_could_read_is_made_private_and_the_user_told(home: Path) -> None:
    """A data folder restored as 755 and a database as 644: the next command makes them
    700 and 600 (as before) and now says so on stderr, one line each, once; the command's
    own output and exit code are as ever."""
    first = subprocess.run(
        [memoryos_command(), "--model", "none", "profile", "show", "--json"],
        capture_output=True, text=True, env=_env(home), timeout=120,
    )  # fmt: skip
    assert first.returncode == 0 and first.stderr == "", first.stderr
    os.chmod(home, 0o755)
    os.chmod(home / "memoryos.db", 0o644)
    runs = [
        subprocess.run(
            [memoryos_command(), "--model", "none", "profile", "show", "--json"],
            capture_output=True,
            text=True,
            env=_env(home),
            timeout=120,
        )  # fmt: skip
        for _ in range(2)
    ]
    assert [r.returncode for r in runs] == [0, 0] and runs[0].stdout == first.stdout
    assert runs[0].stderr.splitlines() == [
        f"warning: {home} was 755, open to other users; made it 700",
        f"warning: {home / 'memoryos.db'} was 644, open to other users; made it 600",
    ]
    assert runs[1].stderr == ""
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "memoryos.db").stat().st_mode) == 0o600


def test_debug_shows_the_traceback_and_keeps_the_exit_code(home: Path) -> None:
    """`forget p9 -y` exits 3 (not found); with --debug it exited 1, so a script that
    checks `$?` behaved otherwise when debugging."""
    runs = {
        flag: subprocess.run(
            [memoryos_command(), *flag, "--model", "none", "forget", "p9", "--yes"],
            capture_output=True,
            text=True,
            env=_env(home),
            timeout=120,
        )  # fmt: skip
        for flag in ((), ("--debug",))
    }
    plain, debug = runs[()], runs[("--debug",)]
    assert plain.returncode == debug.returncode == ExitCode.NOT_FOUND, (plain, debug)
    assert "Traceback" in debug.stderr and "Traceback" not in plain.stderr


def test_a_damaged_memory_met_by_a_query_is_one_clear_error(
    home: Path, default_embedder: object
) -> None:
    """A page of vectors lost to a damaged disk: `search` printed "error:
    OperationalError: vectors blob read error for 1 (rerun with --debug)" and exited 1."""
    with Memoryos(data_storage_path=home, llm_model="none", embedder=default_embedder) as mem:  # type: ignore[arg-type]
        for n in range(3):
            mem.add_memory(f"I hiked the Alps trail number {n}.", "Lovely.", 1_700_000_000 + n)
    damaged = sqlite3.connect(home / "memoryos.db")  # plain tables under sqlite-vec's index
    with damaged:
        damaged.execute("DELETE FROM pages_vec_vector_chunks00")
    damaged.close()
    done = subprocess.run(
        [memoryos_command(), "--model", "none", "search", "Alps", "trail"],
        capture_output=True, text=True, env=_env(home), timeout=120,
    )  # fmt: skip
    assert done.returncode == ExitCode.STORE, done.stdout + done.stderr
    assert done.stderr.strip().startswith("error: could not use the memory file ("), done.stderr
    assert done.stderr.strip().endswith("); run `memoryos doctor`"), done.stderr
