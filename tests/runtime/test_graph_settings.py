"""`[bank]` in banyan.toml: the capital the exposure ratios divide by."""
from __future__ import annotations

import pytest

from runtime.graph.settings import BankSettings, bank_settings
from runtime.storage.db import ConfigError


def write(tmp_path, text: str):
    path = tmp_path / "banyan.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file_or_a_bank_table(tmp_path):
    assert bank_settings(tmp_path / "missing.toml") == BankSettings()
    assert bank_settings(write(tmp_path, '[environments]\ntest = "sqlite:///t.db"\n')).net_capital == 30e9


def test_money_literals_and_numbers(tmp_path):
    s = bank_settings(write(tmp_path, '[bank]\nnet_capital = "350亿"\ntier1_capital = 2.8e10\n'))
    assert (s.net_capital, s.tier1_capital) == (35e9, 28e9) and s.source.endswith("banyan.toml")


@pytest.mark.parametrize("body, words", [
    ('[bank]\nnet_capital = "lots"\n', "net_capital must be an amount"),
    ('[bank]\nnet_capital = -5\n', "must be positive"),
    ('[bank]\ntier_one = 1\n', "unknown keys tier_one"),
    ('bank = 3\n', "[bank] must be a table"),
    ('[bank\n', "cannot read"),
])
def test_bad_settings_say_what_to_fix(tmp_path, body, words):
    with pytest.raises(ConfigError, match=words.replace("[", r"\[")):
        bank_settings(write(tmp_path, body))
