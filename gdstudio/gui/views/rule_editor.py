"""Write your own optimizer: the "Own rule…" entry of the optimizer choice and its editor.

:class:`RuleEditor` is a dialog with a text box checked as you type (:func:`gdstudio.core.rules.compile_rule`):
an error shows its line and column and is underlined in the text; a valid rule lists its params (which become
the form's fields) and state variables. The built-ins written as rules (:data:`gdstudio.core.rules.EXAMPLES`)
are offered as starting points.

:func:`install` adds the entry to a :class:`~gdstudio.gui.views.side_panel.SidePanel`'s optimizer combo: its
item data is the spec ``"rule:<text>"`` (the momentum rule until the user writes another), so the panel,
sweeps, races, sessions and CSV treat it like any optimizer name. Choosing the entry opens the editor; the
"Edit rule…" button beside it reopens it.

The combo holds one rule (the last one accepted), but every rule the user has had this session is kept in
:meth:`RuleChoice.known_rules` (accepted in the editor, restored from the settings, opened from a session, run
in a race): the race dialog offers them all beside the built-ins, whatever the panel shows. A rule is named by
a comment on its first line (``# heavy ball``; :func:`gdstudio.core.rules.rule_name`).
"""

from __future__ import annotations

import html

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from gdstudio.core import rules as R

#: Text of the optimizer combo's entry (before a rule is accepted it holds the momentum example).
OWN_RULE_TEXT = "Own rule…"
DEFAULT_RULE = R.EXAMPLES["momentum"][1]
OK_STYLE = "color: #188038;"
#: Most own rules kept for the race dialog (the oldest is forgotten first).
MAX_KNOWN_RULES = 20
ERROR_STYLE = "color: #d93025; font-weight: bold;"


def rules_help_html() -> str:
    """The rule language, generated from :mod:`gdstudio.core.rules` (names, functions, the built-ins as rules)."""
    inputs = "".join(f"<tr><td><code>{n}</code></td><td>{html.escape(h)}</td></tr>" for n, h in R.INPUTS.items())
    funcs = "".join(
        f"<tr><td><code>{n}({', '.join('uvw'[:k]) if n != 'clip' else 'u, lo, hi'})</code></td>"
        f"<td>{html.escape(h)}</td></tr>" for n, (k, h) in R.FUNCTIONS.items())
    implicit = ", ".join(f"<code>{n}</code> ({v:g})" for n, v in R.IMPLICIT_PARAMS.items())
    examples = "".join(f"<h4>{html.escape(title)}</h4><pre>{html.escape(text)}</pre>"
                       for title, text in R.EXAMPLES.values())
    return (
        "<h2>Your own update rule</h2>"
        "<p>Choose <b>Own rule…</b> in Optimizer ▸ method and write what one step does, one assignment per line "
        "(or separated by <code>;</code>). The statements run in order on every coordinate at once; assigning "
        "<code>x</code> moves the point. Any other name you assign is a <i>state variable</i>: it keeps its value "
        "from step to step and starts at 0 (or at <code>init v = …</code>). <code>param lr = 0.01</code> declares a "
        "hyperparameter with its default: it appears in the form and in sweeps and races. The usual names "
        + implicit + " need no declaration (default in parentheses). <code>#</code> starts a comment; a comment on "
        "the first line names the rule (<code># heavy ball</code>): races and run lists show that name. Every rule "
        "you write is offered in Run ▸ Race optimizers… beside the built-ins, whatever the panel shows.</p>"
        "<h3>Names</h3><table cellspacing='4'>" + inputs +
        "<tr><td><code>pi</code>, <code>e</code></td><td>the constants</td></tr></table>"
        "<h3>Functions</h3><table cellspacing='4'>" + funcs + "</table>"
        "<p>Operators: <code>+ - * /</code>, <code>^</code> or <code>**</code> for powers, parentheses — as in "
        "formulas. Nothing you type runs as Python. A step that makes the point infinite or NaN ends the run as "
        f"diverged. At most {R.MAX_STATEMENTS} statements and {R.MAX_RULE_LENGTH} characters.</p>"
        "<h3>The built-ins written as rules</h3>" + examples +
        "<p>The momentum rule retraces the built-in <b>Momentum</b> exactly (dampening 0); the Adam rule retraces "
        "<b>Adam</b> to rounding. Race yours against them: Run ▸ Race optimizers….</p>"
    )


def _mono(widget: QWidget, size: float = 12.0) -> None:
    f = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    f.setPointSizeF(size)
    widget.setFont(f)


class RuleEditor(QDialog):
    """Type an update rule; OK ("Use this rule") is enabled while the rule is valid."""

    def __init__(self, text: str = DEFAULT_RULE, parent: QWidget | None = None, own_rules=()):
        super().__init__(parent)
        self.setWindowTitle("Your own update rule")
        self.setObjectName("rule_editor")
        lay = QVBoxLayout(self)
        intro = QLabel("Write what one step does, one assignment per line. <code>x</code> is the point, "
                       "<code>g</code> the gradient, <code>t</code> the step (from 1), <code>f</code> the loss; "
                       "other names you assign keep their value between steps (starting at 0). "
                       "<code>param lr = 0.01</code> adds a field to the form; a first line <code># my rule</code> "
                       "names the rule (in races and run lists). Functions: "
                       + ", ".join(R.FUNCTIONS) + ".")
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(intro)
        row = QHBoxLayout()
        row.addWidget(QLabel("Start from:"))
        self.example_combo = QComboBox()
        self.example_combo.setObjectName("rule_examples")
        for key, (title, rule) in R.EXAMPLES.items():
            self.example_combo.addItem(title, key)
            self.example_combo.setItemData(self.example_combo.count() - 1, rule, Qt.ItemDataRole.ToolTipRole)
        for spec in own_rules:  # the user's own rules of this session, by name: start from one of them
            body = spec[len(R.RULE_PREFIX):]
            self.example_combo.addItem(f"yours: {R.rule_name(spec) or body.splitlines()[0][:30]}", spec)
            self.example_combo.setItemData(self.example_combo.count() - 1, body, Qt.ItemDataRole.ToolTipRole)
        self.example_combo.setToolTip("A built-in optimizer written as a rule, or one of your own rules: "
                                      "a starting point")
        self.example_combo.setCurrentIndex(self.example_combo.findData("momentum"))
        row.addWidget(self.example_combo, 1)
        self.load_button = QPushButton("Load")
        self.load_button.setObjectName("rule_load_example")
        self.load_button.setToolTip("Replace the text by the chosen example")
        row.addWidget(self.load_button)
        lay.addLayout(row)
        self.edit = QPlainTextEdit()
        self.edit.setObjectName("rule_edit")
        _mono(self.edit)
        self.edit.setTabChangesFocus(True)
        self.edit.setToolTip("Your update rule: it is checked as you type")
        lay.addWidget(self.edit, 1)
        self.status = QLabel()
        self.status.setObjectName("rule_status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.status)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Use this rule")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.error: R.RuleError | None = None
        self.program: R.RuleProgram | None = None
        self.edit.textChanged.connect(self._check)
        self.load_button.clicked.connect(self._on_load)
        self.edit.setPlainText(text)
        self.resize(620, 460)

    def text(self) -> str:
        return self.edit.toPlainText()

    def spec(self) -> str:
        return R.RULE_PREFIX + self.text()

    def _on_load(self) -> None:
        key = self.example_combo.currentData()
        self.edit.setPlainText(key[len(R.RULE_PREFIX):] if key.startswith(R.RULE_PREFIX) else R.EXAMPLES[key][1])

    def _check(self) -> None:
        try:
            self.program = R.compile_rule(self.text())
            self.error = None
        except R.RuleError as e:
            self.program, self.error = None, e
        self.ok_button.setEnabled(self.program is not None)
        self._underline()
        if self.error is not None:
            self.status.setStyleSheet(ERROR_STYLE)
            self.status.setText(str(self.error))
            return
        p = self.program
        params = ", ".join(f"{n} = {v:g}" for n, v in p.params) or "none"
        state = ", ".join(p.state) or "none"
        self.status.setStyleSheet(OK_STYLE)
        name = R.rule_name(self.spec())
        named = f"name: {name} · " if name else "(a first line # my rule names it) · "
        self.status.setText(f"✓ valid — {named}params (in the form): {params} · state: {state}")

    def _underline(self) -> None:
        """Mark the error's span (at least one character) with a red wavy underline."""
        sels = []
        e = self.error
        if e is not None:
            n = len(self.text())
            start = min(e.position, max(n - 1, 0))
            end = min(max(e.position + e.length, start + 1), n)
            cur = QTextCursor(self.edit.document())
            cur.setPosition(start)
            cur.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            fmt = QTextCharFormat()
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            fmt.setUnderlineColor(QColor("#d93025"))
            fmt.setBackground(QColor(217, 48, 37, 40))
            sel = QTextEdit.ExtraSelection()
            sel.cursor = cur
            sel.format = fmt
            sels.append(sel)
        self.edit.setExtraSelections(sels)

    def accept(self) -> None:
        if self.program is None:
            return
        super().accept()


class RuleChoice(QObject):
    """The "Own rule…" entry of a side panel's optimizer combo and its "Edit rule…" button."""

    sig_rule_changed = Signal(str)  # the new spec "rule:<text>"

    def __init__(self, panel, store: "RuleChoice | None" = None):
        super().__init__(panel)
        self.panel = panel
        #: another panel's RuleChoice whose list of known rules this one shares (Model mode shares the side
        #: panel's: a rule written in either mode is offered in both, and the settings keep one list)
        self.store = store
        combo = panel.optimizer_combo
        combo.addItem(OWN_RULE_TEXT, R.RULE_PREFIX + DEFAULT_RULE)
        self.index = combo.count() - 1
        self.edit_button = QPushButton("Edit rule…")
        self.edit_button.setObjectName("edit_rule_button")
        self.edit_button.setToolTip("Write or change your own update rule")
        self.edit_button.hide()
        self.dialog: RuleEditor | None = None
        self.known: list[str] = []  # every rule the user has had this session, oldest first
        self._set_item(R.RULE_PREFIX + DEFAULT_RULE)
        combo.activated.connect(self._on_activated)
        combo.currentIndexChanged.connect(self._on_index)
        self.edit_button.clicked.connect(self.open_editor)

    def spec(self) -> str:
        return self.panel.optimizer_combo.itemData(self.index)

    def _set_item(self, spec: str) -> None:
        combo = self.panel.optimizer_combo
        combo.setItemData(self.index, spec)
        one = R.rule_name(spec) or R.compile_rule(spec[len(R.RULE_PREFIX):]).one_line
        label = f"Own rule: {one}"
        combo.setItemText(self.index, label if len(label) <= 40 else label[:39] + "…")
        combo.setItemData(self.index, "Your own update rule (choose to edit it):\n" + spec[len(R.RULE_PREFIX):],
                          Qt.ItemDataRole.ToolTipRole)

    def set_rule(self, spec: str) -> None:
        """Make the entry hold ``spec`` (``"rule:<text>"``; ValueError if the rule is invalid)."""
        R.compile_rule(spec[len(R.RULE_PREFIX):])
        self._set_item(spec)
        self.remember(spec)

    def remember(self, spec: str) -> bool:
        """Keep ``spec`` among :meth:`known_rules` (a rule that does not compile, or a built-in's name, is
        ignored; returns whether it is kept). At most :data:`MAX_KNOWN_RULES`, the oldest forgotten first."""
        if self.store is not None:
            return self.store.remember(spec)
        if not (isinstance(spec, str) and spec.startswith(R.RULE_PREFIX)):
            return False
        if spec in self.known:
            return True
        try:
            R.compile_rule(spec[len(R.RULE_PREFIX):])
        except R.RuleError:
            return False
        self.known = (self.known + [spec])[-MAX_KNOWN_RULES:]
        return True

    def known_rules(self) -> list[str]:
        """The own rules of this session (specs ``"rule:<text>"``), oldest first."""
        if self.store is not None:
            return self.store.known_rules()
        return list(self.known)

    def _on_index(self, index: int) -> None:
        self.edit_button.setVisible(index == self.index)

    def _on_activated(self, index: int) -> None:
        if index == self.index:  # chosen by the user (also when chosen again): edit it
            self.open_editor()

    def open_editor(self) -> RuleEditor:
        """Open the editor (window-modal, not blocking); "Use this rule" makes the entry hold the new rule."""
        if self.dialog is not None:
            self.dialog.close()
        dlg = RuleEditor(self.spec()[len(R.RULE_PREFIX):], self.panel.window(), own_rules=self.known_rules())
        dlg.setWindowModality(Qt.WindowModality.WindowModal)
        dlg.accepted.connect(lambda: self._on_accepted(dlg))
        self.dialog = dlg
        dlg.open()
        return dlg

    def _on_accepted(self, dlg: RuleEditor) -> None:
        spec = dlg.spec()
        self._set_item(spec)
        self.remember(spec)
        combo = self.panel.optimizer_combo
        if combo.currentIndex() != self.index:
            combo.setCurrentIndex(self.index)  # the panel rebuilds the form
        else:
            self.panel.refresh_optimizer()
        self.sig_rule_changed.emit(spec)


def install(panel, store: RuleChoice | None = None) -> RuleChoice:
    """Add "Own rule…" to ``panel``'s optimizer choice, with an "Edit rule…" button under it (sharing the known
    rules of ``store``, another panel's choice, when given)."""
    choice = RuleChoice(panel, store)
    form = panel.optimizer_combo.parentWidget().layout()
    row = form.getWidgetPosition(panel.optimizer_combo)[0]
    form.insertRow(row + 1, "", choice.edit_button)
    return choice


if __name__ == "__main__":  # preview: python -m gdstudio.gui.views.rule_editor
    import sys

    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv)
    dlg = RuleEditor()
    if dlg.exec():
        print(dlg.spec())
    sys.exit(0)
