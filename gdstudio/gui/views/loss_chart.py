"""Loss against epoch, live: one curve per visible run (one per start for multi-start runs), legend,
linear or log y axis.

On a log axis, values ≤ 0 cannot be shown and are left out (a gap) rather than raising. Long curves are
thinned for *drawing* by pyqtgraph's peak downsampling and clipping to the view; the data keep every step.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gdstudio.gui import theme
from gdstudio.gui.run_model import RunEntry, RunModel
from gdstudio.gui.views.run_layers import RunLayers
from gdstudio.gui.views.ticks import log_axis_strings

#: The y axis' label: short, the chart is about 200 px high (a long label was cut at both ends).
LABEL = "loss f"
LOG_LABEL = "loss f (log)"
#: On a log axis when some losses are ≤ 0: only the positive ones can be drawn (the tooltip says so).
LOG_HIDES_LABEL = "loss f > 0 (log)"


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


class LossChart(RunLayers, QWidget):
    """Loss curves of the runs of a :class:`RunModel`."""

    sig_log_changed = Signal(bool)

    def __init__(self, model: RunModel | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot_widget = pg.PlotWidget()
        theme.style_plot(self.plot_widget)
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.setLabel("bottom", "epoch")
        self.plot.setLabel("left", LABEL)
        self.plot.getAxis("left").logTickStrings = log_axis_strings  # 10ⁿ for every decade
        self.plot.layout.setContentsMargins(0, 8, 0, 0)  # room for half of the top tick's label
        self.plot.showGrid(x=False, y=True, alpha=0.2)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        _, fg = theme.chart_colors(self)
        self.legend = self.plot.addLegend(offset=(-10, 10), labelTextColor=fg)
        self._runs: dict[int, pg.PlotDataItem] = {}
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
        self.plot.setLabel("left", LOG_LABEL if on else LABEL)
        if self.model is not None:
            for e in self.model:
                self._redraw(e)
        self.plot.enableAutoRange()
        self.sig_log_changed.emit(on)

    # --- per-run curves (RunLayers does the model bookkeeping) ------------------------------------------
    def set_model(self, model: RunModel) -> None:
        super().set_model(model)
        model.sig_renamed.connect(self._on_renamed)

    def _on_renamed(self, run_id: int) -> None:
        e, c = self.model.get(run_id), self._runs.get(run_id)
        if e is None or c is None:
            return
        c.opts["name"] = html.escape(e.label)  # the legend renders rich text: a name is shown, never rendered
        label = self.legend.getLabel(c)
        if label is not None:
            label.setText(html.escape(e.label))

    def _new_layer(self, e: RunEntry) -> pg.PlotDataItem:
        c = pg.PlotDataItem(pen=pg.mkPen(e.color, width=2.5), connect="finite", name=html.escape(e.label))
        c.setDownsampling(auto=True, method="peak")
        c.setClipToView(True)
        c.setLogMode(False, self._log)
        self.plot.addItem(c)
        self.plot.enableAutoRange()
        return c

    def _drop_layer(self, c: pg.PlotDataItem) -> None:
        self.plot.removeItem(c)

    def _show_layer(self, c: pg.PlotDataItem, visible: bool) -> None:
        c.setVisible(visible)

    def _redraw(self, e: RunEntry) -> None:
        c = self._runs.get(e.run_id)
        if c is None:
            return
        k, loss = curve_data(e, self._log)
        if self._log:
            self._update_log_label(bool(np.any(e.loss <= 0)))
        if not np.isfinite(loss).any():
            # Nothing drawable (a run that starts where f is undefined): an all-NaN curve makes pyqtgraph's
            # bounds warn "All-NaN slice encountered" and the auto-range jump to −500…500.
            c.setData([], [])
            return
        c.setData(k, loss)

    def _update_log_label(self, hides_values: bool) -> None:
        """On a log axis, say so when losses ≤ 0 cannot be drawn (instead of an unexplained gap)."""
        text = LOG_HIDES_LABEL if hides_values else LOG_LABEL
        if self.plot.getAxis("left").labelText != text:
            self.plot.setLabel("left", text)
            self.setToolTip("Loss against epoch, one curve per run."
                            + (" On this log axis losses ≤ 0 cannot be drawn: the curves have gaps there."
                               if hides_values else ""))

    def curve(self, run_id: int) -> pg.PlotDataItem | None:
        return self._runs.get(run_id)


if __name__ == "__main__":  # preview: python -m gdstudio.gui.views.loss_chart
    import sys

    from PySide6.QtWidgets import QApplication

    from gdstudio.core.runs import RunConfig, run

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
