"""Loss against epoch, live: one curve per visible run (one per start for multi-start runs), legend,
linear or log y axis.

On a log axis, values ≤ 0 cannot be shown and are left out (a gap) rather than raising. Long curves are
thinned for *drawing* only (the data keep every step): each start's losses go through a
:class:`~gdstudio.core.decimate.SeriesDecimator` (per bucket of steps its first, last, lowest and highest
loss, at most :data:`BUDGET` buckets: a few per pixel column), fed with the new steps only, so a frame costs
the same at any length of run. Zoomed in on part of a long run, that part is decimated again for the
visible steps (:data:`REFINE_MS` after the last change of view).
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gdstudio.core.decimate import SeriesDecimator
from gdstudio.gui import theme
from gdstudio.gui.run_model import RunEntry, RunModel
from gdstudio.gui.views.run_layers import RunLayers
from gdstudio.gui.views.ticks import log_axis_strings

#: The y axis' label: short, the chart is about 200 px high (a long label was cut at both ends).
LABEL = "loss f"
LOG_LABEL = "loss f (log)"
#: On a log axis when some losses are ≤ 0: only the positive ones can be drawn (the tooltip says so).
LOG_HIDES_LABEL = "loss f > 0 (log)"


#: Buckets per curve (each draws up to 4 points): more than the pixel columns of any screen.
BUDGET = 4096
#: After a zoom or pan of the epoch axis, the visible part is decimated again this many ms after the last change.
REFINE_MS = 120


class _Curve:
    """A run's curve and the decimation state behind it (one SeriesDecimator per start)."""

    def __init__(self, item: pg.PlotDataItem):
        self.item = item
        self.decimators: list[SeriesDecimator] = []
        self.log: bool | None = None
        self.nonpos = False  # a loss ≤ 0 was seen (log axis: not drawn)
        self.checked = 0  # rows looked at for `nonpos`
        self.zoom: tuple[tuple[int, int, int], list[np.ndarray]] | None = None  # ((k0, k1, n), per-start rows)


def _series(loss: np.ndarray, log: bool) -> np.ndarray:
    if not log:
        return loss
    with np.errstate(invalid="ignore"):
        return np.where(loss > 0, loss, np.nan)  # log10 of ≤ 0 is undefined: leave a gap


def curve_data(entry: RunEntry, log: bool, curve: _Curve | None = None, visible: tuple[float, float] | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Epochs and losses of a run to draw, as one polyline (starts separated by NaN), decimated.

    ``curve`` carries the decimators between calls (only new rows are looked at); ``visible`` (k0, k1): the
    epoch range on screen, decimated again on its own when it is a small part of the run.
    """
    curve = curve or _Curve(None)
    loss = entry.loss
    n = len(loss)
    if curve.log != log or len(curve.decimators) != entry.n_starts:
        curve.decimators = [SeriesDecimator(BUDGET) for _ in range(entry.n_starts)]
        curve.log = log
        curve.zoom = None
    ks, ls = [], []
    for i, dec in enumerate(curve.decimators):
        col = loss[:, i]
        dec.extend(col, transform=(lambda v: _series(v, True)) if log else None)  # the values drawn
        idx = dec.indices()
        k0 = k1 = 0
        if visible is not None and n > 2 * BUDGET:
            k0, k1 = max(int(np.floor(visible[0])), 0), min(int(np.ceil(visible[1])) + 1, n)
        if k1 > k0 and k1 - k0 < n / 2:
            key = (k0, k1, min(n, k1))
            if curve.zoom is None or curve.zoom[0] != key:
                fine = []
                for j in range(entry.n_starts):
                    d = SeriesDecimator(BUDGET)
                    d.extend(loss[k0:k1, j], transform=(lambda v: _series(v, True)) if log else None)
                    fine.append(k0 + d.indices())
                curve.zoom = (key, fine)
            f = curve.zoom[1][i]
            idx = np.concatenate([idx[idx < k0], f, idx[idx >= k1]])
        elif i == entry.n_starts - 1:
            curve.zoom = None
        vals = _series(col[idx], log)
        if i:
            ks.append([np.nan])
            ls.append([np.nan])
        ks.append(idx.astype(float))
        ls.append(vals)
    return np.concatenate(ks), np.concatenate(ls)


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
        self._curves: dict[int, _Curve] = {}  # decimation state per run (data side of the drawing)
        self._log = False
        self._refine = QTimer(self)
        self._refine.setSingleShot(True)
        self._refine.setInterval(REFINE_MS)
        self._refine.timeout.connect(self._on_refine)
        self.plot.getViewBox().sigXRangeChanged.connect(lambda *_: self._refine.start())
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
        c.setLogMode(False, self._log)  # decimated by curve_data: no downsampling or clipping of pyqtgraph's
        self._curves[e.run_id] = _Curve(c)
        self.plot.addItem(c)
        self.plot.enableAutoRange()
        return c

    def _drop_layer(self, c: pg.PlotDataItem) -> None:
        for rid in [r for r, cv in self._curves.items() if cv.item is c]:
            del self._curves[rid]
        self.plot.removeItem(c)

    def _show_layer(self, c: pg.PlotDataItem, visible: bool) -> None:
        c.setVisible(visible)

    def _redraw(self, e: RunEntry) -> None:
        c = self._runs.get(e.run_id)
        if c is None:
            return
        cv = self._curves.setdefault(e.run_id, _Curve(c))
        (k0, k1), _ = self.plot.getViewBox().viewRange()
        k, loss = curve_data(e, self._log, cv, visible=(k0, k1))
        if cv.checked < len(e):  # look at the new rows only
            with np.errstate(invalid="ignore"):
                cv.nonpos = cv.nonpos or bool(np.any(e.loss[cv.checked:] <= 0))
            cv.checked = len(e)
        if self._log:
            self._update_log_label(cv.nonpos)
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

    def _on_refine(self) -> None:
        """The epoch axis changed (zoom, pan): redraw the runs whose visible part needs its own decimation."""
        if self.model is None:
            return
        (k0, k1), _ = self.plot.getViewBox().viewRange()
        for e in self.model:
            cv = self._curves.get(e.run_id)
            zoomed = len(e) > 2 * BUDGET and (min(k1, len(e)) - max(k0, 0)) < len(e) / 2
            if cv is not None and (zoomed or cv.zoom is not None):
                self._redraw(e)

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
