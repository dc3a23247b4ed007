"""Settings: typed round trip, and every kind of damaged store falls back to defaults key by key."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings as hsettings
from hypothesis import strategies as st

pytest.importorskip("PySide6.QtCore")
from PySide6.QtCore import QByteArray  # noqa: E402

from gdstudio.gui import settings as app_settings  # noqa: E402
from gdstudio.gui.settings import Settings  # noqa: E402


@pytest.fixture
def ini(tmp_path):
    return str(tmp_path / "gdstudio.ini")


def custom() -> Settings:
    return Settings(
        window_geometry=b"\x01\xd9\xd0\xcb\x00\x03\x00\x00geometry\xff",
        window_state=b"\x00\x00\x00\xffstate\x00",
        objective="booth",
        objective_params={},
        optimizer="sign-gd",
        hyperparams={"gd": {"lr": 0.030000000000000002}, "sign-gd": {"lr": 0.5}},
        epochs=250,
        start=(-1.2345678901234567, 3.0),
        gradient="central",
        fd_step=1e-5,
        speed=60.0,
        recent_formulas=["sin(x)*cos(y)", "x**2 + 3*y**2"],
    )


def test_defaults_when_nothing_is_stored(ini):
    assert app_settings.load(app_settings.open_store(ini)) == Settings()


def test_round_trip(ini):
    s = custom()
    assert app_settings.save(s, app_settings.open_store(ini))
    loaded = app_settings.load(app_settings.open_store(ini))
    assert loaded == s
    assert loaded.hyperparams_for("gd") == {"lr": 0.030000000000000002}
    assert loaded.hyperparams_for("nope") == {}
    assert isinstance(loaded.window_geometry, bytes) and isinstance(loaded.start, tuple)
    assert json.loads(app_settings.open_store(ini).value(app_settings.VERSION_KEY)) == app_settings.SCHEMA_VERSION


def test_recent_formulas_most_recent_first_at_most_ten():
    s = Settings()
    for i in range(12):
        s = s.with_recent_formula(f"x**{i}")
    s = s.with_recent_formula("x**5")
    assert s.recent_formulas[0] == "x**5"
    assert len(s.recent_formulas) == app_settings.MAX_RECENT
    assert s.recent_formulas.count("x**5") == 1
    assert s.recent_formulas[1] == "x**11"


@pytest.mark.parametrize("key, raw", [
    ("problem/objective", '"no-such-objective"'),
    ("problem/objective", "42"),
    ("problem/objective_params", '{"kappa": "big"}'),
    ("optimizer/name", '"adam-from-the-future"'),
    ("optimizer/hyperparams", '[1, 2]'),
    ("optimizer/epochs", "-3"),
    ("optimizer/epochs", "2.5"),
    ("start/point", "[1.0]"),
    ("start/point", '[1.0, "y"]'),
    ("gradient/source", '"magic"'),
    ("gradient/fd_step", "-1"),
    ("run/speed", "0"),
    ("run/speed", "1e999"),
    ("problem/recent_formulas", '"not a list"'),
    ("run/speed", "{not json"),
    ("run/speed", "NaN"),
])
def test_one_bad_key_falls_back_alone(ini, key, raw):
    s = custom()
    app_settings.save(s, app_settings.open_store(ini))
    store = app_settings.open_store(ini)
    store.setValue(key, raw)
    store.sync()
    loaded = app_settings.load(app_settings.open_store(ini))
    name = next(n for n, (k, _) in app_settings._JSON_FIELDS.items() if k == key)
    assert getattr(loaded, name) == getattr(Settings(), name)  # that key: its default
    for other in app_settings._JSON_FIELDS:
        if other != name:
            assert getattr(loaded, other) == getattr(s, other)  # the others: kept
    assert loaded.window_geometry == s.window_geometry


def test_bad_entries_inside_a_key_are_dropped_one_by_one(ini):
    store = app_settings.open_store(ini)
    store.setValue("optimizer/hyperparams", json.dumps(
        {"gd": {"lr": 0.2, "momentum": 0.9}, "sign-gd": {"lr": -1}, "unknown-opt": {"lr": 1}}))
    store.setValue("problem/recent_formulas", json.dumps(["a", 3, "", "a", "b"]))
    store.setValue("window/geometry", "not bytes")
    store.sync()
    loaded = app_settings.load(app_settings.open_store(ini))
    assert loaded.hyperparams == {"gd": {"lr": 0.2}, "sign-gd": {}}
    assert loaded.recent_formulas == ["a", "b"]
    assert loaded.window_geometry == b""


def test_older_or_missing_version_loads_what_still_fits(ini):
    app_settings.save(custom(), app_settings.open_store(ini))
    store = app_settings.open_store(ini)
    store.setValue(app_settings.VERSION_KEY, "0")
    store.setValue("run/speed", "true")  # an old type
    store.remove("gradient/source")      # an old store without this key
    store.sync()
    loaded = app_settings.load(app_settings.open_store(ini))
    assert loaded.speed == Settings().speed and loaded.gradient == Settings().gradient
    assert loaded.optimizer == "sign-gd"
    store.remove(app_settings.VERSION_KEY)
    store.setValue("run/speed", "[]")
    store.sync()
    assert app_settings.load(app_settings.open_store(ini)).optimizer == "sign-gd"


def test_migrations_run_for_older_versions(ini, monkeypatch):
    store = app_settings.open_store(ini)
    store.setValue(app_settings.VERSION_KEY, "0")
    store.setValue("run/speed", json.dumps(-5))  # say version 0 stored slow-motion as negative speed
    store.sync()

    def v0_to_v1(raw):
        raw["speed"] = abs(raw["speed"])
        return raw

    monkeypatch.setitem(app_settings.MIGRATIONS, 0, v0_to_v1)
    assert app_settings.load(app_settings.open_store(ini)).speed == 5.0


def test_newer_version_is_read_key_by_key(ini):
    app_settings.save(custom(), app_settings.open_store(ini))
    store = app_settings.open_store(ini)
    store.setValue(app_settings.VERSION_KEY, "99")
    store.setValue("some/future_key", "1")
    store.sync()
    assert app_settings.load(app_settings.open_store(ini)) == custom()


def test_literally_corrupt_file(ini):
    with open(ini, "wb") as f:
        f.write(os.urandom(512) + b"\n[problem]\nobjective=\"booth\n[window]\ngeometry=@ByteArray(\\x\n\x00\xff")
    loaded = app_settings.load(app_settings.open_store(ini))
    assert isinstance(loaded, Settings)
    assert loaded.objective == Settings().objective
    # and saving over it gives a good store again
    assert app_settings.save(custom(), app_settings.open_store(ini))
    assert app_settings.load(app_settings.open_store(ini)) == custom()


def test_unsaveable_value_keeps_the_stored_one(ini, caplog):
    app_settings.save(custom(), app_settings.open_store(ini))
    bad = custom()
    bad.speed = float("nan")
    app_settings.save(bad, app_settings.open_store(ini))
    assert app_settings.load(app_settings.open_store(ini)).speed == custom().speed
    assert "run/speed not saved" in caplog.text


@hsettings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from([k for k, _ in app_settings._JSON_FIELDS.values()] + [app_settings.VERSION_KEY,
                                                                                  "window/geometry"]),
                       st.text(max_size=30) | st.binary(max_size=30).map(QByteArray), max_size=6))
def test_any_stored_values_load(tmp_path_factory, stored):
    path = str(tmp_path_factory.mktemp("ini") / "s.ini")
    store = app_settings.open_store(path)
    for k, v in stored.items():
        store.setValue(k, v)
    store.sync()
    assert isinstance(app_settings.load(app_settings.open_store(path)), Settings)
