"""Private files: a folder only its owner can enter, a file only its owner can read."""

from __future__ import annotations

import os
import stat
import warnings
from pathlib import Path


class MadePrivateWarning(UserWarning):
    """A memory folder or file others could open was made private: said, not done quietly,
    so its owner learns that it had been open to other users."""


def make_private(path: Path) -> None:
    """Take group/other access away from `path`, never adding any, and say so if any was
    there (a folder copied or restored with 755, a database file with 644)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, mode & 0o700)
        warnings.warn(
            MadePrivateWarning(
                f"{path} was {mode:o}, open to other users; made it {mode & 0o700:o}"
            ),
            stacklevel=2,
        )


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and parents) and take group/other access away; never add any."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    make_private(path)
    return path


def write_private(path: Path | str, data: str | bytes) -> None:
    """Write `data` to a file only its owner can read (0600), replacing it atomically.

    The bytes go to a temporary file next to `path` first, so a crash leaves either the
    old file or the new one, never half of either.
    """
    path = Path(path).expanduser()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o600)  # O_CREAT's mode skips a leftover tmp file
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def bytes_on_disk(db_path: Path) -> int:
    """A SQLite file and its write-ahead log (-wal, -shm): until a checkpoint, what was
    written sits in the log (a new memory's file alone read 4 KB of its 290)."""
    files = [db_path, *(db_path.with_name(db_path.name + end) for end in ("-wal", "-shm"))]
    return sum(f.stat().st_size for f in files if f.exists())
