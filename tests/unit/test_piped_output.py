"""Output piped to a file or CI keeps every table cell whole (rich would assume 80 columns)."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from memoryos_cli.bench import perf
from memoryos_cli.cli.app import app

ROW = {
    "pages": 100000,
    "add_memory_ms_p50": 12.345,
    "add_memory_ms_p95": 23.456,
    "retrieve_ms_p50": 34.567,
    "retrieve_ms_p95": 45.678,
    "retrieve_flat_ms_p50": 56.789,
    "embed_one_ms_p50": 6.789,
    "db_bytes": 123456789,
    "bytes_per_page": 1234.5,
    "overhead_bytes_per_page": 567.8,
    "peak_rss_mb": 789.1,
}


def test_a_wide_table_piped_to_a_file_is_not_squeezed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    report: dict[str, Any] = {"embedder": "hashing", "method": "memoryos", "sizes": [ROW]}
    monkeypatch.setattr(perf, "run_perf", lambda sizes, progress: report)
    result = CliRunner().invoke(app, ["bench", "perf", "--pages", "100000"])
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    (row,) = [line for line in result.output.splitlines() if "100000" in line]
    cells = [cell.strip() for cell in row.strip("│ ").split("│")]
    assert cells == [
        "100000", "12.3", "23.5", "34.6", "45.7", "56.8", "6.8", "123.5", "1234.5", "567.8",
        "789.1",
    ]  # fmt: skip
    assert "flat retrieve p50 ms" in result.output


def test_columns_still_sets_the_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    from memoryos_cli.cli.env import make_console

    assert make_console().width == 100
