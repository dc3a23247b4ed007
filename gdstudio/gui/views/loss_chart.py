"""Loss against epoch, live: one curve per visible run (one per start for multi-start runs), legend,
linear or log y axis.

On a log axis, values ≤ 0 cannot be shown and are left out (a gap) rather than raising. Long curves are
thinned for *drawing* by pyqtgraph's peak downsampling and clipping to the view; the data keep every step.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gdstudio.gui import theme
from gdstudio.gui.run_model import RunEntry, RunModel


def curve_data(entry: RunEntry, log: bool) -> tuple[np.ndarray, np.ndarray]:
    """Epochs and losses of a run as one polyline (starts separated by NaN)."""
    k = entry.steps.astype(float)
    loss = entry.loss
    if log:
        loss = np.where(loss > 0, loss, np.nan)  # log10 of ≤ 0 is undefined: leave a gap
    if entry.n_starts == 1:
        return k, loss[:, 0].copy()
    kk = np.concatenate([k, [np.nan]])
    ll = np.concatenate([loss, np.full((1, entry.n_starts), np.nan)], axis=0)
    return np.tile(kk, entry.n_starts), ll.T.ravel()


class LossChart(QWidget):
    """Loss curves of the runs of a :class:`RunModel`."""

    sig_log_changed = Signal(bool)

    def __init__(self, model: RunModel | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot_widget = pg.PlotWidget()
        theme.style_plot(self.plot_widget)
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.setLabel("bottom", "epoch")
        self.plot.setLabel("left", "loss f(x)")
        self.plot.showGrid(x=False, y=True, alpha=0.2)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        _, fg = theme.chart_colors(self)
        self.legend = self.plot.addLegend(offset=(-10, 10), labelTextColor=fg)
        self._curves: dict[int, pg.PlotDataItem] = {}
        self._log = False
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot_widget)
        self.setToolTip("Loss against epoch, one curve per run.")
        self.model: RunModel | None = None
        if model is not None:
            self.set_model(model)

    @property
    def log_scale(self) -> bool:
        return self._log

    def set_log_scale(self, on: bool) -> None:
        on = bool(on)
        if on == self._log:
            return
        self._log = on
        self.plot.setLogMode(x=False, y=on)
        self.plot.setLabel("left", "loss f(x) (log scale)" if on else "loss f(x)")
        if self.model is not None:
            for e in self.model:
                self._redraw(e)
        self.plot.enableAutoRange()
        self.sig_log_changed.emit(on)

    # --- model wiring ------------------------------------------------------------------------------------
    def set_model(self, model: RunModel) -> None:
        self.model = model
        model.sig_added.connect(self._on_added)
        model.sig_removed.connect(self._on_removed)
        model.sig_cleared.connect(self._on_cleared)
        model.sig_data.connect(self._on_data)
        model.sig_visibility.connect(self._on_visibility)
        model.sig_renamed.connect(self._on_renamed)
        for e in model:
            self._on_added(e.run_id)

    def _on_renamed(self, run_id: int) -> None:
        e, c = self.model.get(run_id), self._curves.get(run_id)
        if e is None or c is None:
            return
        c.opts["name"] = e.label
        label = self.legend.getLabel(c)
        if label is not None:
            label.setText(e.label)

    def _on_added(self, run_id: int) -> None:
        e = self.model.get(run_id)
        if e is None or run_id in self._curves:
            return
        c = pg.PlotDataItem(pen=pg.mkPen(e.color, width=2.5), connect="finite", name=e.label)
        c.setDownsampling(auto=True, method="peak")
        c.setClipToView(True)
        c.setLogMode(False, self._log)
        self.plot.addItem(c)
        self._curves[run_id] = c
        self.plot.enableAutoRange()
        self._redraw(e)

    def _on_removed(self, run_id: int) -> None:
        c = self._curves.pop(run_id, None)
        if c is not None:
            self.plot.removeItem(c)

    def _on_cleared(self) -> None:
        for rid in list(self._curves):
            self._on_removed(rid)

    def _on_visibility(self, run_id: int) -> None:
        e = self.model.get(run_id)
        if e is not None and run_id in self._curves:
            self._curves[run_id].setVisible(e.visible)

    def _on_data(self, run_ids: list) -> None:
        for rid in run_ids:
            e = self.model.get(rid)
            if e is not None:
                self._redraw(e)

    def _redraw(self, e: RunEntry) -> None:
        c = self._curves.get(e.run_id)
        if c is None:
            return
        k, loss = curve_data(e, self._log)
        if self._log and not np.isfinite(loss).any():
            c.setData([], [])
            return
        c.setData(k, loss)

    def curve(self, run_id: int) -> pg.PlotDataItem | None:
        return self._curves.get(run_id)


if __name__ == "__main__":  # preview: python -m gdstudio.gui.views.loss_chart
    import sys

    from PySide6.QtWidgets import QApplication

    from gdstudio.core.runs import RunConfig, run
    from gdstudio.gui.worker import stack_steps  # noqa: F401  (the window feeds batches the same way)

    app = QApplication(sys.argv)
    model = RunModel()
    chart = LossChart(model)
    cfg = RunConfig.create("booth", "gd", starts=[(-8.0, 8.0)], epochs=60, hyperparams={"lr": 0.05})
    res = run(cfg)
    from gdstudio.gui.run_model import StepBatch

    e = model.add(cfg, cfg.build_objective())
    t = res[0]
    n = len(t.x)
    model.add_batches([StepBatch(e.run_id, np.arange(n), t.x[:, None], t.loss[:, None], t.grad[:, None],
                                 np.ones((n, 1), bool), np.zeros((n, 1), bool))])
    chart.set_log_scale(True)
    chart.resize(700, 400)
    chart.show()
    sys.exit(app.exec())
