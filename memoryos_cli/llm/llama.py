"""llama.cpp backend: one GGUF kept loaded, its own chat template, KV-cache prefix reuse."""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, redirect_stderr
from pathlib import Path
from typing import Any

from memoryos_cli.config import Settings
from memoryos_cli.errors import ModelError
from memoryos_cli.llm import GenerationStats, Message

# Small models loop inside a JSON grammar ("a", "a", "a", ...) until max_tokens; a mild
# penalty breaks the loop, and the grammar still forces every structural token.
JSON_REPEAT_PENALTY = 1.2


def physical_cores() -> int:
    """Physical CPU cores (hyperthreads slow llama.cpp down); logical count as a fallback."""
    try:
        cores: set[tuple[str, str]] = set()
        phys = core = ""
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "physical id":
                    phys = value.strip()
                elif key == "core id":
                    core = value.strip()
                    cores.add((phys, core))
        if cores:
            return len(cores)
    except OSError:
        pass
    return max(1, os.cpu_count() or 1)


def cpu_has_amx() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            return any(line.startswith("flags") and " amx_tile" in line for line in fh)
    except OSError:
        return False


_PARAMS_LOCK = threading.Lock()


@contextmanager
def _no_extra_buffer_types() -> Iterator[None]:
    """Load weights without llama.cpp's repacked "extra" buffers while the block runs.

    On AMX CPUs ggml's AMX matmul segfaults on any multi-token batch (seen with
    llama-cpp-python 0.3.36 built natively); `Llama()` has no switch for it, so the
    model-params factory it calls is wrapped for the duration of the load.
    """
    import llama_cpp.llama as llama_module

    with _PARAMS_LOCK:
        original = llama_module.llama_cpp.llama_model_default_params

        def params() -> Any:
            value = original()
            value.use_extra_bufts = False
            return value

        llama_module.llama_cpp.llama_model_default_params = params
        try:
            yield
        finally:
            llama_module.llama_cpp.llama_model_default_params = original


_LOG_SINK: Any = None


def _silence_llama_logs() -> None:
    """Send llama.cpp's C-level logs nowhere.

    With `verbose=False`, llama-cpp-python silences loading by dup2-ing /dev/null over the
    process's stdout and stderr file descriptors; a model loading in a background thread
    then swallows whatever the chat prints meanwhile. So memoryos loads with
    `verbose=True`, drops the C logs here and the Python-level chatter via sys.stderr.
    """
    global _LOG_SINK
    if _LOG_SINK is not None:
        return
    import ctypes

    import llama_cpp

    @llama_cpp.llama_log_callback  # type: ignore[misc]
    def sink(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        return None

    _LOG_SINK = sink  # keep a reference: C holds only the pointer
    llama_cpp.llama_log_set(sink, ctypes.c_void_p(0))


def _import_llama() -> Any:
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise ModelError(
            "llama-cpp-python is not installed; run `pip install llama-cpp-python`"
        ) from exc
    return Llama


class LlamaCppLLM:
    """The `LLM` protocol over llama-cpp-python. Thread-safe: one lock serializes every call.

    llama.cpp keeps the tokens of the last call in its KV cache and re-evaluates only what
    follows their longest common prefix with the next prompt, so `warm()` on the stable
    part of the next prompt makes the user-visible call cheap.
    """

    def __init__(self, path: Path | str, settings: Settings, *, name: str | None = None) -> None:
        Llama = _import_llama()
        self.path = Path(path)
        self.name = name or self.path.stem
        self.settings = settings
        self.last_stats = GenerationStats()
        self._cancel = threading.Event()  # set by cancel(): the running call stops between tokens
        self._lock = threading.Lock()
        self._evaluated: list[int] = []
        started = time.perf_counter()
        safe = cpu_has_amx() and not settings.llama_repack
        _silence_llama_logs()
        try:
            with (
                _no_extra_buffer_types() if safe else nullcontext(),
                redirect_stderr(io.StringIO()),
            ):
                self._llama = Llama(
                    model_path=str(self.path),
                    n_ctx=settings.context_tokens,
                    n_threads=settings.n_threads or physical_cores(),
                    n_batch=512,
                    **({"seed": settings.seed} if settings.seed >= 0 else {}),
                    verbose=True,  # see _silence_llama_logs
                )
            self._llama.verbose = False  # no per-call timing prints
            self.context_size = int(self._llama.n_ctx())
        except Exception as exc:  # noqa: BLE001 - llama.cpp raises ValueError/RuntimeError alike
            raise ModelError(
                f"llama.cpp could not load {self.path} ({exc}); run `memoryos models verify`"
            ) from exc
        self.load_seconds = time.perf_counter() - started
        # Count the tokens each eval() really decodes: the first eval of a call is the part
        # of the prompt not reused from the KV cache.
        original_eval = self._llama.eval

        def counting_eval(tokens: Any) -> None:
            self._evaluated.append(len(tokens))
            original_eval(tokens)

        self._llama.eval = counting_eval

    # -- protocol -----------------------------------------------------------------------

    def stream(
        self, messages: list[Message], *, max_tokens: int = 256, temperature: float = 0.7
    ) -> Iterator[str]:
        """Yield the reply piece by piece; stops early when `cancel()` is called."""
        with self._lock:
            self._cancel.clear()
            yield from self._run(messages, max_tokens=max_tokens, temperature=temperature)

    def complete(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 256,
        temperature: float = 0.2,
        json_schema: dict[str, Any] | None = None,
        repeat_penalty: float = 1.0,
    ) -> str:
        """The whole reply; with `json_schema`, grammar-constrained to JSON matching it
        (and JSON_REPEAT_PENALTY instead of `repeat_penalty`)."""
        response_format = {"type": "json_object", "schema": json_schema} if json_schema else None
        with self._lock:
            self._cancel.clear()
            return "".join(
                self._run(
                    messages,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    response_format=response_format,
                    repeat_penalty=JSON_REPEAT_PENALTY if json_schema else repeat_penalty,
                )
            )

    def cancel(self) -> None:
        """Stop the running call at its next token; the next call clears the request."""
        self._cancel.set()

    def count_tokens(self, text: str) -> int:
        if not text:
            return 0
        with self._lock:
            return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def warm(self, messages: list[Message]) -> None:
        """Evaluate `messages` now so the next prompt that starts with them reuses the cache."""
        if not messages:
            return
        with self._lock:
            self._evaluated = []
            started = time.perf_counter()
            self._llama.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0)
            self.last_stats = GenerationStats(
                prompt_tokens=self._llama.n_tokens,
                prompt_tokens_evaluated=self._evaluated[0] if self._evaluated else 0,
                seconds_total=time.perf_counter() - started,
            )

    # -- internals ----------------------------------------------------------------------

    def _run(self, messages: list[Message], **kwargs: Any) -> Iterator[str]:
        """One streamed chat completion (caller holds the lock); fills `last_stats`."""
        self._evaluated = []
        stats = self.last_stats = GenerationStats()
        started = time.perf_counter()
        chunks = self._llama.create_chat_completion(messages=messages, stream=True, **kwargs)
        try:
            for chunk in chunks:
                if self._cancel.is_set():
                    break
                piece = chunk["choices"][0]["delta"].get("content")
                if not piece:
                    continue
                if not stats.seconds_to_first_token:
                    stats.seconds_to_first_token = time.perf_counter() - started
                yield piece
        finally:
            chunks.close()
            stats.seconds_total = time.perf_counter() - started
            if self._evaluated:
                # eval() #1 decodes the uncached prompt suffix; then one eval per sampled
                # token except the last (an end token or the max_tokens cut is never decoded)
                stats.prompt_tokens_evaluated = self._evaluated[0]
                stats.completion_tokens = len(self._evaluated)
                stats.prompt_tokens = self._llama.n_tokens - (len(self._evaluated) - 1)
