"""Typing a rule into the rule editor the user's way (shared by the GUI tests of own rules)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest


def type_rule(qtbot, dlg, text: str) -> None:
    """Replace the editor's text with ``text``, typed key by key (Return between lines)."""
    dlg.edit.selectAll()
    QTest.keyClick(dlg.edit, Qt.Key.Key_Delete)
    for i, line in enumerate(text.split("\n")):
        if i:
            QTest.keyClick(dlg.edit, Qt.Key.Key_Return)
        QTest.keyClicks(dlg.edit, line)


def use_typed_rule(qtbot, dlg, text: str) -> None:
    """Type ``text`` and press "Use this rule"; the editor closes."""
    type_rule(qtbot, dlg, text)
    assert dlg.ok_button.isEnabled(), dlg.status.text()
    QTest.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=5000)
