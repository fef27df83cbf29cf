"""One family of errors a person can act on, and the exit codes they map to."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    NOT_FOUND = 3
    MODEL = 4
    STORE = 5
    INTERRUPTED = 130


class MemoryosError(Exception):
    """Base error: its message is one line that says what is wrong and what to do."""

    exit_code: ExitCode = ExitCode.ERROR


class StoreError(MemoryosError):
    exit_code = ExitCode.STORE


class SchemaTooNewError(StoreError):
    pass


class EmbedderMismatchError(StoreError):
    pass


class ModelError(MemoryosError):
    exit_code = ExitCode.MODEL


class NotFoundError(MemoryosError):
    exit_code = ExitCode.NOT_FOUND


class InvalidInputError(MemoryosError):
    exit_code = ExitCode.USAGE
