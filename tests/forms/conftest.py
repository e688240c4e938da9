from __future__ import annotations

from pathlib import Path

import pytest

from dsl.compiler import compile_path, compile_texts

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def bundle():
    result = compile_path(str(ROOT / "configs"))
    assert result.ok
    return result.bundle


def form_of(yaml_text: str):
    """The Form IR of one inline Form document."""
    result = compile_texts({"form.yaml": yaml_text})
    assert result.ok, [d.message for d in result.diagnostics.sorted()]
    return next(iter(result.bundle.of_kind("Form").values()))
