"""The inspector: what the selected step means, as numbers and small charts (it draws, never computes).

Tabs: **Step** (point, gradient, update, optimizer state), **Hessian** (matrix, eigenvalues and
vectors, the second-derivative test), **Gradient check** (analytic, central and forward differences and
a log-log chart of their error against h), **Linear approximation** (f(x + hu) against
f(x) + h∇f·u along a direction chosen by an angle from −∇f, and the squared error against h, log-log),
**Line search** (φ(t) = f(x + t p) with the tried and the chosen t).

Everything shown comes from a ``StepPicture`` (:mod:`gdstudio.gui.step_picture`), built by
:mod:`gdstudio.core.analysis`.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gdstudio.gui import theme

if TYPE_CHECKING:  # pragma: no cover
    from gdstudio.gui.step_picture import StepPicture

TABS = ("Step", "Hessian", "Gradient check", "Linear approximation", "Line search")

#: Colours of the eigenvector axes in the Hessian chart (v1, v2, ...).
AXIS_CHART_COLORS = ("#1e88e5", "#e53935", "#43a047")

#: Readout font size (pt): readable on a projector.
READOUT_PT = 12


def num(v, digits: int = 5) -> str:
    """A number for the readouts: 6 significant digits, '—' for None/NaN, a minus sign that is a minus."""
    if v is None:
        return "—"
    v = float(v)
    if not np.isfinite(v):
        return "nan" if np.isnan(v) else ("∞" if v > 0 else "−∞")
    return f"{v:.{digits}g}".replace("-", "−")


def vec(v, digits: int = 5) -> str:
    if v is None:
        return "—"
    a = np.asarray(v, dtype=float).reshape(-1)
    return "(" + ", ".join(num(c, digits) for c in a) + ")"


def mat(m, digits: int = 4) -> str:
    a = np.asarray(m, dtype=float)
    rows = "".join("<tr>" + "".join(f"<td align='right'>&nbsp;{num(c, digits)}&nbsp;</td>" for c in r) + "</tr>"
                   for r in a)
    return f"<table style='border-left:2px solid; border-right:2px solid'>{rows}</table>"


#: State arrays with more entries than this are named by their shape, not listed (L-BFGS keeps 2 × 100 pairs).
MAX_LISTED = 12


def state_value(v) -> str:
    """An optimizer state entry for the readout: a number, a vector, a small matrix, or a large array's shape."""
    a = np.asarray(v)
    if a.ndim == 0:
        return num(a)
    if a.size > MAX_LISTED:
        return f"{' × '.join(str(n) for n in a.shape)} array (too large to list)"
    return vec(a) if a.ndim == 1 else mat(a)


def table(rows) -> str:
    out = []
    for label, value in rows:
        if label is None:
            out.append(f"<tr><td colspan='2'><b>{value}</b></td></tr>")
        elif label == "":
            out.append(f"<tr><td colspan='2'>{value}</td></tr>")
        else:
            out.append(f"<tr><td style='padding-right:10px'>{html.escape(label)}</td><td>{value}</td></tr>")
    return "<table cellspacing='2'>" + "".join(out) + "</table>"


def _chart(title: str, xlabel: str, ylabel: str, log: bool = False) -> pg.PlotWidget:
    w = pg.PlotWidget()
    theme.style_plot(w)
    pi = w.getPlotItem()
    pi.setTitle(title, size="11pt")
    pi.setLabel("bottom", xlabel)
    pi.setLabel("left", ylabel)
    pi.showGrid(x=True, y=True, alpha=0.25)
    pi.setMenuEnabled(False)
    pi.hideButtons()
    if log:
        pi.setLogMode(True, True)
    _, fg = theme.chart_colors(w)
    pi.addLegend(offset=(6, 6), labelTextSize="9pt", labelTextColor=fg)
    w.setMinimumHeight(190)
    return w


class _Tab(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        self.lay = QVBoxLayout(body)
        self.lay.setContentsMargins(6, 6, 6, 6)
        self.text = QLabel()
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        f = QFont(self.text.font())
        f.setPointSizeF(READOUT_PT)
        self.text.setFont(f)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.lay.addWidget(self.text)

    def finish(self) -> None:
        """Charts added: keep the text at the top when the tab is taller than its content."""
        self.lay.addStretch(1)


def add_header_and_tabs(lay, names) -> tuple[QLabel, QTabWidget, dict[str, _Tab]]:
    """The bold header line and the tabs (one readout page per name) that open every step inspector."""
    header = QLabel()
    f = QFont(header.font())
    f.setPointSizeF(READOUT_PT + 1)
    f.setBold(True)
    header.setFont(f)
    header.setWordWrap(True)
    header.setContentsMargins(6, 4, 6, 4)
    lay.addWidget(header)
    tabs = QTabWidget()
    tabs.setDocumentMode(True)
    lay.addWidget(tabs, 1)
    pages: dict[str, _Tab] = {}
    for name in names:
        pages[name] = _Tab()
        tabs.addTab(pages[name], name)
    return header, tabs, pages


def show_message_in(header: QLabel, pages: dict[str, _Tab], charts, text: str) -> None:
    """No step to show: ``text`` in the header, empty readouts and charts."""
    header.setText(html.escape(text))
    for page in pages.values():
        page.text.setText("")
    for chart in charts:
        chart.getPlotItem().clear()
        chart.getPlotItem().legend.clear()


class Inspector(QWidget):
    """Tabbed readouts and charts of one selected step."""

    sig_angle_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("inspector")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.header, self.tabs, self.pages = add_header_and_tabs(lay, TABS)
        # charts
        self.hessian_chart = _chart("f along the eigenvector axes", "t", "f(x + t v)")
        self.pages["Hessian"].lay.addWidget(self.hessian_chart)
        self.fd_chart = _chart("finite-difference error against h", "h", "relative error", log=True)
        self.pages["Gradient check"].lay.addWidget(self.fd_chart)
        angle_row = QHBoxLayout()
        angle_row.addWidget(QLabel("direction: angle from −∇f"))
        self.angle = QDoubleSpinBox()
        self.angle.setRange(-180.0, 180.0)
        self.angle.setWrapping(True)
        self.angle.setSingleStep(15.0)
        self.angle.setDecimals(0)
        self.angle.setSuffix("°")
        self.angle.setKeyboardTracking(False)
        self.angle.setToolTip("0°: along −∇f (steepest descent); 90°: along the contour line; 180°: along ∇f")
        angle_row.addWidget(self.angle)
        angle_row.addStretch(1)
        self.pages["Linear approximation"].lay.insertLayout(0, angle_row)
        self.linear_chart = _chart("f(x + hu) and its linear approximation", "h", "f")
        self.pages["Linear approximation"].lay.addWidget(self.linear_chart)
        self.linear_error_chart = _chart("squared error of the linear approximation", "h", "error²", log=True)
        self.pages["Linear approximation"].lay.addWidget(self.linear_error_chart)
        self.line_chart = _chart("φ(t) = f(x + t p)", "t", "φ(t)")
        self.pages["Line search"].lay.addWidget(self.line_chart)
        for page in self.pages.values():
            page.finish()
        self.angle.valueChanged.connect(self.sig_angle_changed)
        self.tabs.currentChanged.connect(self._on_tab)
        self._dirty: set[str] = set()
        self.picture: StepPicture | None = None
        self.show_message("Select a step: drag the timeline, or click a point of a path on the contour map.")

    # --- API ------------------------------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        """No step to show: a one-line explanation, empty tabs."""
        self.picture = None
        self._dirty = set()
        show_message_in(self.header, self.pages, self.charts(), text)

    def charts(self) -> list[pg.PlotWidget]:
        return [self.hessian_chart, self.fd_chart, self.linear_chart, self.linear_error_chart, self.line_chart]

    def show_picture(self, p: StepPicture) -> None:
        """Show a step: the header and the visible tab now, the other tabs when they are opened."""
        self.picture = p
        e = p.explanation
        self.header.setText(f"step {e.k:,} of {p.run_label} · f = {num(e.value)} · ‖∇f‖ = "
                            f"{num(np.linalg.norm(e.gradient), 4)}")
        self._dirty = set(TABS)
        if 0 <= self.tabs.currentIndex() < len(TABS):  # tabs added after TABS render themselves
            self._render(TABS[self.tabs.currentIndex()])

    def _render(self, name: str) -> None:
        if self.picture is None or name not in self._dirty:
            return
        self._dirty.discard(name)
        {"Step": self._step, "Hessian": self._hessian, "Gradient check": self._gradient_check,
         "Linear approximation": self._linear, "Line search": self._line_search}[name](self.picture)

    def _on_tab(self, index: int) -> None:
        if 0 <= index < len(TABS):
            self._render(TABS[index])

    def tab_text(self, name: str) -> str:
        """The readout of a tab (rendered first if it is out of date)."""
        self._render(name)
        return self.pages[name].text.text()

    # --- tabs -------------------------------------------------------------------------------------------
    def _step(self, p: StepPicture) -> None:
        e = p.explanation
        rows = [(None, f"{html.escape(e.optimizer)}: from x<sub>{e.k}</sub> to x<sub>{e.k + 1}</sub>"),
                ("x_k", vec(e.x)), ("f(x_k)", num(e.value, 8)), ("∇f(x_k)", vec(e.gradient)),
                ("−∇f (steepest descent)", vec(e.neg_gradient))]
        if e.update is not None:
            rows += [("update Δx = x_k+1 − x_k", vec(e.update)),
                     ("‖Δx‖", num(np.linalg.norm(e.update))),
                     ("cos ∠(Δx, −∇f)", num(e.cos_angle, 4)),
                     ("∇f·Δx (predicted change)", num(e.slope)),
                     ("f(x_k+1) − f(x_k) (actual change)", num(e.change))]
        else:
            rows.append(("update", "none: the run ended here" + (f" ({html.escape(e.message)})" if e.message else "")))
        if e.state_after:
            rows.append((None, "optimizer state after the step"))
            rows += [(k, state_value(v)) for k, v in e.state_after.items()]
        if e.derived:
            rows.append((None, "derived"))
            rows += [(e.labels.get(k, k), vec(v)) for k, v in e.derived.items()]
        if e.info:
            rows.append((None, "this step's info"))
            for k, v in e.info.items():
                a = np.asarray(v, dtype=float).reshape(-1)
                a = a[np.isfinite(a)]
                rows.append((k, num(a[0]) if a.size == 1 else vec(a)))
        if p.arrows:
            rows.append((None, "arrows on the views"))
            rows += [(a.label, f"<span style='color:{a.color}'>■</span> {vec(a.vector)}") for a in p.arrows]
        self.pages["Step"].text.setText(table(rows))

    def _hessian(self, p: StepPicture) -> None:
        info = p.axes.info
        verdict = info.verdict
        rows = [(None, f"second-derivative test: <span style='font-size:15pt'>{verdict}</span>"
                       + ("" if info.is_critical else " (shape of the surface here; ∇f ≠ 0)")),
                ("H = ∇²f(x)", mat(info.hessian)),
                ("eigenvalues λ", vec(info.eigenvalues))]
        for i in range(len(info.eigenvalues)):
            rows.append((f"v{i + 1} (λ = {num(info.eigenvalues[i], 4)})", vec(info.eigenvectors[:, i], 4)))
        rows += [("det H = λ₁λ₂", num(info.det)), ("tr H = λ₁ + λ₂", num(info.trace))]
        if info.det_trace_verdict is not None:
            rows.append(("det/trace test", info.det_trace_verdict))
        rows.append(("", html.escape(info.explanation())))
        if p.quadratic is not None:
            q = p.quadratic
            rows.append((None, "local quadratic model m(h) = f + ∇f·h + ½hᵀBh"))
            rows.append(("B", ("exact Hessian" if q.source == "hessian" else "BFGS's approximation (inverse of its state B)")))
            rows.append(("model's shape", q.verdict))
            rows.append(("stationary point x − B⁻¹∇f", vec(q.newton_point)))
            rows.append(("m there", num(q.newton_value)))
        self.pages["Hessian"].text.setText(table(rows))
        pi = self.hessian_chart.getPlotItem()
        pi.clear()
        pi.legend.clear()
        for i in range(len(info.eigenvalues)):
            c = AXIS_CHART_COLORS[i % len(AXIS_CHART_COLORS)]
            pi.plot(p.axes.ts, p.axes.values[i], pen=pg.mkPen(c, width=2.5), name=f"f along v{i + 1}")
            pi.plot(p.axes.ts, p.axes.model[i], pen=pg.mkPen(c, width=1.5, style=Qt.PenStyle.DashLine),
                    name=f"model, λ{i + 1} = {num(info.eigenvalues[i], 3)}")

    def _gradient_check(self, p: StepPicture) -> None:
        gc, fd = p.gradcheck, p.fd
        rows = [(None, "∇f at x_k three ways"),
                ("analytic", vec(gc.analytic, 10)),
                (f"central, h = {num(gc.h_central, 2)}", vec(gc.central, 10)),
                (f"forward, h = {num(gc.h_forward, 2)}", vec(gc.forward, 10)),
                ("relative error, central", num(gc.error_central, 3)),
                ("relative error, forward", num(gc.error_forward, 3)),
                (None, "best h measured (theory for unit scale)"),
                ("central", (f"{num(fd.h_best_central, 2)} → {num(fd.error_best_central, 2)} "
                             f"(ε<sup>1/3</sup> ≈ {num(fd.h_theory_central, 2)})")),
                ("forward", (f"{num(fd.h_best_forward, 2)} → {num(fd.error_best_forward, 2)} "
                             f"(√ε ≈ {num(fd.h_theory_forward, 2)})")),
                ("", "large h: truncation error (slope 2 central, 1 forward); small h: rounding (slope −1)")]
        self.pages["Gradient check"].text.setText(table(rows))
        pi = self.fd_chart.getPlotItem()
        pi.clear()
        pi.legend.clear()
        for err, color, name in ((fd.central, "#1e88e5", "central"), (fd.forward, "#e53935", "forward")):
            y = np.where(np.isfinite(err), np.maximum(err, fd.floor), np.nan)
            pi.plot(fd.hs, y, pen=pg.mkPen(color, width=2.5), name=name, connect="finite")
        for h, color in ((fd.h_theory_central, "#1e88e5"), (fd.h_theory_forward, "#e53935")):
            pi.addItem(pg.InfiniteLine(np.log10(h), angle=90, pen=pg.mkPen(color, width=1, style=Qt.PenStyle.DotLine)))

    def _linear(self, p: StepPicture) -> None:
        la, lp = p.linear, p.linear_profile
        rows = [("direction u", vec(la.direction, 4) + f" ({num(p.angle, 3)}° from −∇f)"),
                ("f'(x; u) = ∇f·u", num(la.slope)), ("uᵀHu (curvature)", num(la.curvature)),
                ("", "error = f(x + hu) − f(x) − h∇f·u ≈ ½h²uᵀHu, so error² ≈ ¼h⁴(uᵀHu)²: slope 4 on log-log")]
        self.pages["Linear approximation"].text.setText(table(rows))
        pi = self.linear_chart.getPlotItem()
        pi.clear()
        pi.legend.clear()
        pi.plot(lp.hs, lp.actual, pen=pg.mkPen("#1e88e5", width=2.5), name="f(x + hu)")
        pi.plot(lp.hs, lp.linear, pen=pg.mkPen("#e53935", width=2, style=Qt.PenStyle.DashLine),
                name="f(x) + h f'(x; u)")
        pi = self.linear_error_chart.getPlotItem()
        pi.clear()
        pi.legend.clear()
        ok = np.isfinite(la.squared_error) & (la.squared_error > 0)
        pi.plot(la.hs[ok], la.squared_error[ok], pen=pg.mkPen("#1e88e5", width=2.5), symbol="o", symbolSize=4,
                name="measured")
        okp = np.isfinite(la.predicted) & (la.predicted > 0)
        if okp.any():
            pi.plot(la.hs[okp], la.predicted[okp], pen=pg.mkPen("#e53935", width=1.5, style=Qt.PenStyle.DashLine),
                    name="¼h⁴(uᵀHu)²")

    def _line_search(self, p: StepPicture) -> None:
        ls = p.line_search
        pi = self.line_chart.getPlotItem()
        pi.clear()
        pi.legend.clear()
        if ls is None:
            self.pages["Line search"].text.setText("No step was taken from this point.")
            return
        prof = ls.profile
        kind = ("the optimizer searched along p = " if ls.searched else "no line search; φ along ") + ls.direction_label
        rows = [(None, html.escape(kind)), ("p", vec(ls.direction)),
                ("φ(0) = f(x_k)", num(prof.value)), ("φ'(0) = ∇f·p", num(prof.slope))]
        if ls.searched:
            rows += [("tried t", ", ".join(num(t, 3) for t in ls.tried_t)),
                     ("φ at the tried t", ", ".join(num(v, 4) for v in ls.tried_f))]
        rows.append(("chosen t", num(ls.chosen_t)))
        rows.append(("φ(chosen t)", num(ls.chosen_f)))
        self.pages["Line search"].text.setText(table(rows))
        pi.plot(prof.ts, prof.values, pen=pg.mkPen("#1e88e5", width=2.5), name="φ(t)")
        pi.plot(prof.ts, prof.tangent, pen=pg.mkPen("#9e9e9e", width=1.5, style=Qt.PenStyle.DashLine),
                name="φ(0) + tφ'(0)")
        if ls.searched:
            pi.plot(prof.ts, prof.armijo(), pen=pg.mkPen("#43a047", width=1.5, style=Qt.PenStyle.DotLine),
                    name="Armijo line (c = 1e-4)")
            pi.plot(ls.tried_t, ls.tried_f, pen=None, symbol="o", symbolSize=9, symbolBrush="#ff9800",
                    name="tried t")
        if ls.chosen_t is not None and ls.chosen_f is not None:
            pi.plot([ls.chosen_t], [ls.chosen_f], pen=None, symbol="star", symbolSize=18, symbolBrush="#e53935",
                    name="chosen t")
        # Show the chosen step (wheel to zoom out to every trial); y fits what is in view.
        vb = pi.getViewBox()
        vb.setAutoVisible(y=True)
        vb.enableAutoRange(y=True)
        pi.setXRange(0.0, ls.zoom, padding=0.02)
