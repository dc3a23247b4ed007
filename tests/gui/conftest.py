"""GUI test fixtures (the window factory and private user files are in tests/conftest.py, shared with
tests/hostile). The GUI tests need pytest-qt; without it they are skipped."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from gdstudio.core.runs import RunConfig  # noqa: E402


@pytest.fixture
def booth_config():
    return RunConfig.create("booth", "gd", starts=[(-8.0, 8.0)], epochs=120, hyperparams={"lr": 0.05})


@pytest.fixture
def window(make_window, booth_config):
    return make_window(booth_config)
