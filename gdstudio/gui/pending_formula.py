"""A formula still compiling: the window shows that it waits for it, and Run waits too.

The formula field (:mod:`gdstudio.gui.views.formula_field`) compiles a formula (SymPy: symbolic derivatives,
NumPy code; up to about 1.5 s for the largest formulas the core accepts) in a background thread. This module
makes the rest of the window wait for it instead of blocking or refusing:

* **Start-up.** A formula remembered in the settings (the last objective was the user's own function) is handed
  to the field like a typed one (:func:`gdstudio.gui.persistence.restore`), so the window appears at once. Until
  it is ready there is no surface to draw: the 3D view and the map say "Compiling your formula…" and the status
  bar says so too. Then its surface appears. A formula the compile refuses (a settings file edited by hand, a
  formula a newer version refuses) gives the default objective instead, with the reason at the top of the panel;
  the formula's text stays in the field (:func:`gdstudio.gui.persistence.show_default_instead`).
* **Run and Step wait.** Pressed while the panel's formula is compiling (at start-up, or right after typing),
  they start as soon as it is ready, on it; nothing starts if it is refused or another objective is chosen
  meanwhile. Sweep and Race say that the formula is still being compiled (they need the objective for their
  dialogs).

Nothing here compiles or computes: it listens to the field and to the window.
"""

from __future__ import annotations

import re
from typing import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QWidget

#: The status bar's text while the start-up formula compiles.
COMPILING_STATUS = "Compiling your formula… its surface appears when it is ready (Run waits for it)"
#: At most this many characters of the formula in the message over the views (the field shows it whole).
MAX_SHOWN = 120


class CompilingOverlay(QLabel):
    """A message centred over a view (mouse events pass through to the view)."""

    def __init__(self, host: QWidget):
        super().__init__(host)
        self.setObjectName("compiling_overlay")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        f = QFont(self.font())
        f.setPointSizeF(max(f.pointSizeF() * 1.25, 12.0))
        self.setFont(f)
        self.setStyleSheet("QLabel#compiling_overlay { background: palette(window); color: palette(window-text); "
                           "border: 1px solid palette(mid); border-radius: 8px; padding: 14px; }")
        self.hide()
        host.installEventFilter(self)

    def show_text(self, text: str) -> None:
        self.setText(text)
        self._place()
        self.show()
        self.raise_()

    def _place(self) -> None:
        host = self.parentWidget()
        w = max(min(host.width() - 24, 440), 120)
        h = self.heightForWidth(w)  # the wrapped text's height (adjustSize under-counts it with the padding)
        self.resize(w, max(h, self.minimumSizeHint().height()))
        self.move((host.width() - self.width()) // 2, max((host.height() - self.height()) // 2, 0))

    def eventFilter(self, obj, ev) -> bool:
        if ev.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False


class PendingFormula(QObject):
    """Watches the panel's formula field for the window (see the module docstring)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.field = window.side_panel.formula_field
        self._waiting: Callable[[], object] | None = None  # Run or Step, pressed while the formula compiled
        self.overlays = [CompilingOverlay(window.contour_view), CompilingOverlay(window.surface_view)]
        self.field.sig_invalid.connect(self._on_invalid)
        # after the panel's own slot (connected first): a formula that is shown already (the text came back to
        # it) changes no objective, but a Run waiting for it must start
        self.field.sig_objective_ready.connect(self._on_ready)
        window.sig_objective_changed.connect(self._on_objective)

    # --- state -------------------------------------------------------------------------------------------
    def compiling(self) -> bool:
        """Whether the panel's objective is a formula still being checked or compiled."""
        from gdstudio.core.objectives import EXPR_PREFIX

        return self.window.side_panel.objective_combo.currentData() == EXPR_PREFIX and self.field.busy()

    def first_surface_pending(self) -> bool:
        """No objective shown yet and its formula compiling (start-up with a remembered formula)."""
        return self.window.objective is None and self.compiling()

    def status_text(self) -> str | None:
        return COMPILING_STATUS if self.first_surface_pending() else None

    def refresh(self) -> None:
        """Show or hide the "Compiling…" message over the views."""
        if self.first_surface_pending():
            formula = self.field.text()
            if len(formula) > MAX_SHOWN:
                formula = formula[:MAX_SHOWN - 1] + "…"
            formula = re.sub(r"([-+*/^)])", "\\1\u200b", formula)  # may wrap after any operator (zero-width space)
            text = f"Compiling your formula…\nf(x, y) = {formula}\nIts surface appears when it is ready."
            for o in self.overlays:
                o.show_text(text)
        else:
            for o in self.overlays:
                o.hide()

    # --- Run and Step wait -------------------------------------------------------------------------------
    def wait(self, command: Callable[[], object], verb: str = "run") -> bool:
        """While the formula compiles: keep ``command`` to call once it is ready and return True (the caller
        does nothing now); otherwise False."""
        if not self.compiling():
            return False
        self._waiting = command
        self.window.statusBar().showMessage(f"Compiling your formula: the {verb} starts when it is ready", 10000)
        return True

    # --- from the field and the window --------------------------------------------------------------------
    def _on_objective(self) -> None:
        self.refresh()
        command, self._waiting = self._waiting, None
        if command is None or self.window.closing:
            return
        if self.window.objective is not None and self.window.objective is self.field.objective:
            self._go(command)  # the formula it waited for is shown now
        else:
            self.window.statusBar().showMessage("Another objective was chosen: the waiting run was not started",
                                                8000)

    def _on_ready(self, objective) -> None:
        if self._waiting is not None and self.window.objective is objective:
            command, self._waiting = self._waiting, None
            if not self.window.closing:
                self._go(command)

    def _go(self, command: Callable[[], object]) -> None:
        self.window.statusBar().clearMessage()  # "…starts when it is ready" would hide the run's own status
        command()

    def _on_invalid(self, message: str) -> None:
        if self._waiting is not None:
            self._waiting = None
            self.window.statusBar().showMessage(f"The formula was refused, nothing was started: {message}", 10000)
        if self.window.objective is None and not self.window.closing:  # the start-up formula was refused
            from gdstudio.gui.persistence import show_default_instead

            show_default_instead(self.window, message)
        self.refresh()


def install(window) -> PendingFormula:
    return PendingFormula(window)


__all__ = ["COMPILING_STATUS", "CompilingOverlay", "PendingFormula", "install"]
