"""Settings resolve in one order: defaults < config.toml < env < overrides."""

from __future__ import annotations

import pytest

from memoryos_cli.config import load_settings, write_config_value
from memoryos_cli.errors import InvalidInputError


def test_resolution_order(home, monkeypatch) -> None:
    s = load_settings()
    assert s.home == home and s.short_term_capacity == 7
    write_config_value(s, "short_term_capacity", "9")
    assert load_settings().short_term_capacity == 9
    assert oct((home / "config.toml").stat().st_mode & 0o777) == "0o600"
    monkeypatch.setenv("MEMORYOS_SHORT_TERM_CAPACITY", "11")
    assert load_settings().short_term_capacity == 11
    assert load_settings(short_term_capacity=5).short_term_capacity == 5


def test_bad_values_are_clear_errors(home) -> None:
    with pytest.raises(InvalidInputError, match="short_term_capacity"):
        load_settings(short_term_capacity="many")
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("[memoryos]\nbogus = 1\n")
    with pytest.raises(InvalidInputError, match="unknown setting"):
        load_settings()
