"""The "Computation graph" tab of the See why inspector: reverse-mode autodiff at the selected step, drawn.

The graph of the objective's formula (:mod:`gdstudio.core.autodiff`) is laid out left to right: the leaves
``x`` and ``y`` in the first column, each operation right of its inputs, ``f`` alone at the right; each
constant sits just left of the operation that uses it. Every node shows its operation, its forward value
``v`` at the selected point and its adjoint ``v̄ = ∂f/∂v`` from the backward pass (— for constants, which
need none); hovering an edge shows the chain rule along it (the local derivative and what it adds to the
input's adjoint). The gradient is read off the leaves: ``∇f = (x̄, ȳ)``. Large graphs scroll (and Ctrl + wheel
zooms). The core computes the values and adjoints; this view only places and draws them.

:func:`install` adds the tab to a :class:`~gdstudio.gui.see_why.SeeWhy`'s inspector and follows its selection.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
)
from PySide6.QtWidgets import (
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from gdstudio.core.autodiff import Graph, Trace, has_graph, objective_graph
from gdstudio.gui.views.inspector import num

TAB_TITLE = "Computation graph"
NODE_W, NODE_H = 132.0, 66.0
COL_STEP, ROW_STEP = 168.0, 80.0
#: Smallest zoom a graph is first drawn at (larger graphs scroll).
MIN_SCALE = 0.75
#: Fills: the leaves x and y, operations, constants, the output f.
FILLS = {"leaf": "#c8e6c9", "op": "#d7e8fb", "const": "#eeeeee", "out": "#ffe0b2"}
TEXT_COLOR = "#1a1a1a"
EDGE_COLOR = "#8a8a8a"


#: A value for a node: the inspector's readout format (5 significant digits, a real minus sign, — for none).
fmt = num


def layout(graph: Graph) -> dict[int, tuple[float, float]]:
    """Scene positions (column, row) of the nodes: columns from :meth:`Graph.columns`; in each column, operations
    near the mean row of their inputs and constants near their user's row, one row apart."""
    cols = graph.columns()
    rows: dict[int, float] = {}
    users: dict[int, list[int]] = {}
    for n in graph.nodes:
        for j in n.inputs:
            users.setdefault(j, []).append(n.id)

    def place(ids, desired):
        taken = [rows[i] for i in rows if cols[i] == cols[ids[0]]] if ids else []
        for i in sorted(ids, key=lambda i: (desired[i], i)):
            r, k = desired[i], 0
            while any(abs(r - o) < 1 for o in taken):
                k += 1
                r = desired[i] + (k + 1) // 2 * (1 if k % 2 else -1) * 0.5
            rows[i] = r
            taken.append(r)

    by_col: dict[int, list[int]] = {}
    for n in graph.nodes:
        by_col.setdefault(cols[n.id], []).append(n.id)
    leaves = [n.id for n in graph.nodes if n.op == "var"]
    for c in sorted(by_col):  # operations and leaves, left to right
        ids = [i for i in by_col[c] if graph.nodes[i].active]
        if not ids:
            continue
        desired = {}
        for i in ids:
            ins = [rows[j] for j in graph.nodes[i].inputs if j in rows]
            desired[i] = float(np.mean(ins)) if ins else float(leaves.index(i) * 2 if i in leaves else 0)
        place(ids, desired)
    for c in sorted(by_col, reverse=True):  # constants, right to left, beside their users
        ids = [i for i in by_col[c] if not graph.nodes[i].active]
        if not ids:
            continue
        desired = {i: float(np.mean([rows[u] for u in users.get(i, []) if u in rows] or [0.0])) for i in ids}
        place(ids, desired)
    low = min(rows.values()) if rows else 0.0
    return {i: (cols[i], rows[i] - low) for i in rows}


class EdgeItem(QGraphicsPathItem):
    """An edge whose hover area is wider than its line, so its tooltip is easy to reach."""

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        return stroker.createStroke(self.path())


class GraphCanvas(QGraphicsView):
    """The drawing: one box per node, edges from inputs (right side) to users (left side)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("graph_canvas")
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setMinimumHeight(220)
        self.boxes: dict[int, QGraphicsRectItem] = {}

    def wheelEvent(self, ev):
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            f = 1.15 if ev.angleDelta().y() > 0 else 1 / 1.15
            self.scale(f, f)
            return
        super().wheelEvent(ev)

    @staticmethod
    def _edge_tip(graph: Graph, trace: Trace, n, k: int, index: int) -> str:
        """The chain rule along one edge: the local derivative and what it adds to the input's adjoint."""
        src = graph.nodes[n.inputs[k]]
        if (n.id, k) not in trace.edges:
            return f"{src.text} → {n.text}\n(a constant: nothing flows back along this edge)"
        local, contribution = (v.reshape(-1)[index] for v in trace.edges[(n.id, k)])
        adj = trace.adjoints[n.id].reshape(-1)[index]
        return (f"{src.text} → {n.text}\n"
                f"local derivative ∂({n.text})/∂({src.text}) = {fmt(local)}\n"
                f"backward: adds {fmt(adj)} × {fmt(local)} = {fmt(contribution)} to the adjoint of {src.text}")

    def draw(self, graph: Graph, trace: Trace, index: int = 0) -> None:
        scene = self.scene()
        scene.clear()
        self.boxes = {}
        pos = layout(graph)
        at = {i: (c * COL_STEP, r * ROW_STEP) for i, (c, r) in pos.items()}
        pen = QPen(QColor(EDGE_COLOR), 1.4)
        for n in graph.nodes:  # edges first, under the boxes
            x1, y1 = at[n.id]
            for k, j in enumerate(n.inputs):
                x0, y0 = at[j]
                path = QPainterPath(QPointF(x0 + NODE_W, y0 + NODE_H / 2))
                mid = (x0 + NODE_W + x1) / 2
                path.cubicTo(QPointF(mid, y0 + NODE_H / 2), QPointF(mid, y1 + NODE_H / 2),
                             QPointF(x1, y1 + NODE_H / 2))
                item = EdgeItem(path)
                item.setPen(pen)
                item.setToolTip(self._edge_tip(graph, trace, n, k, index))
                scene.addItem(item)
                arrow = QPainterPath(QPointF(x1, y1 + NODE_H / 2))
                arrow.lineTo(QPointF(x1 - 7, y1 + NODE_H / 2 - 4))
                arrow.lineTo(QPointF(x1 - 7, y1 + NODE_H / 2 + 4))
                arrow.closeSubpath()
                head = QGraphicsPathItem(arrow)
                head.setPen(pen)
                head.setBrush(QBrush(QColor(EDGE_COLOR)))
                scene.addItem(head)
        title_font = QFont(self.font())
        title_font.setPointSizeF(12)
        title_font.setBold(True)
        body_font = QFont(self.font())
        body_font.setPointSizeF(10)
        for n in graph.nodes:
            x, y = at[n.id]
            kind = ("out" if n.id == graph.output else "leaf" if n.op == "var" else "op" if n.active else "const")
            box = QGraphicsRectItem(QRectF(x, y, NODE_W, NODE_H))
            box.setBrush(QBrush(QColor(FILLS[kind])))
            box.setPen(QPen(QColor("#555555"), 2.0 if kind in ("out", "leaf") else 1.0))
            value = trace.values[n.id].reshape(-1)[index]
            adj = trace.adjoints[n.id]
            adj_v = None if adj is None else adj.reshape(-1)[index]
            name = "f = " + n.label if n.id == graph.output else n.label
            tip = (f"{n.text}\nvalue v = {fmt(value)} (forward pass)\n"
                   + (f"adjoint v̄ = ∂f/∂v = {fmt(adj_v)} (backward pass)" if adj is not None
                      else "a constant: no adjoint needed"))
            box.setToolTip(tip)
            scene.addItem(box)
            t = QGraphicsSimpleTextItem(name, box)
            t.setFont(title_font)
            t.setBrush(QBrush(QColor(TEXT_COLOR)))
            t.setPos(x + 8, y + 3)
            if n.op not in ("num", "var", "const"):
                room = int(NODE_W - 22 - t.boundingRect().width())
                sub = QGraphicsSimpleTextItem(QFontMetrics(body_font).elidedText(n.text, Qt.TextElideMode.ElideRight,
                                                                                room), box)
                sub.setFont(body_font)
                sub.setBrush(QBrush(QColor("#555555")))
                sub.setPos(x + 8 + t.boundingRect().width() + 6, y + 6)
            v = QGraphicsSimpleTextItem(f"v = {fmt(value)}", box)
            v.setFont(body_font)
            v.setBrush(QBrush(QColor(TEXT_COLOR)))
            v.setPos(x + 8, y + 25)
            a = QGraphicsSimpleTextItem(f"v̄ = {fmt(adj_v)}" if adj is not None else "v̄  —", box)
            a.setFont(body_font)
            a.setBrush(QBrush(QColor("#b71c1c" if adj is not None else "#777777")))
            a.setPos(x + 8, y + 44)
            self.boxes[n.id] = box
        rect = scene.itemsBoundingRect().adjusted(-12, -12, 12, 12)
        scene.setSceneRect(rect)
        # small graphs fit the view; large ones are drawn no smaller than MIN_SCALE and scroll
        self.resetTransform()
        vw, vh = max(self.viewport().width(), 1), max(self.viewport().height(), 1)
        s = min(1.0, max(MIN_SCALE, min(vw / rect.width(), vh / rect.height())))
        self.scale(s, s)
        self.centerOn(rect.left(), rect.center().y())


class GraphTab(QWidget):
    """A header (the point, f and the gradient read off the leaves) above the drawing."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("graph_tab")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.header = QLabel()
        self.header.setObjectName("graph_header")
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        f = QFont(self.header.font())
        f.setPointSizeF(11)
        self.header.setFont(f)
        lay.addWidget(self.header)
        self.canvas = GraphCanvas()
        lay.addWidget(self.canvas, 1)
        self.graph: Graph | None = None
        self.trace: Trace | None = None

    def show_message(self, text: str) -> None:
        self.graph = self.trace = None
        self.canvas.scene().clear()
        self.header.setText(html.escape(text))

    def show_point(self, objective, point) -> None:
        """The graph of ``objective`` with its forward values and adjoints at ``point`` (x, y)."""
        if not has_graph(objective):
            self.show_message(f"{objective.title or objective.name} has no formula to build a graph from.")
            return
        p = np.asarray(point, dtype=float)[:2]
        self.graph = objective_graph(objective)
        with np.errstate(all="ignore"):
            self.trace = self.graph.run(p[None, :])
        g = self.trace.gradient[0]
        self.header.setText(
            f"<b>f(x, y) = {html.escape(self.graph.text)}</b> at (x, y) = ({fmt(p[0])}, {fmt(p[1])}): "
            f"f = {fmt(self.trace.value[0])}<br>"
            "Forward pass: each node's value <b>v</b>, left to right. Backward pass: its adjoint "
            "<b><span style='color:#b71c1c'>v̄ = ∂f/∂v</span></b>, right to left from f̄ = 1, each node adding "
            "v̄ × (its local derivative) to its inputs (the chain rule).<br>"
            f"Gradient read off the leaves: <b>∇f = (x̄, ȳ) = ({fmt(g[0])}, {fmt(g[1])})</b> "
            f"({len(self.graph)} nodes; hover an edge for its local derivative; drag to scroll, Ctrl + wheel to zoom)")
        self.canvas.draw(self.graph, self.trace)


def install(see_why) -> GraphTab:
    """Add the Computation graph tab to ``see_why``'s inspector; it follows the selected step (drawn when shown)."""
    tab = GraphTab()
    tabs = see_why.inspector.tabs
    tabs.addTab(tab, TAB_TITLE)
    tabs.setTabToolTip(tabs.indexOf(tab), "Reverse-mode automatic differentiation at the selected step: "
                                          "values forward, adjoints ∂f/∂node backward")
    state = {"picture": None, "drawn": False}
    tab.show_message("Select a step: drag the timeline, or click a point of a path on the contour map.")

    def render() -> None:
        pic = state["picture"]
        if state["drawn"] or tabs.currentWidget() is not tab:
            return
        state["drawn"] = True
        if pic is None:
            tab.show_message("Select a step: drag the timeline, or click a point of a path on the contour map.")
            return
        entry = see_why.model.get(pic.run_id)
        if entry is None:
            tab.show_message("The run of this step was removed.")
            return
        tab.show_point(entry.objective, pic.explanation.x)

    def on_picture(pic) -> None:
        state["picture"], state["drawn"] = pic, False
        render()

    see_why.sig_picture.connect(on_picture)
    tabs.currentChanged.connect(lambda _i: render())
    see_why.graph_tab = tab
    return tab


if __name__ == "__main__":  # preview: python -m gdstudio.gui.views.graph_view
    import sys

    from PySide6.QtWidgets import QApplication

    from gdstudio.core.objectives import get_objective

    app = QApplication(sys.argv)
    w = GraphTab()
    w.show_point(get_objective(sys.argv[1] if len(sys.argv) > 1 else "rosenbrock"), (-1.5, 2.0))
    w.resize(900, 600)
    w.show()
    sys.exit(app.exec())
