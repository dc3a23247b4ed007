"""What the window tells the user: status-bar messages that show, a refused Run explained beside the field."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

pytestmark = pytest.mark.gui


def message_shows(window) -> bool:
    """A temporary message is set and nothing in the status bar covers the space it is drawn in."""
    sb = window.statusBar()
    covering = [w for w in sb.findChildren(QWidget) if w.isVisible() and w.parent() is sb and w.width() > sb.width() // 3]
    return bool(sb.currentMessage()) and not covering


def type_into(qtbot, edit, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)


@pytest.mark.parametrize("field, bad, good, word", [
    ("x0_edit", "abc", "1", "x₀"),
    ("y0_edit", "", "2", "y₀"),
    ("tol_edit", "-1", "1e-6", "tolerance"),
    ("h_edit", "0", "1e-4", "h"),
])
def test_a_refused_run_says_why_in_the_status_bar_and_beside_the_field(window, qtbot, field, bad, good, word):
    panel = window.side_panel
    if field == "h_edit":
        panel.gradient_combo.setCurrentIndex(panel.gradient_combo.findData("central"))
    edit = getattr(panel, field)
    type_into(qtbot, edit, bad)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_F5)  # Run
    assert len(window.model) == 0
    assert word in window.statusBar().currentMessage() and message_shows(window)
    err = panel.field_errors[edit]
    assert err.isVisible() and word in err.text()
    assert edit.styleSheet() and panel.marked_fields() == [edit]
    assert panel.error_label.isHidden()  # not repeated elsewhere: the field says it
    # the user fixes the field: the red border and the message go at once, and Run works
    type_into(qtbot, edit, good)
    assert not edit.styleSheet() and not err.isVisible() and not panel.marked_fields()
    with qtbot.waitSignal(window.sig_all_finished, timeout=20000):
        qtbot.keyClick(window, Qt.Key.Key_F5)
    assert len(window.model) == 1


def test_status_messages_replace_the_status_line_while_they_last(window, qtbot):
    assert window.status_label.isVisible() and "Ready" in window.status_label.text()
    window.statusBar().showMessage("Exported 12 rows to x.csv", 200)
    assert message_shows(window) and not window.status_label.isVisible()
    qtbot.waitUntil(lambda: window.status_label.isVisible(), timeout=3000)
    assert not window.statusBar().currentMessage()


def test_a_click_on_the_map_says_where_the_start_went(window, qtbot):
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=60000)
    view = window.contour_view
    n = len(window.model)
    qtbot.mouseClick(view.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=view.scene_position(1.5, -2.0))
    x, y = window.side_panel.start()
    assert abs(x - 1.5) < 0.2 and abs(y + 2.0) < 0.2  # within a pixel or two
    msg = window.statusBar().currentMessage()
    assert msg.startswith(f"start ({x:.4g}, {y:.4g})") and msg.endswith("· Run (F5) starts from here")
    assert message_shows(window) and len(window.model) == n  # idle: the click sets the start, Run starts it


def test_pause_shows_one_resume_and_the_toolbar_does_not_shift(window, qtbot):
    from PySide6.QtWidgets import QToolBar, QToolButton

    tb = window.findChild(QToolBar, "run_toolbar")

    def layout():
        return [(b.text().replace("&", ""), b.geometry().x(), b.width()) for b in tb.findChildren(QToolButton)
                if b.isVisible() and b.defaultAction() is not None]

    cfg = window.current_config().replace(epochs=1_000_000)
    window.side_panel.apply_config(cfg)
    window.actions.speed.set_speed(50)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.actions.pause.isEnabled(), timeout=5000)
    before = layout()
    qtbot.keyClick(window, Qt.Key.Key_Space)  # Pause
    assert window.controller.paused
    qtbot.wait(50)
    after = layout()
    assert [t for t, _, _ in after].count("Resume") == 1
    assert [(x, w) for _, x, w in after] == [(x, w) for _, x, w in before]  # nothing moved
    window.reset()


def test_sweep_dialog_keeps_every_line_when_an_error_shows(qtbot, booth_config):
    from PySide6.QtWidgets import QLabel

    from gdstudio.gui.views.compare import SweepDialog

    d = SweepDialog(booth_config)
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    d.lr_edit.setText(", ".join(f"0.{i}" for i in range(1, 17)))  # too many: an error line appears
    d.lr_edit.textEdited.emit(d.lr_edit.text())
    d.show_error(d.error_label.text() + ": remove some of them, or run a second sweep next to this one")
    qtbot.wait(50)
    assert d.error_label.isVisible()
    for label in d.findChildren(QLabel):
        if label.isVisible() and label.wordWrap():  # the intro ends "… diverges."; nothing cut
            assert label.height() >= label.heightForWidth(label.width()), label.text()
