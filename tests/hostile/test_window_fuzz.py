"""Done-when, through the window: a mutated session file either opens, or leaves the window exactly as it was
with one message box; never an exception (pytest-qt fails a test on an exception in a slot); never a freeze
over 1 s (hypothesis' ``deadline``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).parent))
from mutations import mutated_text  # noqa: E402

pytest.importorskip("pytestqt")
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from gdstudio.core.runs import RunConfig  # noqa: E402

pytestmark = pytest.mark.gui
BOOTH = RunConfig.create("booth", "gd", starts=[(-8.0, 8.0)], epochs=60, hyperparams={"lr": 0.05})


def snapshot(w):
    p = w.side_panel
    return ([(e.run_id, e.label, e.config, e.visible) for e in w.model], w.objective.spec(), p.optimizer_name(),
            p.hp_form.values(), p.epochs_spin.value(), p.seed_spin.value(), p.x0_edit.text(), p.y0_edit.text(),
            p.tol_edit.text(), p.h_edit.text(), p.gradient_combo.currentData())


def test_mutated_sessions_open_or_change_nothing(make_window, qtbot, tmp_path, monkeypatch):
    w = make_window(BOOTH)
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]) or QMessageBox.StandardButton.Ok)
    path = tmp_path / "m.gdsession"
    outcomes = []

    @settings(max_examples=40, deadline=1000, suppress_health_check=list(HealthCheck))
    @given(mutated_text())
    def open_one(text):
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        before = snapshot(w)
        del shown[:]
        if w.open_session(str(path)):
            assert shown == []
            outcomes.append("opened")
        else:
            assert len(shown) == 1, shown  # one message
            assert snapshot(w) == before  # and nothing changed
            outcomes.append("refused")

    open_one()
    assert "refused" in outcomes  # the mutations did reach the refusal path
