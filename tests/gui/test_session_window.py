"""File ▸ Save session / Open session through the window: runs reproduced to the last digit; a bad file
gives a message and leaves the window exactly as it was."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QMessageBox

from gdstudio.core import session as sessions
from gdstudio.core.runs import RunConfig, run

pytestmark = pytest.mark.gui


@pytest.fixture
def warnings_shown(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning",
                        lambda *a, **k: shown.append(a[2]) or QMessageBox.StandardButton.Ok)
    return shown


def run_all(qtbot, window, configs, **kw):
    with qtbot.waitSignal(window.sig_all_finished, timeout=30000):
        ids = window.start_runs(configs, **kw)
    return ids


def trajectories(window):
    return [[(t.x.copy(), t.loss.copy(), t.status, t.message) for t in e.result.trajectories] for e in window.model]


def assert_same_runs(a, b):
    assert len(a) == len(b)
    for ra, rb in zip(a, b):
        for (xa, la, sa, ma), (xb, lb, sb, mb) in zip(ra, rb):
            np.testing.assert_array_equal(xa, xb)  # bit for bit
            np.testing.assert_array_equal(la, lb)
            assert (sa, ma) == (sb, mb)


def test_session_round_trip_reproduces_the_runs(make_window, booth_config, qtbot, tmp_path):
    w = make_window(booth_config)
    configs = [booth_config,
               RunConfig.create("booth", "momentum", starts=[(4.0, -3.0)], epochs=90,
                                hyperparams={"lr": 0.01, "momentum": 0.8}),
               RunConfig.create("booth", "random-local-search", starts=[(0.0, 0.0), (5.0, 5.0)], epochs=60,
                                seed=7)]
    run_all(qtbot, w, configs, replace=True, colors=["#112233", None, "#abcdef"])
    ids = [e.run_id for e in w.model]
    w.model.set_visible(ids[1], False)
    before = trajectories(w)
    labels = [e.label for e in w.model]
    colours = [e.color.name() for e in w.model]
    path = tmp_path / "two.gdsession"
    assert w.save_session(str(path))
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["format"] == "gdstudio-session" and len(saved["runs"]) == 3

    w2 = make_window()  # a fresh window showing the first-launch objective
    with qtbot.waitSignal(w2.sig_all_finished, timeout=30000):
        assert w2.open_session(str(path))
    assert w2.objective.name == "booth"
    assert [e.label for e in w2.model] == labels
    assert [e.color.name() for e in w2.model] == colours and colours[0] == "#112233"
    assert [e.visible for e in w2.model] == [True, False, True]
    assert [e.config.replace(name="") for e in w2.model] == [c.replace(name="") for c in configs]
    assert_same_runs(trajectories(w2), before)
    # and the same as the core computes without a window
    ref = run(configs[2])
    np.testing.assert_array_equal(list(w2.model)[2].result.trajectories[1].x, ref.trajectories[1].x)


def test_formula_session_keeps_name_and_domain(make_window, qtbot, tmp_path):
    cfg = RunConfig.create("expr:x^2 + 3*y^2 + sin(3*x)", "gd", starts=[(2.0, 1.0)], epochs=50,
                           hyperparams={"lr": 0.05}, objective_params={"xmin": -3.0, "xmax": 3.0})
    w = make_window(cfg)
    from gdstudio.gui.session_io import objective_with_title

    w.set_objective(objective_with_title(cfg.objective, dict(cfg.objective_params), "wobbly bowl"))
    run_all(qtbot, w, [cfg])
    before = trajectories(w)
    path = tmp_path / "f.gdsession"
    assert w.save_session(str(path))
    w2 = make_window()
    with qtbot.waitSignal(w2.sig_all_finished, timeout=30000):
        assert w2.open_session(str(path))
    assert w2.objective.title == "wobbly bowl" and w2.objective.domain[0] == (-3.0, 3.0)
    assert w2.side_panel.formula_field.title() == "wobbly bowl"
    assert_same_runs(trajectories(w2), before)


def _state(w):
    return (w.objective, w.side_panel.current_config(), [(e.run_id, e.config, e.color.name(), e.visible)
                                                          for e in w.model])


BAD = {
    "not json": b"{not json",
    "not utf-8": b"\xff\xfe\x00",
    "other format": json.dumps({"format": "something-else", "version": 1}).encode(),
    "newer": json.dumps({"format": "gdstudio-session", "version": 99, "app_version": "9.0",
                         "objective": {"spec": "booth"}, "runs": []}).encode(),
    "unknown optimizer": json.dumps({"format": "gdstudio-session", "version": 1, "objective": {"spec": "booth"},
                                     "runs": [{"config": {"objective": "booth", "optimizer": "nope",
                                                          "starts": [[0, 0]], "epochs": 3}}]}).encode(),
    "bad formula": json.dumps({"format": "gdstudio-session", "version": 1, "objective": {"spec": "expr:x^^2"},
                               "runs": []}).encode(),
    "infinite": b'{"format": "gdstudio-session", "version": 1, "objective": {"spec": "booth"}, "runs": [{"config":'
                b' {"objective": "booth", "optimizer": "gd", "starts": [[1e999, 0]], "epochs": 3}}]}',
}


@pytest.mark.parametrize("kind", list(BAD))
def test_bad_session_file_changes_nothing(window, qtbot, tmp_path, warnings_shown, kind):
    with qtbot.waitSignal(window.sig_all_finished, timeout=20000):
        window.run()
    before = _state(window)
    path = tmp_path / f"{kind.replace(' ', '_')}.gdsession"
    path.write_bytes(BAD[kind])
    assert window.open_session(str(path)) is False
    assert len(warnings_shown) == 1 and path.name in warnings_shown[0]
    if kind == "newer":
        assert "newer gdstudio" in warnings_shown[0]
    if kind == "unknown optimizer":
        assert "nope" in warnings_shown[0]
    after = _state(window)
    assert after[0] is before[0] and after[1] == before[1] and after[2] == before[2]


def test_missing_file_and_unwritable_place(window, tmp_path, warnings_shown):
    assert window.open_session(str(tmp_path / "nowhere.gdsession")) is False
    assert "Could not read" in warnings_shown[-1]
    folder = tmp_path / "taken.gdsession"
    folder.mkdir()
    assert window.save_session(str(folder)) is False
    assert "Could not write" in warnings_shown[-1] and folder.is_dir()


def test_session_with_a_hand_written_colour_and_no_panel(make_window, qtbot, tmp_path):
    s = sessions.Session("sphere", runs=(sessions.SessionRun(RunConfig.create("sphere", "gd", [[1.0, 2.0]], epochs=5),
                                               "#ff0000", True),))
    path = sessions.save(tmp_path / "hand.gdsession", s)
    w = make_window()
    with qtbot.waitSignal(w.sig_all_finished, timeout=20000):
        assert w.open_session(str(path))
    (e,) = list(w.model)
    assert e.color == QColor("#ff0000") and w.objective.name == "sphere"
    assert w.side_panel.current_config().objective == "sphere"
