"""The Model mode's See why: one training step of a classifier as numbers and a chart (it draws, never computes).

Tabs (the function mode's inspector widgets: :class:`~gdstudio.gui.views.inspector._Tab`, its charts and
readout tables):

* **Step** — loss, ‖∇L‖, the update Δθ and its norm, the effective step ‖Δθ‖/‖∇L‖, cos∠(Δθ, −∇L) ("why this
  direction"), the predicted against the actual change, and the same per parameter block (W, b, ...);
* **Line search** — the loss along the update's direction, L(θ + t·Δθ/‖Δθ‖), with the point the optimizer took,
  the line's minimiser and the linear approximation L(θ) + t∇L·d;
* **Gradient check** — the analytic gradient against central differences on a few random coordinates.

Above the tabs: which run (a race has several), the step (the function mode's :class:`Timeline`) and whether
the numbers are on the step's minibatch or on the whole training set. Everything shown comes from
:mod:`gdstudio.core.analysis.model_step`.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gdstudio.gui.views.inspector import _chart, add_header_and_tabs, num, show_message_in, table
from gdstudio.gui.views.timeline import Timeline

TABS = ("Step", "Line search", "Gradient check")
#: Chart colours: φ(t), its linear approximation, the point taken, the line's minimiser.
PHI_COLOR, LINEAR_COLOR, TAKEN_COLOR, BEST_COLOR = "#1e88e5", "#9e9e9e", "#e53935", "#43a047"


class ModelInspector(QWidget):
    """Run, step and data choice above the three tabs (see the module docstring)."""

    sig_step_selected = Signal(int, int)  # run index, k
    sig_data_changed = Signal(str)  # "batch" or "train"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("model_inspector")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        row = QHBoxLayout()
        row.setContentsMargins(6, 2, 6, 0)
        row.addWidget(QLabel("Run"))
        self.run_combo = QComboBox()
        self.run_combo.setObjectName("model_why_run")
        self.run_combo.setToolTip("Which training to explain (a race or a sweep has several)")
        row.addWidget(self.run_combo, 1)
        self.full_check = QCheckBox("whole training set")
        self.full_check.setObjectName("model_why_full")
        self.full_check.setToolTip("Unticked: every number is on the minibatch the optimizer used at this step "
                                   "(its gradient moved θ). Ticked: on the whole training set.")
        row.addWidget(self.full_check)
        lay.addLayout(row)
        self.timeline = Timeline()
        self.timeline.spin.setToolTip("The step to explain: θ_k, ∇L(θ_k) and the update from θ_k to θ_k+1")
        self.timeline.slider.setToolTip("Scrub the training: select a step to see why it went where it went")
        self.timeline.clear_button.hide()
        lay.addWidget(self.timeline)
        self.header, self.tabs, self.pages = add_header_and_tabs(lay, TABS)
        self.line_chart = _chart("loss along the update: φ(t) = L(θ + t·Δθ/‖Δθ‖)", "t (distance along Δθ)", "loss")
        self.line_chart.setObjectName("model_line_chart")
        self.line_chart.setMinimumHeight(240)
        self.pages["Line search"].lay.insertWidget(0, self.line_chart)
        self.zoom_chart = _chart("near the step taken: t from −‖Δθ‖/2 to 2‖Δθ‖", "t", "loss")
        self.zoom_chart.setObjectName("model_zoom_chart")
        self.pages["Line search"].lay.addWidget(self.zoom_chart)
        self.fd_chart = _chart("central-difference error against h", "h", "relative error", log=True)
        self.fd_chart.setObjectName("model_fd_chart")
        self.pages["Gradient check"].lay.addWidget(self.fd_chart)
        for page in self.pages.values():
            page.finish()
        self.timeline.sig_step_selected.connect(lambda _start, k: self.sig_step_selected.emit(self.run_index(), k))
        self.run_combo.activated.connect(lambda i: self.sig_step_selected.emit(i, self.timeline.step()))
        self.full_check.toggled.connect(lambda on: self.sig_data_changed.emit("train" if on else "batch"))
        self.show_message("Train a model (Run or Step), then pick a step here.")

    # --- what the controller sets ------------------------------------------------------------------------
    def run_index(self) -> int:
        return max(self.run_combo.currentIndex(), 0)

    def data(self) -> str:
        return "train" if self.full_check.isChecked() else "batch"

    def set_runs(self, labels: list[str]) -> None:
        """The trainings to choose from (keeps the choice when the labels are the same)."""
        if [self.run_combo.itemText(i) for i in range(self.run_combo.count())] == list(labels):
            return
        keep = self.run_combo.currentIndex()
        self.run_combo.blockSignals(True)
        self.run_combo.clear()
        self.run_combo.addItems(labels)
        self.run_combo.setCurrentIndex(keep if 0 <= keep < len(labels) else 0)
        self.run_combo.blockSignals(False)

    def set_range(self, last_k: int) -> None:
        self.timeline.set_range(last_k)

    def set_step(self, run: int, k: int) -> None:
        self.run_combo.blockSignals(True)
        self.run_combo.setCurrentIndex(run)
        self.run_combo.blockSignals(False)
        self.timeline.set_step(k)

    def show_message(self, text: str) -> None:
        show_message_in(self.header, self.pages, (self.line_chart, self.zoom_chart, self.fd_chart), text)

    def tab_text(self, name: str) -> str:
        return self.pages[name].text.text()

    def show_step(self, label: str, optimizer: str, step, line, check) -> None:
        """Draw an explained step (:class:`~gdstudio.core.analysis.model_step.ModelStep`), its line search
        (None: no update) and gradient check."""
        self.header.setText(f"step {step.k:,} of {html.escape(label)} · L = {num(step.loss)} · "
                            f"‖∇L‖ = {num(step.grad_norm, 4)}")
        self._step(optimizer, step)
        self._line(line)
        self._check(check)

    # --- tabs -----------------------------------------------------------------------------------------------
    def _step(self, optimizer: str, s) -> None:
        rows = [(None, f"{html.escape(optimizer)}: from θ<sub>{s.k}</sub> to θ<sub>{s.k + 1}</sub>"),
                ("samples", html.escape(s.data_text)),
                ("loss L(θ_k)", num(s.loss, 8)),
                ("‖∇L(θ_k)‖", num(s.grad_norm))]
        if s.update is None:
            rows.append(("update", "none yet: this is the last recorded step (press Step for the next one)"))
        else:
            cos = s.cos_angle
            why = ("" if cos is None else " — straight down the gradient" if cos > 0.9999 else
                   " — turned away from −∇L (the optimizer's memory or per-coordinate scaling)" if cos > 0 else
                   " — uphill on these samples")
            rows += [("update Δθ = θ_k+1 − θ_k", f"{s.update.size:,} numbers, ‖Δθ‖ = {num(s.update_norm)}"),
                     ("effective step ‖Δθ‖/‖∇L‖", num(s.effective_lr) + "  (ε for plain gradient descent)"),
                     ("cos ∠(Δθ, −∇L): why this direction", f"<b>{num(cos, 6)}</b>{why}"),
                     ("∇L·Δθ (predicted change)", num(s.slope)),
                     ("L(θ_k+1) − L(θ_k) (actual change)", num(s.change))]
        rows.append((None, "per parameter block"))
        head = "<tr><th align='left'>block</th><th>‖∇L‖</th><th>‖Δθ‖</th><th>cos ∠(Δθ, −∇L)</th></tr>"
        body = "".join(f"<tr><td>{html.escape(n)}</td><td align='right'>&nbsp;{num(g, 4)}&nbsp;</td>"
                       f"<td align='right'>&nbsp;{num(u, 4)}&nbsp;</td><td align='right'>&nbsp;{num(c, 4)}</td></tr>"
                       for n, (g, u, c) in s.blocks.items())
        rows.append(("", f"<table cellspacing='2'>{head}{body}</table>"))
        self.pages["Step"].text.setText(table(rows))

    def _line(self, ls) -> None:
        pi = self.line_chart.getPlotItem()
        pi.clear()
        pi.legend.clear()
        if ls is None:
            self.pages["Line search"].text.setText("No update was taken from this step yet: nothing to search along.")
            return
        rows = [(None, html.escape(ls.verdict())),
                ("samples", html.escape(ls.data_text)),
                ("φ(0) = L(θ_k)", num(ls.value)),
                ("slope φ'(0) = ∇L·d", num(ls.slope)),
                ("taken: t = ‖Δθ‖", f"<span style='color:{TAKEN_COLOR}'>★</span> {num(ls.taken_t)} → "
                                     f"L = {num(ls.taken_value)}"),
                ("line's minimum t*" if ls.bounded else "lowest explored t",
                 f"<span style='color:{BEST_COLOR}'>◆</span> {num(ls.best_t)} → L = {num(ls.best_value)}"),
                ("taken / t*", num(ls.ratio, 4)),
                ("", "grey dashes: the linear approximation L(θ_k) + t∇L·d; it stays close only for small t "
                     "(its error is ½t²dᵀ∇²L d)")]
        self.pages["Line search"].text.setText(table(rows))
        pi.plot(ls.ts, ls.values, pen=pg.mkPen(PHI_COLOR, width=2.5), name="φ(t): the loss along Δθ")
        pi.plot(ls.ts, ls.linear, pen=pg.mkPen(LINEAR_COLOR, width=1.5, style=Qt.PenStyle.DashLine),
                name="linear approximation")
        pi.plot([ls.taken_t], [ls.taken_value], pen=None, symbol="star", symbolSize=18, symbolBrush=TAKEN_COLOR,
                name="the step taken")
        pi.plot([ls.best_t], [ls.best_value], pen=None, symbol="d", symbolSize=13, symbolBrush=BEST_COLOR,
                name="the line's minimum" if ls.bounded else "lowest explored")
        pi.addItem(pg.InfiniteLine(0.0, angle=90, pen=pg.mkPen("#808080", width=1, style=Qt.PenStyle.DotLine)))
        zi = self.zoom_chart.getPlotItem()
        zi.clear()
        zi.legend.clear()
        zi.plot(ls.zoom_ts, ls.zoom_values, pen=pg.mkPen(PHI_COLOR, width=2.5), name="φ(t)")
        zi.plot(ls.zoom_ts, ls.zoom_linear, pen=pg.mkPen(LINEAR_COLOR, width=1.5, style=Qt.PenStyle.DashLine),
                name="linear approximation")
        zi.plot([ls.taken_t], [ls.taken_value], pen=None, symbol="star", symbolSize=18, symbolBrush=TAKEN_COLOR,
                name="the step taken")
        if ls.zoom_ts[0] <= ls.best_t <= ls.zoom_ts[-1]:
            zi.plot([ls.best_t], [ls.best_value], pen=None, symbol="d", symbolSize=13, symbolBrush=BEST_COLOR,
                    name="the line's minimum")
        zi.addItem(pg.InfiniteLine(0.0, angle=90, pen=pg.mkPen("#808080", width=1, style=Qt.PenStyle.DotLine)))
        vb = pi.getViewBox()
        near = ls.values[(ls.ts <= max(ls.taken_t, ls.best_t)) & np.isfinite(ls.values)]
        if near.size and np.isfinite(ls.value):  # y: from the minimum to the highest point up to the star/diamond
            lo, hi = float(near.min()), max(float(near.max()), ls.value)
            pad = 0.08 * (hi - lo) or 0.1
            vb.setRange(xRange=(float(ls.ts[0]), float(ls.ts[-1])), yRange=(lo - pad, hi + 3 * pad), padding=0)

    def _check(self, gc) -> None:
        head = ("<tr><th align='left'>coordinate</th><th>&nbsp;analytic ∂L/∂θ&nbsp;</th>"
                "<th>&nbsp;central difference&nbsp;</th><th>&nbsp;relative error</th></tr>")
        body = "".join(f"<tr><td>{html.escape(lbl)}</td><td align='right'>&nbsp;{num(a, 10)}&nbsp;</td>"
                       f"<td align='right'>&nbsp;{num(c, 10)}&nbsp;</td><td align='right'>&nbsp;{num(e, 2)}</td></tr>"
                       for lbl, a, c, e in zip(gc.labels, gc.analytic, gc.central, gc.errors))
        ok = gc.max_error < 1e-5
        verdict = ("they agree (rounding and O(h²) truncation only)" if ok else
                   "not finite: the parameters or the loss overflowed (a diverged training)"
                   if not np.isfinite(gc.max_error) else
                   "they differ: a kink of the loss (the SVM's hinge) between θ ± h, or a wrong gradient")
        rows = [(None, f"analytic gradient against central differences on {len(gc.coords)} random coordinates"),
                ("samples", html.escape(gc.data_text)),
                ("largest relative error", f"<b>{num(gc.max_error, 2)}</b> — " + verdict),
                ("step h", "ε<sup>1/3</sup>·max(1, |θ_i|) ≈ " + num(float(np.max(gc.h)), 2) if gc.h.size else "—"),
                ("", "central difference (L(θ + h e_i) − L(θ − h e_i)) / 2h; relative error |a − c| / max(|a|, |c|). "
                     "Chart: the same at every h (red dotted line: the h of the table) — large h: truncation (slope 2), "
                     "small h: rounding (slope −1)"),
                ("", f"<table cellspacing='2'>{head}{body}</table>")]
        self.pages["Gradient check"].text.setText(table(rows))
        pi = self.fd_chart.getPlotItem()
        pi.clear()
        pi.legend.clear()
        if gc.curve_h.size:
            floor = 1e-17  # an exact agreement (error 0) is drawn at the bottom, not dropped by the log axis
            for j in range(gc.curve_errors.shape[1]):
                pi.plot(gc.curve_h, np.maximum(gc.curve_errors[:, j], floor), pen=pg.mkPen("#90caf9", width=1),
                        name="each coordinate" if j == 0 else None)
            pi.plot(gc.curve_h, np.maximum(np.median(gc.curve_errors, axis=1), floor),
                    pen=pg.mkPen(PHI_COLOR, width=2.5), name="median")
            for h in np.unique(gc.h):
                pi.addItem(pg.InfiniteLine(np.log10(h), angle=90,
                                           pen=pg.mkPen(TAKEN_COLOR, width=1, style=Qt.PenStyle.DotLine)))


if __name__ == "__main__":  # preview: python -m gdstudio.gui.views.model_inspector
    import sys

    from PySide6.QtWidgets import QApplication

    from gdstudio.core.analysis import model_step as MS
    from gdstudio.core.training import TrainConfig, train

    app = QApplication(sys.argv)
    r = train(TrainConfig.create(optimizer="momentum", hyperparams={"lr": 0.05}, batch_size=64, epochs=1, val=0.2))
    s = MS.explain_model_step(r.model, r.thetas, 10)
    w = ModelInspector()
    w.set_runs(["momentum"])
    w.set_range(len(r.thetas) - 1)
    w.set_step(0, 10)
    w.show_step("momentum", "momentum", s, MS.model_line_search(r.model, s),
                MS.model_gradient_check(r.model, s, curve=[1e-9, 1e-6, 1e-3]))
    w.resize(600, 800)
    w.show()
    sys.exit(app.exec())
