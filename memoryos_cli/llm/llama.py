"""llama.cpp backend: one GGUF kept loaded, its own chat template, KV-cache prefix reuse."""

from __future__ import annotations

import ctypes
import io
import os
import re
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager, nullcontext, redirect_stderr
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from memoryos_cli.config import Settings
from memoryos_cli.cpu import physical_cores
from memoryos_cli.errors import ModelError
from memoryos_cli.llm import GenerationStats, Message
from memoryos_cli.llm.held_words import HeldWords

# Small models loop inside a JSON grammar ("a", "a", "a", ...) until max_tokens; a mild
# penalty breaks the loop, and the grammar still forces every structural token.
JSON_REPEAT_PENALTY = 1.2


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


@dataclass
class KeptState:
    """The KV cache of sequence 0 copied out of llama.cpp: the tokens it holds and their
    keys and values (~28 KB a token for Qwen 1.5B, ~12 KB for 0.5B). `prompt` tokens were
    the call's prompt; the rest, if any, its reply so far; `sampling` the settings it was
    sampled with (a reply is continued only under the same ones)."""

    tokens: np.ndarray
    data: Any  # ctypes uint8 array
    prompt: int
    sampling: tuple[Any, ...] | None = None


def common_prefix(a: Sequence[int] | np.ndarray, b: Sequence[int] | np.ndarray) -> int:
    """How many leading tokens `a` and `b` share."""
    n = min(len(a), len(b))
    differ = np.flatnonzero(np.asarray(a[:n]) != np.asarray(b[:n]))
    return int(differ[0]) if len(differ) else n


# Restoring a kept state copies it back (a few ms); below this many tokens gained it is
# not worth replacing what the cache holds.
RESTORE_MIN_GAIN = 8


def _sampling_key(kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
    """What a reply's continuation must be sampled with to equal an uninterrupted reply:
    greedy only (a random sampler's state cannot be replayed), no Python logits hooks."""
    if kwargs.get("temp") != 0.0 or kwargs.get("logits_processor") is not None:
        return None
    grammar = kwargs.get("grammar")
    plain = tuple(
        sorted((k, v) for k, v in kwargs.items() if k not in ("grammar", "stopping_criteria"))
    )
    return (*plain, getattr(grammar, "_grammar", None))


# Words taken back in one reply before the ban alone decides (each costs a token's eval).
MAX_TAKEN_BACK = 6


def _import_llama() -> Any:
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise ModelError(
            "llama-cpp-python is not installed; run `pip install llama-cpp-python`"
        ) from exc
    return Llama


class WordBan:
    """A logits processor that keeps whole words out of a reply, however the model would
    spell them in tokens, with `HeldWords` (`LlamaCppLLM._taking_back`) reading the reply.

    A banned word is first caught where it ends, not where it begins: the reply comes a word
    behind, and a finished word that is a banned one is taken back to its first token, which
    is banned at that place (`take_back`). Banning its tokens up front also banned the
    words they begin: Qwen 1.5B spells "eggplant", "eggless" and "meatless" as " egg" or
    " meat" + the rest, and a vegan could not be offered an eggplant curry.

    Once a word has been taken back it is banned token by token for the rest of the reply
    (`arm`; all words once MAX_TAKEN_BACK are spent): at each step the word being written
    (the letters at the end of the reply so far) is looked up, and every token that would
    complete the word from there is banned: "icken" and "ICKEN" after "Ch", " chicken"
    anywhere (kept from " chicken" alone, SmolLM2 writes "**Ch" + "icken"). A model stopped
    mid-word misspells it (Qwen 1.5B, kept from "ut" after "Pean", wrote "Peanuty Butter"),
    so where its likeliest token would have finished a banned word (`headed_for_ban`) that
    word is taken back too.
    """

    TAIL_TOKENS = 8  # enough to hold the word being written (a longer one bans nothing)

    def __init__(self, llama: Any, words: frozenset[str]) -> None:
        self.words = words
        self._llama = llama
        self._ids: dict[str, int | None] = {}
        # per word: its tokens anywhere (" chicken"), and those that finish it after the
        # letters written so far ("Ch" -> "icken")
        self._anywhere: dict[str, set[int]] = {}
        self._after: dict[str, dict[str, set[int]]] = {}
        self.word_of: dict[str, str] = {}  # a form, lowercase ("peanuts") -> its word
        for word in words:
            anywhere = self._anywhere.setdefault(word, set())
            after = self._after.setdefault(word, {})
            for form in {word, plural(word)}:
                self.word_of.setdefault(form, word)
                for spelled in {form, form.capitalize(), form.upper()}:
                    self._add(" " + spelled, anywhere)
                    for cut in range(len(spelled)):
                        rest = spelled[cut:]
                        into = after.setdefault(spelled[:cut], set())
                        for text in {rest, rest.lower(), rest.upper()} if cut else {rest}:
                            self._add(text, into)
        self.forms = frozenset(self.word_of)
        self.start_reply()

    def start_reply(self) -> None:
        """Forget the last reply's take-backs and armed words (positions are the reply's own)."""
        self.at: dict[int, set[int]] = {}  # position -> tokens banned there (words taken back)
        self.headed_for_ban: int | None = None  # where the likeliest token finished a ban
        self.taken_back = 0
        self.armed: set[str] = set()
        self.anywhere: set[int] = set()  # the armed words' tokens, merged
        self.after: dict[str, set[int]] = {}

    def arm(self, form: str | None = None) -> None:
        """Ban `form`'s word token by token from now on (every word when None)."""
        words = set(self.words) if form is None else {self.word_of.get(form.lower(), "")}
        for word in words & set(self.words) - self.armed:
            self.armed.add(word)
            self.anywhere |= self._anywhere[word]
            for so_far, tokens in self._after[word].items():
                self.after.setdefault(so_far, set()).update(tokens)

    def take_back(self, position: int, token: int, form: str | None = None) -> None:
        """The word begun at `position` by `token` was (heading for) a banned one, `form`
        when it was written whole: the reply goes on from there without that token."""
        self.at.setdefault(position, set()).add(token)
        self.headed_for_ban = None
        self.taken_back += 1
        if form is not None:
            self.arm(form)
        if self.taken_back >= MAX_TAKEN_BACK:
            self.arm()  # no take-back is left: the ban alone decides

    def _add(self, text: str, into: set[int]) -> None:
        if text not in self._ids:
            ids = self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)
            self._ids[text] = ids[0] if len(ids) == 1 else None
        token = self._ids[text]
        if token is not None:
            into.add(token)

    def word_so_far(self, input_ids: Any) -> str:
        tail = self._llama.detokenize(list(input_ids[-self.TAIL_TOKENS :]))
        # \Z, not $: "$" also matches before a final newline, so a line's first word was
        # read as the last one's ("Jelly\n" + "Peanut": "Jelly" + "Peanut")
        letters = re.search(r"[A-Za-z]*\Z", tail.decode("utf-8", "ignore"))
        return letters.group(0) if letters else ""

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        position = len(input_ids)
        banned = self.at.get(position, set())
        if self.armed:
            so_far = self.word_so_far(input_ids)
            finishing = self.after.get(so_far, set())
            if so_far and finishing and int(np.argmax(scores)) in finishing:
                self.headed_for_ban = position  # a word begun here cannot end well
            banned = banned | self.anywhere | finishing
        if banned:
            scores[list(banned)] = -np.inf
        return scores


# The fences around recalled memories (`prompts.quote`). A reply that writes one has taken
# the prompt's layout for its own: asked about Jon's attitude to a dance festival, Qwen 1.5B
# answered ">>>\n\nWhat is Jon's current goal in starting the dance studio?", closing a
# memory block and asking a question of its own making.
FENCES = ("<<<", ">>>")
# The end of the reply so far that a fence could grow from: "<", "<<", ">" or ">>".
_FENCE_START = re.compile(r"(<{1,2}|>{1,2})\Z")


class FenceBan:
    """A logits processor that bans every token that would write a fence in the reply.

    A fence comes whole (">>>" is one token) or in pieces (">>" + ">\n"), so the tokens
    that finish one after "<", "<<", ">" or ">>" are banned when the reply ends so. Which
    tokens those are is read from the vocabulary in a thread of its own, from the model's
    load on (0.6 s for Qwen's 152k tokens); a reply asked for sooner waits for it, so what
    is banned never depends on timing."""

    def __init__(self, llama: Any) -> None:
        self._llama = llama
        self._holding: set[int] = set()  # tokens whose text holds a whole fence
        self._after: dict[str, set[int]] = {}  # "<<" -> the tokens that finish "<<<" after it
        self._reading = threading.Thread(target=self._read_vocabulary, daemon=True)
        self._reading.start()

    def _read_vocabulary(self) -> None:
        import llama_cpp

        vocab = llama_cpp.llama_model_get_vocab(self._llama.model)
        for token in range(llama_cpp.llama_vocab_n_tokens(vocab)):
            text = (llama_cpp.llama_vocab_get_text(vocab, token) or b"").decode("utf-8", "replace")
            if "<" not in text and ">" not in text or text.startswith("<|"):
                continue  # most tokens; "<|im_end|>" ends a reply, it writes nothing
            if any(fence in text for fence in FENCES):
                self._holding.add(token)
                continue
            for fence in FENCES:
                for written in (1, 2):
                    if text.startswith(fence[written:]):
                        self._after.setdefault(fence[:written], set()).add(token)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        self._reading.join()  # at once, once the vocabulary is read
        banned = self._holding
        tail = self._llama.detokenize(list(input_ids[-2:])).decode("utf-8", "ignore")
        start = _FENCE_START.search(tail)
        if start is not None:
            banned = banned | self._after.get(start.group(1), set())
        scores[list(banned)] = -np.inf
        return scores


def plural(word: str) -> str:
    if word.endswith("s"):
        return word
    return word + "es" if word.endswith(("sh", "ch", "x")) else word + "s"


class LlamaCppLLM:
    """The `LLM` protocol over llama-cpp-python. Thread-safe: one lock serializes every call.

    llama.cpp keeps the tokens of the last call in its KV cache and re-evaluates only what
    follows their longest common prefix with the next prompt, so `warm()` on the stable
    part of the next prompt makes the user-visible call cheap.

    The chat and its consolidation share this one context, so two states are kept aside
    (copied out of the KV cache, see `KeptState`): the prefix `warm()` evaluated, and the
    `complete()` call that `cancel()` cut short. Before each call the cache is swapped for
    the kept state that shares the longest prefix with its prompt: the answer asked
    during an analysis evaluates only what follows the warmed prefix, and the analysis,
    run again on the same pages, goes on from where it stopped (its prompt evaluated,
    its reply so far given back and continued) instead of starting over.

    `cancel()` also interrupts llama.cpp inside a batch (an abort callback), so a prompt of
    thousands of tokens never holds up an answer or the exit. What a cancel keeps is every
    whole batch (512 prompt tokens) and every reply token: an analysis stopped every turn
    advances whenever the user leaves it more than a batch's time (~6 s for Qwen 1.5B).
    """

    def __init__(self, path: Path | str, settings: Settings, *, name: str | None = None) -> None:
        Llama = _import_llama()
        self.path = Path(path)
        self.name = name or self.path.stem
        self.settings = settings
        self.last_stats = GenerationStats()
        self._cancel = threading.Event()  # set by cancel(): the running call stops at once
        self._abort_flag = ctypes.create_string_buffer(2)  # the same, read by llama.cpp
        self._lock = threading.Lock()
        self._evaluated: list[int] = []
        self._prefix: KeptState | None = None  # what warm() evaluated
        self._interrupted: KeptState | None = None  # a complete() stopped by cancel()
        self._sampling: tuple[Any, ...] | None = None  # the running call's, see _sampling_key
        self._prompt_tokens = 0  # the running call's prompt length
        self._word_ban: WordBan | None = None  # the last stream's, kept for the next
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
        original_generate = self._llama.generate

        def generate(tokens: Sequence[int], **kwargs: Any) -> Iterator[int]:
            made = self._generate(original_generate, list(tokens), kwargs)
            hooks = kwargs.get("logits_processor") or ()
            ban = next((hook for hook in hooks if isinstance(hook, WordBan)), None)
            if ban is None:
                return made
            return self._taking_back(original_generate, list(tokens), made, ban, kwargs)

        self._llama.generate = generate
        self._abort_callback = self._install_abort_callback()
        self._fence_ban = FenceBan(self._llama)  # no answer writes a memory block's fence

    # -- protocol -----------------------------------------------------------------------

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 256,
        temperature: float = 0.7,
        avoid: Sequence[str] = (),
    ) -> Iterator[str]:
        """Yield the reply piece by piece; stops early when `cancel()` is called. No word
        of `avoid` is written, whichever pieces it would be made of (`WordBan`), nor
        misspelt: with `avoid` the reply comes a word behind, so a word heading for a
        banned one can be taken back before it is shown (`HeldWords`)."""
        with self._lock:
            self._clear_cancel()
            ban = self._ban(avoid) if avoid else None
            if ban is not None:
                ban.start_reply()
            try:
                yield from self._run(
                    messages,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    logits_processor=[self._fence_ban, *([ban] if ban else [])],
                )
            finally:
                self.last_stats.words_taken_back = ban.taken_back if ban else 0

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
            self._clear_cancel()
            reply = "".join(
                self._run(
                    messages,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    response_format=response_format,
                    repeat_penalty=JSON_REPEAT_PENALTY if json_schema else repeat_penalty,
                )
            )
            # Cut short: kept to go on from; whole: what was kept is done with.
            self._interrupted = self._keep() if self._cancel.is_set() else None
            return reply

    def cancel(self) -> None:
        """Stop the running call now, inside a prompt's evaluation too (the evaluated part
        stays in the cache); the next call clears the request."""
        self._cancel.set()
        self._abort_flag[0] = b"\1"

    def count_tokens(self, text: str) -> int:
        if not text:
            return 0
        with self._lock:
            return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def warm(self, messages: list[Message]) -> None:
        """Evaluate `messages` now and keep their state aside: the next prompt that starts
        with them reuses it, also after other calls (an analysis) used the cache meanwhile.
        `cancel()` stops it."""
        if not messages:
            return
        with self._lock:
            self._clear_cancel()
            self._evaluated = []
            started = time.perf_counter()
            try:
                self._llama.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0)
            except RuntimeError:
                if not self._cancel.is_set():
                    raise
                return  # aborted by cancel(): the batches done stay in the cache
            self._prefix = self._keep(sampled=False)
            self.last_stats = GenerationStats(
                prompt_tokens=self._llama.n_tokens,
                prompt_tokens_evaluated=self._evaluated[0] if self._evaluated else 0,
                seconds_total=time.perf_counter() - started,
            )

    # -- internals ----------------------------------------------------------------------

    def _ban(self, words: Sequence[str]) -> WordBan:
        """The ban on `words` (made once per set of words: the chat's is the same each turn)."""
        key = frozenset(words)
        if self._word_ban is None or self._word_ban.words != key:
            self._word_ban = WordBan(self._llama, key)
        return self._word_ban

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
        except RuntimeError:
            if not self._cancel.is_set():
                raise
            # cancel() aborted llama_decode inside a batch: the call ends as a stopped one
        finally:
            chunks.close()
            stats.seconds_total = time.perf_counter() - started
            if self._evaluated:
                # eval() #1 decodes the uncached prompt suffix; then one eval per sampled
                # token except the last (an end token or the max_tokens cut is never decoded)
                stats.prompt_tokens_evaluated = self._evaluated[0]
                stats.completion_tokens = len(self._evaluated)
                stats.prompt_tokens = self._llama.n_tokens - (len(self._evaluated) - 1)

    def _install_abort_callback(self) -> Any:
        """Let `cancel()` stop llama.cpp between two nodes of its graph: without it a
        prompt's evaluation runs to its end (512 tokens a batch, all batches) before the
        first chance to stop.

        The callback is C's `strlen` over a two-byte flag (0 or 1: a true or false `bool`),
        not Python: a Python callback would take the GIL at every node, and a main thread
        inside llama.cpp would run its SIGINT handler inside the callback, where ctypes
        swallows a KeyboardInterrupt (Ctrl-C in `bench chat` would be lost).
        """
        import llama_cpp

        libc = ctypes.cdll.msvcrt if os.name == "nt" else ctypes.CDLL(None)
        strlen = ctypes.cast(libc.strlen, ctypes.c_void_p).value or 0
        callback = llama_cpp.ggml_abort_callback(strlen)
        flag = ctypes.cast(self._abort_flag, ctypes.c_void_p)
        llama_cpp.llama_set_abort_callback(self._llama.ctx, callback, flag)
        return callback  # kept on self: C holds only the pointer

    def _clear_cancel(self) -> None:
        """A call starts: an earlier `cancel()` is forgotten."""
        self._cancel.clear()
        self._abort_flag[0] = b"\0"

    def _keep(self, *, sampled: bool = True) -> KeptState | None:
        """Copy sequence 0 of the KV cache out (`sampled`: what follows the prompt is the
        reply so far, which a call with the same prompt and sampling may continue)."""
        import llama_cpp

        n = self._llama.n_tokens
        if n <= 0:
            return None
        ctx = self._llama.ctx
        size = llama_cpp.llama_state_seq_get_size(ctx, 0)
        data = (ctypes.c_uint8 * size)()
        if llama_cpp.llama_state_seq_get_data(ctx, data, size, 0) == 0:
            return None
        prompt = min(n, self._prompt_tokens) if sampled else n
        return KeptState(self._llama.input_ids[:n].copy(), data, prompt, self._sampling)

    def _restore(self, kept: KeptState) -> bool:
        """Put a kept state back as the cache's sequence 0."""
        import llama_cpp

        if llama_cpp.llama_state_seq_set_data(self._llama.ctx, kept.data, len(kept.data), 0) == 0:
            self._llama.reset()  # a failed load may leave the sequence half-written
            return False
        n = len(kept.tokens)
        self._llama.input_ids[:n] = kept.tokens
        self._llama.n_tokens = n
        self._llama._requires_eval = True  # no logits came back: re-evaluate a token first
        return True

    def _generate(
        self, original: Any, tokens: list[int], kwargs: dict[str, Any]
    ) -> Generator[int, None, None]:
        """`Llama.generate` after the cache is swapped for the kept state that best matches
        `tokens`; an interrupted reply to the same prompt and sampling is given back first
        and continued (greedy decoding then yields what the whole call would have)."""
        self._prompt_tokens = len(tokens)
        self._sampling = sampling = _sampling_key(kwargs)
        held = common_prefix(self._llama.input_ids[: self._llama.n_tokens], tokens)
        best, best_shared = None, held
        for kept in (self._prefix, self._interrupted):
            if kept is not None:
                shared = common_prefix(kept.tokens, tokens)
                if shared > best_shared:
                    best, best_shared = kept, shared
        if best is None or best_shared < held + RESTORE_MIN_GAIN or not self._restore(best):
            return original(tokens, **kwargs)
        resumable = (
            best is self._interrupted
            and sampling is not None
            and best.sampling == sampling
            and best.prompt == len(tokens) == best_shared
            and len(best.tokens) > best.prompt
        )
        if not resumable:
            return original(tokens, **kwargs)
        return self._continue(original, tokens, best.tokens[best.prompt :].tolist(), kwargs)

    def _taking_back(
        self,
        original: Any,
        prompt: list[int],
        made: Generator[int, None, None],
        ban: WordBan,
        kwargs: dict[str, Any],
    ) -> Iterator[int]:
        """The reply of `made`, a word behind (`HeldWords`): a banned word, or one heading
        for a banned word, is taken back before it is yielded, and the reply goes on from the
        word's start with the token that began it banned there, at most MAX_TAKEN_BACK times
        a reply."""
        import llama_cpp

        vocab = self._llama._model.vocab
        held = HeldWords(ban.forms)
        said: list[int] = []
        shown = 0
        try:
            while (token := next(made, None)) is not None:
                position = len(prompt) + len(said)
                ending = bool(llama_cpp.llama_vocab_is_eog(vocab, token))
                if ending:
                    back = held.end()  # the reply's last word ends here
                else:
                    said.append(token)
                    text = self._llama.detokenize([token]).decode("utf-8", "ignore")
                    back = held.add(text, headed_for_ban=ban.headed_for_ban == position)
                if back is not None and back >= shown and ban.taken_back < MAX_TAKEN_BACK:
                    ban.take_back(len(prompt) + back, said[back], held.found)
                    del said[back:]
                    held.back_to(back)
                    made.close()
                    made = self._resume(original, prompt, said, kwargs)
                elif ending:
                    yield from said[shown:]
                    yield token
                    return
                elif held.settled > shown:
                    yield from said[shown : held.settled]
                    shown = held.settled
            yield from said[shown:]
        finally:
            made.close()

    def _continue(
        self, original: Any, prompt: list[int], said: list[int], kwargs: dict[str, Any]
    ) -> Generator[int, None, None]:
        """Yield the reply so far (`said`, already in the cache), then go on generating."""
        yield from said
        yield from self._resume(original, prompt, said, kwargs)

    def _resume(
        self, original: Any, prompt: list[int], said: list[int], kwargs: dict[str, Any]
    ) -> Generator[int, None, None]:
        """Generate what follows `prompt` + `said` (the cache holds them: only what differs
        is evaluated), with a sampler that has seen `said` (repeat penalty and grammar in the
        same state)."""
        llama = self._llama
        make_sampler = llama._init_sampler

        def primed(**options: Any) -> Any:
            sampler = make_sampler(**options)
            for token in said:
                sampler.accept(token)
            return sampler

        llama._init_sampler = primed
        try:
            rest = original(prompt + said, **kwargs)
            first = next(rest, None)  # the sampler is made on the first step
        finally:
            del llama._init_sampler  # the class's own again
        if first is None:
            return
        yield first
        yield from rest
