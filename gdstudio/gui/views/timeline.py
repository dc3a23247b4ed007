"""The timeline: pick step k of the selected run (a slider and a number), and which start of it.

It only reports what the user picked (``sig_step_selected(start, k)``); :mod:`gdstudio.gui.see_why`
decides what to compute. Programmatic changes (:meth:`Timeline.set_range`, :meth:`Timeline.set_step`)
do not emit, so a growing run never triggers work by itself.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QToolButton,
    QWidget,
)


class Timeline(QWidget):
    """``step [k] / N ──●──`` and, for runs with several starts, ``start [i]``."""

    sig_step_selected = Signal(int, int)  # start, k
    sig_cleared = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("timeline")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF(), 11.0))
        self.setFont(font)
        self.title = QLabel("Step")
        lay.addWidget(self.title)
        self.spin = QSpinBox()
        self.spin.setRange(0, 0)
        self.spin.setKeyboardTracking(False)
        self.spin.setToolTip("The step to explain: x_k, ∇f(x_k) and the update from x_k to x_k+1")
        lay.addWidget(self.spin)
        self.total = QLabel("/ 0")
        self.total.setMinimumWidth(70)
        lay.addWidget(self.total)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setToolTip("Scrub the run: select a step to see why it went where it went "
                               "(or click a point of the path on the contour map)")
        lay.addWidget(self.slider, 1)
        self.start_label = QLabel("start")
        self.start_spin = QSpinBox()
        self.start_spin.setRange(0, 0)
        self.start_spin.setToolTip("Which start of a multi-start run to explain")
        lay.addWidget(self.start_label)
        lay.addWidget(self.start_spin)
        self.clear_button = QToolButton()
        self.clear_button.setText("✕")
        self.clear_button.setToolTip("Clear the selection (hide the step's overlays)")
        lay.addWidget(self.clear_button)
        self.set_starts(1)
        self._quiet = False
        self.slider.valueChanged.connect(self._on_slider)
        self.spin.valueChanged.connect(self._on_spin)
        self.start_spin.valueChanged.connect(self._on_start)
        self.clear_button.clicked.connect(self.sig_cleared)
        self.set_range(-1)

    # --- programmatic (no signals) -------------------------------------------------------------
    def set_range(self, last_k: int) -> None:
        """Steps 0..last_k are selectable (``last_k < 0``: none yet, the timeline is disabled)."""
        self._quiet = True
        try:
            top = max(last_k, 0)
            self.slider.setRange(0, top)
            self.spin.setRange(0, top)
            self.total.setText(f"/ {max(last_k, 0):,}")
            self.setEnabled(last_k >= 0)
        finally:
            self._quiet = False

    def set_starts(self, n: int) -> None:
        self._quiet = True
        try:
            self.start_spin.setRange(0, max(n - 1, 0))
            self.start_label.setVisible(n > 1)
            self.start_spin.setVisible(n > 1)
        finally:
            self._quiet = False

    def set_step(self, k: int, start: int | None = None) -> None:
        self._quiet = True
        try:
            self.slider.setValue(k)
            self.spin.setValue(k)
            if start is not None:
                self.start_spin.setValue(start)
        finally:
            self._quiet = False

    def step(self) -> int:
        return self.spin.value()

    def start(self) -> int:
        return self.start_spin.value()

    # --- user -----------------------------------------------------------------------------------------
    def select(self, k: int, start: int | None = None) -> None:
        """Select step ``k`` (as if the user had picked it): moves the controls and emits."""
        self.set_step(k, start)
        self.sig_step_selected.emit(self.start(), self.step())

    def _on_slider(self, v: int) -> None:
        if self._quiet:
            return
        self._quiet = True
        self.spin.setValue(v)
        self._quiet = False
        self.sig_step_selected.emit(self.start(), v)

    def _on_spin(self, v: int) -> None:
        if self._quiet:
            return
        self._quiet = True
        self.slider.setValue(v)
        self._quiet = False
        self.sig_step_selected.emit(self.start(), v)

    def _on_start(self, v: int) -> None:
        if not self._quiet:
            self.sig_step_selected.emit(v, self.step())
