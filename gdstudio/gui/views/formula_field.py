"""Your own function: a formula field ``f(x, y) = …`` with a name, a view domain, checking as you type,
a help popup and a list of recent formulas.

The field never decides what a formula means: :mod:`gdstudio.core.formula` parses and compiles it.
What the field adds is timing and feedback:

* every edit restarts a short timer (:data:`DEBOUNCE_MS`); when it fires, the text is first *parsed*
  in the GUI thread (tokens and grammar: well under a millisecond), so a typo is reported at once with
  its column, and the offending part of the formula is shown highlighted under the field;
* a formula that parses is then *compiled* (symbolic derivatives, NumPy code) in a background daemon
  thread, because a formula near the core's limits takes about a second; a newer edit makes the
  result of an older compile stale (a generation counter), so only the latest text is ever applied.
  At most one compile runs at a time and at most one waits: edits made during a compile replace the
  waiting one, so four quick edits cost at most two compiles, not four in a queue. A compile still running
  when the window closes never keeps the process alive (a daemon thread);
* only a formula that compiled, with a valid domain, is handed on (``sig_objective_ready``): a bad
  formula never replaces the surface in use.

Signals
-------
``sig_objective_ready(object)``
    a :class:`~gdstudio.core.formula.FormulaObjective` built from the text, the name and the domain;
``sig_invalid(str)``
    the message shown for a formula or domain that was refused;
``sig_committed(str)``
    the user pressed Enter on a formula that was accepted (the window adds it to the recent list).
"""

from __future__ import annotations

import html
import math
from typing import Sequence

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gdstudio.core.objectives import EXPR_PREFIX
from gdstudio.core import formula as F
from gdstudio.gui.background import POLL_MS, start_daemon
from gdstudio.gui.views.param_form import ERROR_STYLE, format_number

#: Quiet time after the last keystroke before the formula is checked, in milliseconds.
DEBOUNCE_MS = 300
#: What the field holds the first time it is shown.
EXAMPLE = "sin(x)*cos(y) + 0.1*(x^2 + y^2)"
ERROR_COLOUR = "#d93025"


def highlight_html(text: str, position: int, length: int) -> str:
    """``text`` as HTML in a fixed-width font with ``text[position:position+length]`` marked.

    A zero-length problem (e.g. "the formula ends too early") is marked by a caret after the text.
    """
    position = max(0, min(position, len(text)))
    end = max(position, min(position + max(length, 0), len(text)))
    before, bad, after = (html.escape(s) for s in (text[:position], text[position:end], text[end:]))
    mark = (f"<span style='background-color:#fbd3cf; color:{ERROR_COLOUR}; text-decoration: underline;'>"
            f"{bad}</span>") if bad else f"<span style='color:{ERROR_COLOUR}; font-weight:bold;'>▲</span>"
    return f"<code style='white-space: pre;'>{before}{mark}{after}</code>"


def help_html() -> str:
    """The formula help, generated from :data:`gdstudio.core.formula.HELP` (nothing written twice)."""
    rows = []
    kind = None
    for w in F.HELP:
        if w.kind != kind:
            kind = w.kind
            rows.append(f"<tr><td colspan='3'><b>{html.escape(kind.capitalize())}s</b></td></tr>")
        rows.append(f"<tr><td><code>{html.escape(w.name)}</code></td><td><code>{html.escape(w.example)}</code>"
                    f"</td><td>{html.escape(w.help)}</td></tr>")
    lo, hi = F.DEFAULT_DOMAIN
    return (
        "<p>Type a function of <code>x</code> and <code>y</code>, e.g. "
        f"<code>{html.escape(EXAMPLE)}</code>. Its gradient and Hessian are derived symbolically.</p>"
        "<table cellspacing='4'>" + "".join(rows) + "</table>"
        f"<p>Where the function is undefined (log of a number ≤ 0, a division by 0) the views show a gap and "
        f"a run that steps there ends as diverged. The view domain defaults to [{lo:g}, {hi:g}] on each axis. "
        f"At most {F.MAX_LENGTH} characters.</p>"
    )


class FormulaHelpDialog(QDialog):
    """The list of allowed operators, functions and constants (non-modal)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Formula help")
        self.setObjectName("formula_help")
        lay = QVBoxLayout(self)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.setHtml(help_html())
        lay.addWidget(self.browser)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        lay.addWidget(buttons)
        self.resize(560, 520)


class _Relay(QObject):
    """Carries a compile result from the worker thread to the GUI thread (queued connection)."""

    sig_done = Signal(int, object, object)  # generation, objective or None, error or None


def _build(text: str, title: str, domain: dict[str, float]):
    """Worker thread: parse, differentiate and compile (cached by the core), then check the domain."""
    try:
        return F.FormulaObjective(text, title=title or None, **domain), None
    except (ValueError, ArithmeticError, RecursionError, MemoryError) as exc:
        return None, exc


class FormulaField(QWidget):
    """The formula editor (see the module docstring)."""

    sig_objective_ready = Signal(object)
    sig_invalid = Signal(str)
    sig_committed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("formula_field")
        self._generation = 0
        self._commit_pending = False
        self._applied: tuple | None = None  # (text, title, domain) of the last objective handed on
        self.objective: F.FormulaObjective | None = None  # the last objective handed on
        self.error: Exception | None = None  # the last refusal (None when the field is valid)
        self._running: tuple | None = None  # (generation, thread, result box) of the compile in progress
        self._queued: tuple | None = None  # (generation, text, title, domain) waiting for it
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._on_poll)
        self._relay = _Relay(self)
        self._relay.sig_done.connect(self._on_done)
        self._help: FormulaHelpDialog | None = None

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

        row = QHBoxLayout()
        row.addWidget(QLabel("name"))
        self.title_edit = QLineEdit()
        self.title_edit.setPlaceholderText("optional, e.g. egg crate")
        self.title_edit.setToolTip("A name for your function (shown in the objective list and the legend)")
        row.addWidget(self.title_edit, 1)
        lay.addLayout(row)

        row = QHBoxLayout()
        row.addWidget(QLabel("f(x, y) ="))
        row.addStretch(1)
        self.formula_edit = QLineEdit()
        self.formula_edit.setFont(mono)
        self.formula_edit.setMaxLength(F.MAX_LENGTH)
        self.formula_edit.setPlaceholderText("e.g. " + EXAMPLE)
        self.formula_edit.setToolTip("Your own function of x and y: numbers, + - * / ^, parentheses, "
                                     "sin cos tan exp log sqrt abs tanh sinh cosh arctan, pi, e "
                                     "(F1 or ? for the full list). Checked as you type; Enter to keep it "
                                     "in the recent list.")
        self.formula_edit.setClearButtonEnabled(True)
        self.recent_button = QToolButton()
        self.recent_button.setText("recent")
        self.recent_button.setToolTip("Recent formulas")
        self.recent_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.recent_menu = QMenu(self.recent_button)
        self.recent_button.setMenu(self.recent_menu)
        row.addWidget(self.recent_button)
        self.help_button = QToolButton()
        self.help_button.setText("?")
        self.help_button.setToolTip("What a formula may contain")
        row.addWidget(self.help_button)
        lay.addLayout(row)
        lay.addWidget(self.formula_edit)  # a row of its own: formulas are long, the panel is narrow

        self.marker_label = QLabel()  # the formula with the offending part highlighted
        self.marker_label.setTextFormat(Qt.TextFormat.RichText)
        self.marker_label.setFont(mono)
        self.marker_label.setWordWrap(True)
        self.marker_label.hide()
        lay.addWidget(self.marker_label)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.message_label)

        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        self.domain_edits: dict[str, QLineEdit] = {}
        lo, hi = F.DEFAULT_DOMAIN
        for r, axis in enumerate("xy"):
            grid.addWidget(QLabel(f"{axis} from"), r, 0)
            for c, (end, default) in enumerate((("min", lo), ("max", hi))):
                e = QLineEdit(format_number(default))
                e.setToolTip(f"{'left' if axis == 'x' else 'bottom'} edge of the view" if end == "min"
                             else f"{'right' if axis == 'x' else 'top'} edge of the view")
                self.domain_edits[f"{axis}{end}"] = e
                grid.addWidget(e, r, 1 + 2 * c)
                if c == 0:
                    grid.addWidget(QLabel("to"), r, 2)
        lay.addLayout(grid)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._check)
        self.formula_edit.textEdited.connect(self._on_edited)
        self.formula_edit.returnPressed.connect(self._on_return)
        self.title_edit.textEdited.connect(self._on_edited)
        self.title_edit.returnPressed.connect(self._on_return)
        for e in self.domain_edits.values():
            e.textEdited.connect(self._on_edited)
            e.returnPressed.connect(self._on_return)
        self.help_button.clicked.connect(self.show_help)
        self.set_recent([])
        self._show_message("", ok=True)

    # --- public --------------------------------------------------------------------------------------
    def text(self) -> str:
        return self.formula_edit.text().strip()

    def title(self) -> str:
        return self.title_edit.text().strip()

    def domain(self) -> dict[str, float]:
        """The domain fields as numbers; raises ValueError naming the field."""
        out = {}
        for key, e in self.domain_edits.items():
            t = e.text().strip()
            try:
                v = float(t)
            except ValueError:
                raise ValueError(f"{key} must be a number, got {t!r}") from None
            if not math.isfinite(v):
                raise ValueError(f"{key} must be finite, got {t!r}")
            out[key] = v
        return out

    def set_formula(self, text: str, title: str | None = None, domain: dict[str, float] | None = None, *,
                    check: bool = True) -> None:
        """Fill the field (e.g. from the recent list); with ``check`` it is checked at once."""
        self.formula_edit.setText(text)
        if title is not None:
            self.title_edit.setText(title)
        for key, v in (domain or {}).items():
            if key in self.domain_edits:
                self.domain_edits[key].setText(format_number(v))
        if check:
            self.check_now()

    def show_objective(self, objective) -> None:
        """Show an objective applied from elsewhere (a session, the settings) without handing it on again."""
        title = objective.title if objective.title != objective.formula else ""
        params = dict(objective.params)
        self.set_formula(objective.spec()[len(EXPR_PREFIX):], title, params, check=False)
        self._timer.stop()
        self._generation += 1  # a compile still running for older text is stale now
        self.objective = objective
        self._applied = (self.text(), self.title(), self._domain_key(params))
        self.error = None
        self._show_message("", ok=True)

    def check_now(self) -> None:
        """Check (and, if valid, hand on) the current text without waiting for the timer."""
        self._timer.stop()
        self._check()

    def set_recent(self, formulas: Sequence[str]) -> None:
        self.recent_menu.clear()
        for f in formulas:
            act = QAction(f if len(f) <= 60 else f[:57] + "…", self.recent_menu)
            act.setToolTip(f)
            act.setData(f)
            act.triggered.connect(lambda _=False, f=f: self.set_formula(f, title=""))
            self.recent_menu.addAction(act)
        if not formulas:
            act = self.recent_menu.addAction("(no recent formulas yet)")
            act.setEnabled(False)
        self.recent_button.setEnabled(True)

    def recent(self) -> list[str]:
        return [a.data() for a in self.recent_menu.actions() if a.data()]

    def show_help(self) -> FormulaHelpDialog:
        if self._help is None:
            self._help = FormulaHelpDialog(self.window())
        self._help.show()
        self._help.raise_()
        return self._help

    def busy(self) -> bool:
        """Whether a check is waiting for the timer or a compile is running."""
        return self._timer.isActive() or self._pending is not None

    def cancel(self) -> None:
        """Drop the check waiting for the timer and the compiles waiting or running (their results are
        stale now); the text stays in the field. Another objective was chosen meanwhile."""
        self._timer.stop()
        self._generation += 1
        self._queued = None
        self._pending = None
        self._commit_pending = False
        if self.message_label.text() == "checking…":
            self._show_message("", ok=True)

    def shutdown(self) -> None:
        """Drop pending work (window closing). A compile already running finishes in its daemon thread, unseen."""
        self._timer.stop()
        self._generation += 1
        self._queued = None
        self._poll.stop()
        self._running = None

    # --- internals -----------------------------------------------------------------------------------
    _pending: object | None = None

    @staticmethod
    def _domain_key(domain: dict[str, float]) -> tuple:
        return tuple(sorted(domain.items()))

    def _on_edited(self, *_args) -> None:
        self._generation += 1  # whatever is compiling is stale now
        self._timer.start()

    def _on_return(self) -> None:
        self._commit_pending = True
        self.check_now()

    def _check(self) -> None:
        self._generation += 1
        gen = self._generation
        text, title = self.text(), self.title()
        if not text:
            self._refuse(None, "Type a function of x and y, e.g. " + EXAMPLE, empty=True)
            return
        try:
            F.parse(text)  # fast: grammar errors are reported without waiting for SymPy
        except F.FormulaError as exc:
            self._refuse(exc)
            return
        try:
            domain = self.domain()
        except ValueError as exc:
            self._refuse(exc)
            return
        if self._applied == (text, title, self._domain_key(domain)) and self.objective is not None:
            self._accept(self.objective, hand_on=True)  # compiled already (e.g. back from a built-in)
            return
        self._show_message("checking…", ok=True)
        self._pending = gen
        self._queued = (gen, text, title, domain)
        if self._running is None:
            self._start_queued()

    def _start_queued(self) -> None:
        """Start the waiting compile (the latest request) in a daemon thread; poll it from the GUI thread."""
        gen, text, title, domain = self._queued
        self._queued = None
        thread, box = start_daemon(_build, text, title, domain)
        self._running = (gen, thread, box)
        self._poll.start()

    def _on_poll(self) -> None:
        if self._running is None:
            self._poll.stop()
            return
        gen, thread, box = self._running
        if thread.is_alive():
            return
        self._running = None
        if self._queued is not None:
            self._start_queued()  # a newer text waited for this compile: its turn now
        else:
            self._poll.stop()
        obj, err = box.get("result", (None, box.get("error")))
        self._relay.sig_done.emit(gen, obj, err)

    def _on_done(self, gen: int, obj, err) -> None:
        if gen != self._generation:
            return  # stale: the text changed since this compile started
        self._pending = None
        if err is not None:
            self._refuse(err)
        else:
            self._accept(obj, hand_on=True)

    def _accept(self, obj, hand_on: bool) -> None:
        self.error = None
        self.formula_edit.setStyleSheet("")
        self.marker_label.hide()
        self._show_message("✓ valid" + (f": f(x, y) = {obj.formula}" if obj.formula != self.text() else ""),
                           ok=True)
        if hand_on:
            self.objective = obj
            self._applied = (self.text(), self.title(), self._domain_key(dict(obj.params)))
            self.sig_objective_ready.emit(obj)
        if self._commit_pending:
            self._commit_pending = False
            self.sig_committed.emit(self.text())

    def _refuse(self, exc: Exception | None, message: str = "", empty: bool = False) -> None:
        self._pending = None
        self._commit_pending = False
        self.error = exc
        msg = message or str(exc)
        if isinstance(exc, F.FormulaError):
            self.formula_edit.setStyleSheet(ERROR_STYLE)
            self.marker_label.setText(highlight_html(self.text(), exc.position, exc.length))
            self.marker_label.show()
        else:
            self.formula_edit.setStyleSheet("" if empty else self.formula_edit.styleSheet())
            self.marker_label.hide()
        self._show_message(msg, ok=empty)
        if not empty:
            self.sig_invalid.emit(msg)

    def _show_message(self, text: str, ok: bool) -> None:
        self.message_label.setText(text)
        self.message_label.setStyleSheet("" if ok else f"color: {ERROR_COLOUR}; font-weight: bold;")
        self.message_label.setVisible(bool(text))


__all__ = ["DEBOUNCE_MS", "EXAMPLE", "FormulaField", "FormulaHelpDialog", "help_html", "highlight_html"]
