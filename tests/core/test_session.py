"""Sessions: exact round trips, and every kind of bad file gives one clear SessionError."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gdstudio import __version__
from gdstudio.core import session as sessions
from gdstudio.core.runs import RunConfig, run
from gdstudio.core.session import Session, SessionError, SessionRun

# Floats chosen so that a lossy format (str with 12 digits, float32...) would change them.
LR = 0.030000000000000002
START = (-1.2345678901234567, 2.718281828459045)


def make_session() -> Session:
    a = RunConfig.create("booth", "gd", [START, (0.1, 1e-300)], epochs=40, hyperparams={"lr": LR}, name="slow")
    b = RunConfig.create("booth", "sign-gd", [(3.0000000000000004, -7.0)], epochs=25,
                         hyperparams={"lr": 0.1}, gradient="central", fd_step=6.000000000000001e-06,
                         tol=1e-12, seed=2**63 + 5, name="sign")
    return Session("booth", (), (SessionRun(a, "#1f77b4", True), SessionRun(b, "", False)),
                   {"camera": {"distance": 12.5, "elevation": 30}, "step": 17})


def test_round_trip_reproduces_runs_bit_for_bit(tmp_path):
    s = make_session()
    path = sessions.save(tmp_path / "a.gdsession", s)
    loaded = sessions.load(path)
    assert loaded == s
    assert loaded.runs[0].config.hp["lr"] == LR
    for before, after in zip(s.runs, loaded.runs):
        r0, r1 = run(before.config), run(after.config)
        for t0, t1 in zip(r0.trajectories, r1.trajectories):
            assert t0.x.tobytes() == t1.x.tobytes()
            assert t0.loss.tobytes() == t1.loss.tobytes()
            assert t0.status == t1.status


def test_formula_objective_round_trip(tmp_path):
    cfg = RunConfig.create("expr:sin(x)*y + x**2/10", "adam", [[1.1, -0.7]], epochs=30,
                           hyperparams={"lr": 0.05})
    s = Session("expr:sin(x)*y + x**2/10", runs=(SessionRun(cfg, "#ABCDEF"),))
    loaded = sessions.load(sessions.save(tmp_path / "f.gdsession", s))
    assert loaded == s
    assert run(loaded.runs[0].config)[0].x.tobytes() == run(cfg)[0].x.tobytes()


def test_file_is_versioned_json_with_app_version(tmp_path):
    path = sessions.save(tmp_path / "a.gdsession", make_session())
    d = json.loads(path.read_text(encoding="utf-8"))
    assert d["format"] == "gdstudio-session" and d["version"] == sessions.VERSION == 1
    assert d["app_version"] == __version__
    assert d["runs"][0]["config"]["starts"][0] == list(START)
    assert d["runs"][1]["visible"] is False


def test_numpy_scalars_are_saved_as_plain_numbers():
    cfg = RunConfig.create("sphere", "gd", [[1.0, 2.0]], epochs=2, hyperparams={"lr": np.float32(0.25)})
    s = Session("sphere", runs=(SessionRun(cfg),), view={"zoom": np.float64(1.5), "size": np.int64(3)})
    loaded = sessions.loads(sessions.dumps(s))
    assert loaded.runs[0].config.hp["lr"] == 0.25
    assert loaded.view == {"zoom": 1.5, "size": 3}


def test_unsaveable_view_is_refused_without_touching_the_file(tmp_path):
    path = sessions.save(tmp_path / "a.gdsession", make_session())
    before = path.read_bytes()
    bad = Session("sphere", view={"x": float("nan")})
    with pytest.raises(SessionError, match="finite"):
        sessions.save(path, bad)
    with pytest.raises(SessionError, match="cannot save"):
        sessions.save(path, Session("sphere", view={"x": object()}))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.gdsession"]  # no temporary file left behind


def test_failed_write_leaves_existing_file(tmp_path, monkeypatch):
    path = sessions.save(tmp_path / "a.gdsession", make_session())
    before = path.read_bytes()

    def boom(*a):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        sessions.save(path, Session("sphere"))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.gdsession"]


def valid_dict() -> dict:
    return json.loads(sessions.dumps(make_session()))


def _set(d, keys, value):
    for k in keys[:-1]:
        d = d[k]
    d[keys[-1]] = value


def _del(d, keys):
    for k in keys[:-1]:
        d = d[k]
    del d[keys[-1]]


@pytest.mark.parametrize("keys, value, message", [
    (("format",), "something-else", "not a gdstudio session"),
    (("version",), 0, "version"),
    (("version",), "1", "version"),
    (("version",), True, "version"),
    (("objective",), "booth", "objective must be an object"),
    (("objective", "spec"), "nope", "unknown objective 'nope'"),
    (("objective", "params"), {"kappa": "big"}, "objective.params.kappa must be a number"),
    (("runs",), {}, "runs must be a list"),
    (("runs", 0), [], r"runs\[0\] must be an object"),
    (("runs", 0, "colour"), "red", "#rrggbb"),
    (("runs", 0, "visible"), 1, "visible must be true/false"),
    (("runs", 0, "extra"), 1, "unknown key 'extra'"),
    (("runs", 0, "config", "optimizer"), "adamw-nope", "unknown optimizer 'adamw-nope'"),
    (("runs", 0, "config", "epochs"), 2.5, "epochs must be a whole number"),
    (("runs", 0, "config", "epochs"), -1, "epochs"),
    (("runs", 0, "config", "starts"), [["1", 2]], "must be a number"),
    (("runs", 0, "config", "starts"), [[1, 2, 3]], "2 coordinates"),
    (("runs", 0, "config", "hyperparams"), {"lr": -1}, "lr must be in"),
    (("runs", 0, "config", "hyperparams"), {"momentum": 0.9}, "no hyperparameter 'momentum'"),
    (("runs", 0, "config", "gradient"), "magic", "unknown gradient source"),
    (("runs", 0, "config", "seed"), 1.5, "seed must be a whole number"),
    (("runs", 0, "config", "colour"), "#000000", "unknown run setting"),
    (("objective", "spec"), "expr:x**", "formula ends too early"),
    (("objective", "spec"), "expr:__import__('os')", "unknown name '__import__'"),
    (("runs", 0, "config", "objective"), "expr:1/0", "undefined"),
    (("view",), [], "view must be an object"),
    (("surprise",), 1, "unknown key 'surprise'"),
])
def test_bad_values_give_a_clear_session_error(keys, value, message):
    d = valid_dict()
    _set(d, keys, value)
    with pytest.raises(SessionError, match=message):
        sessions.from_dict(d)


@pytest.mark.parametrize("keys", [("format",), ("version",), ("objective",), ("runs",), ("objective", "spec"),
                                  ("runs", 0, "config"), ("runs", 0, "config", "starts"),
                                  ("runs", 1, "config", "optimizer")])
def test_missing_keys_give_a_clear_session_error(keys):
    d = valid_dict()
    _del(d, keys)
    with pytest.raises(SessionError):
        sessions.from_dict(d)


@pytest.mark.parametrize("text, message", [
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b"", "not valid JSON"),
    (b"{\"format\": ", "not valid JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (b"[" * 100000 + b"]" * 100000, "nested too deeply|not valid JSON"),
])
def test_garbage_files(tmp_path, text, message):
    path = tmp_path / "bad.gdsession"
    path.write_bytes(text)
    with pytest.raises(SessionError, match=message):
        sessions.load(path)


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused(token):
    text = sessions.dumps(make_session()).replace(repr(LR), token, 1)
    assert token in text
    with pytest.raises(SessionError, match="finite"):
        sessions.loads(text)


def test_newer_version_names_both_versions():
    d = valid_dict()
    d["version"] = 7
    d["app_version"] = "9.0.0"
    d["runs"] = "a shape this version does not know"
    with pytest.raises(SessionError) as info:
        sessions.from_dict(d)
    msg = str(info.value)
    assert "newer gdstudio (9.0.0" in msg and "format 7" in msg and f"up to {sessions.VERSION}" in msg
    assert "Update gdstudio" in msg


def test_session_error_is_a_value_error():
    assert issubclass(SessionError, ValueError)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_only_raise_session_error(data):
    try:
        sessions.loads(data)
    except SessionError:
        pass


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_random_json_only_raises_session_error(value):
    with pytest.raises(SessionError):
        sessions.from_dict(value)


_PATHS = [("format",), ("version",), ("app_version",), ("objective",), ("objective", "spec"),
          ("objective", "params"), ("runs",), ("runs", 0), ("runs", 0, "config"), ("runs", 0, "colour"),
          ("runs", 0, "visible"), ("view",)] + [("runs", 1, "config", k) for k in RunConfig().to_dict()]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_PATHS), json_values | st.sampled_from([None, 0, -1, 1e308, "gd"])),
                min_size=1, max_size=3))
def test_mutated_sessions_load_or_raise_session_error(changes):
    d = valid_dict()
    for keys, value in changes:
        try:
            _set(d, keys, value)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier change removed the parent
    try:
        s = sessions.from_dict(d)
    except SessionError:
        return
    # what loads must save and load back unchanged
    assert sessions.loads(sessions.dumps(s)) == s
