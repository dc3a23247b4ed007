"""Items 5 and 10: absurd settings values fall back to their default, key by key; the recent list is cheap."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("PySide6.QtCore")

from gdstudio.gui import settings as S  # noqa: E402

BIG = "9" * 400


@pytest.mark.parametrize("key, raw, field", [
    ("start/point", f"[{BIG}, 0]", "start"),
    ("run/speed", BIG, "speed"),
    ("problem/objective_params", f'{{"kappa": {BIG}}}', "objective_params"),
    ("gradient/fd_step", BIG, "fd_step"),
    ("optimizer/epochs", "2147483648", "epochs"),
    ("problem/objective_title", json.dumps("t" * 2_000_000), "objective_title"),
    ("problem/objective", json.dumps("expr:" + "x+" * 1_000_000 + "x"), "objective"),
])
def test_an_absurd_value_falls_back_to_its_default(tmp_path, key, raw, field):
    store = S.open_store(str(tmp_path / "s.ini"))
    store.setValue("optimizer/epochs", "250")
    store.setValue(key, raw)
    store.sync()
    loaded = S.load(S.open_store(str(tmp_path / "s.ini")))
    assert getattr(loaded, field) == getattr(S.Settings(), field)
    if field != "epochs":
        assert loaded.epochs == 250  # the other keys keep their values


def test_an_absurd_hyperparameter_is_dropped_alone(tmp_path):
    store = S.open_store(str(tmp_path / "s.ini"))
    store.setValue("optimizer/hyperparams", f'{{"gd": {{"lr": {BIG}}}, "momentum": {{"lr": 0.5}}}}')
    store.sync()
    loaded = S.load(S.open_store(str(tmp_path / "s.ini")))
    assert loaded.hyperparams == {"gd": {}, "momentum": {"lr": 0.5}}


class CountingList(list):
    def __init__(self, items):
        super().__init__(items)
        self.seen = 0

    def __iter__(self):
        for v in super().__iter__():
            self.seen += 1
            yield v


def test_recent_formulas_stop_reading_once_the_list_is_full():
    many = CountingList([f"x + {i}" for i in range(100_000)])
    assert S._recent(many) == [f"x + {i}" for i in range(S.MAX_RECENT)]
    assert many.seen == S.MAX_RECENT  # O(MAX_RECENT), not O(n²) over 100,000 entries


def test_with_recent_formula_keeps_the_list_capped():
    s = S.Settings(recent_formulas=[f"x + {i}" for i in range(100_000)])
    assert s.with_recent_formula("y").recent_formulas == ["y"] + [f"x + {i}" for i in range(S.MAX_RECENT - 1)]
