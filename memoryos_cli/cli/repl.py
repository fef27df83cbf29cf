"""The chat session behind `memoryos chat`: input, streaming, slash commands, idle work.

Models load in a background thread so the prompt appears at once. Once they are loaded,
and after each answer, idle work runs in a thread of its own while the user types
(`Memoryos.idle_work`: the stable prompt prefix is evaluated and kept aside so the next
answer starts fast, then queued consolidation). Pressing Enter cancels that idle work
first, at once, so nothing runs between Enter and the first token but recall and what
follows the kept prefix (and, in the first seconds of a session, the model's loading).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from memoryos_cli.api import Memoryos
from memoryos_cli.cli.env import Env
from memoryos_cli.cli.words import counts_line
from memoryos_cli.clock import when
from memoryos_cli.errors import ExitCode, MemoryosError

# A model call stops within milliseconds of a cancel (inside a prompt's evaluation too):
# waiting longer than these means something is stuck.
IDLE_JOIN_SECONDS = 30.0
# How long Ctrl-C waits for the loader thread (the text models load in well under that).
LOADER_JOIN_SECONDS = 1.0
LEAVE_SECONDS = 5.0  # after Ctrl-C or the deadline at exit

HELP = [
    ("/help", "this list"),
    ("/profile", "what I have learned about you"),
    ("/memory [short|mid|long]", "look inside a memory tier"),
    ("/search TEXT", "what I would recall for TEXT"),
    ("/why", "the memories recalled for my last answer"),
    ("/forget ID", "erase a memory everywhere (ids like p12, k3, u4, s5)"),
    ("/remember TEXT", "store an explicit fact about you"),
    ("/model", "which model and embedder are in use"),
    ("/new", "fresh short-term memory (long-term stays)"),
    ("/exit", "leave (Ctrl-D works too)"),
]


class ChatSession:
    """One REPL run over one Memoryos; UI-independent enough to drive from tests."""

    def __init__(self, env: Env, mem: Memoryos, *, background: bool = True) -> None:
        self.env = env
        self.mem = mem
        self.console = env.console
        self.background = background
        self.cancel_idle = threading.Event()
        self._idle: threading.Thread | None = None
        self._idle_lock = threading.Lock()  # the loader and the main thread both start idle work
        self._closing = False
        self._loader: threading.Thread | None = None
        self.load_error: BaseException | None = None

    # -- background work ----------------------------------------------------------------

    def start_loading(self) -> None:
        """Load embedder and model off the main thread; the prompt shows meanwhile.

        The loader only loads: idle work then starts in its own thread, which Enter
        cancels, so the first answer waits for the model and never for consolidation.
        """

        def load() -> None:
            try:
                self.mem.warm_text_models()
                _ = self.mem.llm
            except BaseException as exc:  # noqa: BLE001 - reported when the user asks
                self.load_error = exc
                return
            self.start_idle()

        if self.background:
            self._loader = threading.Thread(target=load, name="memoryos-load", daemon=True)
            self._loader.start()
        else:
            load()

    def loader_done(self, seconds: float) -> bool:
        """Whether the loader thread has ended, waiting for it at most `seconds`."""
        if self._loader is not None:
            self._loader.join(timeout=seconds)
        return self._loader is None or not self._loader.is_alive()

    def wait_until_loaded(self) -> None:
        if self._loader is not None and self._loader.is_alive():
            with self.console.status("loading the model…", spinner="dots"):
                self._loader.join()
        if self.load_error is not None:
            err, self.load_error = self.load_error, None
            raise err

    def start_idle(self) -> None:
        if not self.background:
            return
        self.stop_idle()
        with self._idle_lock:
            if self._closing:
                return
            self.cancel_idle.clear()  # here, not in the thread: a stop may come before it runs
            self._idle = threading.Thread(target=self._safe_idle, name="memoryos-idle", daemon=True)
            self._idle.start()

    def _safe_idle(self) -> None:
        # Idle work must never break the chat: a failed job stays queued with its error.
        with contextlib.suppress(Exception):
            self.mem.idle_work(self.cancel_idle)

    def stop_idle(self, *, closing: bool = False) -> None:
        """Cancel idle work and wait for it to hand the model back (`closing`: for good).

        A model call stops at once; the cancel is repeated until the thread ends, since a
        job may start another call after the last one stopped.
        """
        with self._idle_lock:
            self._closing = self._closing or closing
            idle, self._idle = self._idle, None
            if idle is None:
                return
            self.cancel_idle.set()
            deadline = time.monotonic() + IDLE_JOIN_SECONDS
            while idle.is_alive() and time.monotonic() < deadline:
                self.mem.cancel()
                idle.join(timeout=0.05)

    def finish(self) -> None:
        """At exit: analyse what this session said, within a bounded time, visibly.

        At most `exit_consolidation_jobs` analyses, stopped (and given back to the queue,
        untouched) after `exit_consolidation_seconds`: a slow model or a big backlog waits
        for idle time in a later session instead of holding up the exit.
        """
        self.stop_idle(closing=True)
        if self.mem.llm_free or not self.mem.llm_loaded:
            return
        self.mem.end_session()  # what this session said becomes profile and knowledge now
        limit = self.mem.settings.exit_consolidation_jobs
        n = min(self.mem.pending_jobs(runnable=True), limit)
        if n <= 0:
            return
        stop = threading.Event()
        failure: list[BaseException] = []

        def analyse() -> None:
            try:
                self.mem.consolidate(max_jobs=limit, cancel=stop)
            except BaseException as exc:  # noqa: BLE001 - raised again in the main thread
                failure.append(exc)

        # The analysis runs in a thread and the main thread only waits: Python runs a
        # SIGINT handler in the main thread between bytecodes, never inside llama.cpp, so
        # with the model on the main thread Ctrl-C waited for a batch of 512 tokens (and,
        # before cancel() could abort a prompt's evaluation, for the whole prompt).
        worker = threading.Thread(target=analyse, name="memoryos-exit-analysis", daemon=True)
        deadline = time.monotonic() + self.mem.settings.exit_consolidation_seconds
        timed_out, left_at = False, 0.0
        status = f"remembering this session ({n} job(s))… (Ctrl-C to leave now)"
        with self.console.status(status), self._ctrl_c_cancels(stop):
            worker.start()
            while worker.is_alive():
                worker.join(timeout=0.05)
                if not stop.is_set() and time.monotonic() > deadline:
                    timed_out = True
                    stop.set()
                if stop.is_set():
                    self.mem.cancel()  # again: a job may start another call after one stopped
                    left_at = left_at or time.monotonic()
                    if time.monotonic() - left_at > LEAVE_SECONDS:
                        break  # stuck outside the model: its job is recovered next time
        if failure:
            raise failure[0]
        if timed_out:
            self.console.print("out of time: the rest is queued for next time", style="dim")
        elif stop.is_set():
            self.console.print("left now: the rest is queued for next time", style="dim")

    # -- one line of input --------------------------------------------------------------

    def handle(self, line: str) -> bool:
        """Process one user entry; False means the session should end."""
        text = line.strip()
        if not text:
            return True
        if text.startswith("/"):
            return self.command(text)
        self.answer(text)
        return True

    def answer(self, query: str) -> None:
        """Stream the answer to `query`; an error from the model is shown, never fatal."""
        self.wait_until_loaded()
        self.stop_idle()
        self.console.print(Text(f"{self.mem.settings.assistant_id}: ", style="bold cyan"), end="")
        stream: Generator[str, None, None] = self.mem.stream_response(query)
        with self._ctrl_c_cancels(stopped := threading.Event()):
            try:
                for piece in stream:
                    if stopped.is_set():  # Ctrl-C came before the model began
                        stream.close()  # stores what was said so far
                        break
                    self.console.print(Text(piece), end="")
            except MemoryosError as exc:
                self.console.print()
                self.console.print(f"error: {escape(str(exc))}", style="red", end="")
            except Exception as exc:  # noqa: BLE001 - llama.cpp raises ValueError/RuntimeError alike
                self.console.print()
                self.console.print(
                    Text(
                        f"error: the model could not answer ({type(exc).__name__}: {exc}); "
                        "the chat goes on: try a shorter message or /new",
                        style="red",
                    ),
                    end="",
                )
        if stopped.is_set():
            self.console.print(Text(" [stopped]", style="dim"), end="")
        self.console.print()
        self.start_idle()

    @contextlib.contextmanager
    def _ctrl_c_cancels(self, stopped: threading.Event) -> Iterator[None]:
        """While the model works for the user (an answer, the exit analysis), Ctrl-C sets
        `stopped` and asks the model to stop at once.

        Raising KeyboardInterrupt wherever the signal lands could leave llama.cpp's lock or
        KV state half-updated, or be swallowed by a C callback; a cancel request ends the
        call the normal way instead (an analysis cut short goes back to the queue whole).
        """
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def on_sigint(signum: int, frame: Any) -> None:
            stopped.set()
            self.mem.cancel()

        previous = signal.signal(signal.SIGINT, on_sigint)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    # -- slash commands -----------------------------------------------------------------

    def command(self, text: str) -> bool:
        name, _, arg = text.partition(" ")
        arg = arg.strip()
        handlers: dict[str, Callable[[str], Any]] = {
            "/help": lambda _: self.show_help(),
            "/profile": lambda _: self.show_profile(),
            "/memory": self.show_memory,
            "/search": self.show_search,
            "/why": lambda _: self.show_why(),
            "/forget": self.forget,
            "/remember": self.remember,
            "/model": lambda _: self.show_model(),
            "/new": lambda _: self.new_session(),
        }
        if name in {"/exit", "/quit"}:
            return False
        handler = handlers.get(name)
        if handler is None:
            self.console.print(f"unknown command {escape(name)}; try /help", style="yellow")
            return True
        try:
            handler(arg)
        except MemoryosError as exc:
            self.console.print(f"error: {escape(str(exc))}", style="red")
        return True

    def show_help(self) -> None:
        table = Table(show_header=False, box=None)
        for cmd, what in HELP:
            table.add_row(Text(cmd, style="bold"), what)
        self.console.print(table)

    def show_profile(self) -> None:
        items = self.mem.profile()
        facts = self.mem.knowledge("user")
        if not items and not facts:
            self.console.print("I have not learned anything lasting about you yet.")
            return
        table = Table("id", "about you", "evidence", "since", title="Profile")
        for p in items:
            table.add_row(
                p.ref,
                Text(f"{p.attribute.replace('_', ' ')}: {p.value}"),
                str(p.evidence_count),
                when(p.ts, self.mem.settings.zone),
            )
        for f in facts:
            table.add_row(
                f.ref, Text(f.text), str(f.evidence_count), when(f.ts, self.mem.settings.zone)
            )
        self.console.print(table)

    def show_memory(self, tier: str) -> None:
        tier = tier or "short"
        if tier == "short":
            table = Table("id", "when", "exchange", title="Short-term memory")
            for p in self.mem.short_term():
                exchange = Text(f"{p.user_input}\n→ {p.agent_response}")
                table.add_row(p.ref, when(p.ts, self.mem.settings.zone), exchange)
        elif tier == "mid":
            table = Table("id", "heat", "pages", "visits", "summary", title="Mid-term segments")
            for s in self.mem.segments():
                table.add_row(
                    s.ref, f"{s.heat:.2f}", str(s.page_count), str(s.n_visit), Text(s.summary)
                )
        elif tier == "long":
            table = Table("id", "kind", "fact", "when", title="Long-term knowledge")
            for f in self.mem.knowledge():
                table.add_row(f.ref, f.kind, Text(f.text), when(f.ts, self.mem.settings.zone))
        else:
            self.console.print("usage: /memory short|mid|long", style="yellow")
            return
        self.console.print(table)

    def _recall_table(self, items: list[Any], title: str) -> Table:
        table = Table("id", "tier", "score", "when", "memory", title=title)
        for i in items:
            stamp = when(i.ts, self.mem.settings.zone)
            table.add_row(i.ref, i.tier, f"{i.score:.3f}", stamp, Text(i.text))
        return table

    def show_search(self, query: str) -> None:
        if not query:
            self.console.print("usage: /search TEXT", style="yellow")
            return
        recall = self.mem.search(query)
        short = sorted(recall.short_term, key=lambda i: -i.similarity)[:3]
        items = recall.knowledge + recall.mid_term + short
        self.console.print(self._recall_table(items, "Would recall"))

    def show_why(self) -> None:
        built = self.mem.last_prompt
        if built is None:
            self.console.print("Nothing answered yet in this session.")
        elif not built.recalled:
            self.console.print(
                "The last answer used no recalled memories (only the profile and recent turns)."
            )
        else:
            self.console.print(self._recall_table(built.recalled, "Recalled for the last answer"))
        if built is not None and built.avoid:
            ruled_out = ", ".join(built.avoid)
            self.console.print(
                Text(f"Kept out of it (your diet or allergies rule them out): {ruled_out}")
            )

    def forget(self, ref: str) -> None:
        if not ref:
            self.console.print("usage: /forget ID", style="yellow")
            return
        # An analysis running now may be reading the page: it is stopped first (and would
        # drop its reply anyway, see consolidate.PagesForgotten), then idle work resumes.
        self.stop_idle()
        try:
            counts = self.mem.forget(ref)
        finally:
            self.start_idle()
        self.console.print(f"forgotten: {counts_line(counts)}")

    def remember(self, text: str) -> None:
        fact_id = self.mem.remember(text)
        self.console.print(f"remembered as k{fact_id}")

    def show_model(self) -> None:
        state = "loaded" if self.mem.llm_loaded else "loading"
        self.console.print(
            Text(f"model: {self.mem.settings.model} ({state}); embedder: {self.mem.embedder.name}")
        )

    def new_session(self) -> None:
        self.stop_idle()
        self.mem.new_session()
        self.console.print("Started a fresh conversation; long-term memory is kept.")


def run(env: Env, mem: Memoryos) -> None:
    """The loop: prompt-toolkit when interactive, plain lines when piped."""
    session = ChatSession(env, mem, background=True)
    session.start_loading()
    try:
        _greet(env, mem)
        if env.interactive:
            _interactive_loop(env, session)
        else:
            for line in env.stdin:
                if not session.handle(line):
                    break
        session.finish()
    except KeyboardInterrupt:
        session.stop_idle(closing=True)
        leave_if_loading(session, mem, ExitCode.INTERRUPTED)
        raise
    leave_if_loading(session, mem, ExitCode.OK)


def leave_if_loading(session: ChatSession, mem: Memoryos, code: ExitCode) -> None:
    """Leave at once with `code` when the loader is still at work after LOADER_JOIN_SECONDS.

    It may be inside onnxruntime (the judge's warm-up) or llama.cpp: the interpreter's exit
    would run their C++ destructors under it, and the process would abort ("terminate
    called without an active exception", exit -6) instead of exiting with `code`: seen on
    `/exit` right after a `/search` (tests/integration/test_chat_pty.py). Everything is
    committed; the file is closed and the process leaves.
    """
    if session.loader_done(LOADER_JOIN_SECONDS):
        return
    mem.close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _greet(env: Env, mem: Memoryos) -> None:
    """What the chat says once at start: the banner in a terminal, and the reindex hint."""
    if env.interactive:
        env.console.print(
            f"[bold]memoryos[/] — {escape(mem.settings.user_id)} with "
            f"{escape(mem.settings.assistant_id)}. /help for commands, Ctrl-D to leave."
        )
    hint = mem.reindex_hint
    if hint is not None:
        env.console.print(Text(hint, style="dim"))


def _interactive_loop(env: Env, session: ChatSession) -> None:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    history = env.settings().home / "history"
    prompt: PromptSession[str] = PromptSession(history=FileHistory(str(history)))
    while True:
        try:
            line = prompt.prompt("you> ")
        except KeyboardInterrupt:
            continue  # Ctrl-C at the prompt clears the line
        except EOFError:
            return
        try:
            if not session.handle(line):
                return
        except KeyboardInterrupt:
            session.console.print(Text("[cancelled]", style="dim"))
