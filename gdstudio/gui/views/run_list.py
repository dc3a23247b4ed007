"""The run list: every run of the window, one row each, until removed.

Columns: a visible check box with the run's colour swatch and its name (double-click or F2 to rename),
its status, its loss (the last one delivered: the final loss once the run has ended) and a remove button.
The Delete key removes the selected runs. Unticking a run hides it from the 3D view, the contour map, the
loss chart and the CSV export.

The list draws a :class:`~gdstudio.gui.run_model.RunModel`; it changes only what belongs to the model
(visibility, names). Removing a run also needs the worker to stop it, so the list asks:
``sig_remove_requested(list)`` with run ids, and ``sig_clear_requested()`` for all; the window does it.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QStyle,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gdstudio.core.runs import Status
from gdstudio.gui.run_model import RunEntry, RunModel

COL_NAME, COL_STATUS, COL_LOSS, COL_REMOVE = range(4)
HEADERS = ("run", "status", "loss", "")

STATUS_TIPS = {
    Status.RUNNING: "still going",
    Status.COMPLETED: "every epoch done",
    Status.CONVERGED: "‖∇f‖ fell below the tolerance",
    Status.DIVERGED: "the point, loss or gradient stopped being finite, or left the map",
    Status.CANCELLED: "stopped",
    Status.FAILED: "the optimizer could not take a step",
}


def swatch(color: QColor, size: int = 14) -> QIcon:
    """A filled square with a thin dark outline (a white run colour stays visible on a light list)."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setPen(QColor(0, 0, 0, 140))
    p.setBrush(QColor(color))
    p.drawRect(0, 0, size - 1, size - 1)
    p.end()
    return QIcon(pm)


def loss_text(entry: RunEntry) -> tuple[str, str]:
    """(text, tooltip) of the loss column: the last recorded loss of the run (best start of a multi-start)."""
    if not len(entry):
        return "", ""
    if entry.n_starts == 1:
        cur = entry.current(0)
        if cur is None:
            return "—", "no finite loss"
        return f"{cur[1]:.4g}", f"loss at step {entry.last_k:,}: {cur[1]!r}"
    last = []
    for i in range(entry.n_starts):
        cur = entry.current(i)
        if cur is not None:
            last.append(cur[1])
    if not last:
        return "—", "no finite loss"
    best = float(np.min(last))
    return f"{best:.4g}", f"lowest last loss of the {entry.n_starts} starts: {best!r}"


class RunList(QWidget):
    """A tree of the model's runs (see the module docstring), with Remove / Remove all buttons under it."""

    sig_remove_requested = Signal(list)
    sig_clear_requested = Signal()

    def __init__(self, model: RunModel | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setObjectName("run_list")
        self.tree.setColumnCount(len(HEADERS))
        self.tree.setHeaderLabels(list(HEADERS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAllColumnsShowFocus(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.tree.setIconSize(QSize(14, 14))
        self.tree.setToolTip("Every run until removed. Tick to show, untick to hide (views and export); "
                             "double-click a name to rename; Delete removes the selected runs.")
        h = self.tree.header()
        h.setStretchLastSection(False)
        h.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        for c in (COL_STATUS, COL_LOSS):
            h.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(COL_REMOVE, QHeaderView.ResizeMode.Fixed)
        h.resizeSection(COL_REMOVE, 26)
        self.tree.setMinimumHeight(120)

        st = self.style()
        self.remove_button = QPushButton(st.standardIcon(QStyle.StandardPixmap.SP_TrashIcon), "Remove")
        self.remove_button.setToolTip("Remove the selected runs (Delete)")
        self.clear_button = QPushButton(st.standardIcon(QStyle.StandardPixmap.SP_DialogResetButton), "Remove all")
        self.clear_button.setToolTip("Stop and remove every run (same as Reset)")
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.tree, 1)
        lay.addLayout(buttons)

        self._items: dict[int, QTreeWidgetItem] = {}
        self._updating = False
        self.tree.itemChanged.connect(self._on_item_changed)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button.clicked.connect(self.sig_clear_requested)
        self.tree.installEventFilter(self)  # Delete / Backspace remove the selected runs
        self.model: RunModel | None = None
        if model is not None:
            self.set_model(model)
        self._update_buttons()

    # --- model wiring ------------------------------------------------------------------------------
    def set_model(self, model: RunModel) -> None:
        self.model = model
        model.sig_added.connect(self._on_added)
        model.sig_removed.connect(self._on_removed)
        model.sig_cleared.connect(self._on_cleared)
        model.sig_status.connect(self._refresh)
        model.sig_visibility.connect(self._refresh)
        model.sig_renamed.connect(self._refresh)
        model.sig_data.connect(self._on_data)
        for e in model:
            self._on_added(e.run_id)

    def _on_added(self, run_id: int) -> None:
        if run_id in self._items or self.model is None or self.model.get(run_id) is None:
            return
        it = QTreeWidgetItem()
        it.setData(COL_NAME, Qt.ItemDataRole.UserRole, run_id)
        it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEditable)
        it.setTextAlignment(COL_LOSS, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._items[run_id] = it
        self._updating = True
        try:
            self.tree.addTopLevelItem(it)
        finally:
            self._updating = False
        btn = QToolButton()
        btn.setAutoRaise(True)
        btn.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton))
        btn.setToolTip("Remove this run")
        btn.setObjectName(f"remove_run_{run_id}")
        btn.clicked.connect(lambda _=False, rid=run_id: self.sig_remove_requested.emit([rid]))
        self.tree.setItemWidget(it, COL_REMOVE, btn)
        self._refresh(run_id)
        self._update_buttons()

    def _on_removed(self, run_id: int) -> None:
        it = self._items.pop(run_id, None)
        if it is not None:
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(it))
        self._update_buttons()

    def _on_cleared(self) -> None:
        self._items.clear()
        self.tree.clear()
        self._update_buttons()

    def _on_data(self, run_ids: list) -> None:
        for rid in run_ids:
            self._refresh_loss(rid)

    def _refresh(self, run_id: int) -> None:
        it = self._items.get(run_id)
        e = self.model.get(run_id) if self.model is not None else None
        if it is None or e is None:
            return
        self._updating = True
        try:
            it.setIcon(COL_NAME, swatch(e.color))
            it.setText(COL_NAME, e.label)
            it.setCheckState(COL_NAME, Qt.CheckState.Checked if e.visible else Qt.CheckState.Unchecked)
            cfg = e.config
            tip = (f"{e.label}: {cfg.optimizer} "
                   + ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in cfg.hp.items())
                   + f" on {cfg.objective_spec}, {cfg.epochs:,} epochs")
            # Qt renders a tooltip that looks like HTML as HTML: a run name such as <img src=...> must stay text
            it.setToolTip(COL_NAME, "<qt>" + html.escape(tip) + "</qt>")
            it.setText(COL_STATUS, str(e.status))
            it.setToolTip(COL_STATUS, e.message or STATUS_TIPS.get(e.status, str(e.status)))
            if e.status in (Status.DIVERGED, Status.FAILED):
                it.setForeground(COL_STATUS, QColor("#d93025"))
            else:
                it.setData(COL_STATUS, Qt.ItemDataRole.ForegroundRole, None)
        finally:
            self._updating = False
        self._refresh_loss(run_id)

    def _refresh_loss(self, run_id: int) -> None:
        it = self._items.get(run_id)
        e = self.model.get(run_id) if self.model is not None else None
        if it is None or e is None:
            return
        text, tip = loss_text(e)
        self._updating = True
        try:
            it.setText(COL_LOSS, text)
            it.setToolTip(COL_LOSS, tip)
        finally:
            self._updating = False

    # --- user actions ------------------------------------------------------------------------------
    def _on_item_changed(self, it: QTreeWidgetItem, column: int) -> None:
        if self._updating or self.model is None or column != COL_NAME:
            return
        rid = int(it.data(COL_NAME, Qt.ItemDataRole.UserRole))
        e = self.model.get(rid)
        if e is None:
            return
        visible = it.checkState(COL_NAME) == Qt.CheckState.Checked
        if visible != e.visible:
            self.model.set_visible(rid, visible)
        if it.text(COL_NAME) != e.label:
            try:
                self.model.rename(rid, it.text(COL_NAME))
            except ValueError:
                pass
            self._refresh(rid)  # show the name kept (an empty name is refused, a taken one numbered)

    def eventFilter(self, obj, ev) -> bool:
        if obj is self.tree and ev.type() == QEvent.Type.KeyPress and \
                ev.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.tree.state() != \
                QAbstractItemView.State.EditingState:
            self.remove_selected()
            return True
        return super().eventFilter(obj, ev)

    def selected_ids(self) -> list[int]:
        return [int(it.data(COL_NAME, Qt.ItemDataRole.UserRole)) for it in self.tree.selectedItems()]

    def remove_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.sig_remove_requested.emit(ids)

    def item(self, run_id: int) -> QTreeWidgetItem | None:
        return self._items.get(run_id)

    def row_ids(self) -> list[int]:
        """Run ids in the order shown."""
        return [int(self.tree.topLevelItem(i).data(COL_NAME, Qt.ItemDataRole.UserRole))
                for i in range(self.tree.topLevelItemCount())]

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(bool(self.tree.selectedItems()))
        self.clear_button.setEnabled(self.tree.topLevelItemCount() > 0)


if __name__ == "__main__":  # preview: python -m gdstudio.gui.views.run_list
    import sys

    from PySide6.QtWidgets import QApplication

    from gdstudio.core.runs import RunConfig, run
    from gdstudio.gui.run_model import StepBatch

    app = QApplication(sys.argv)
    model = RunModel()
    rl = RunList(model)
    for lr in (0.1, 0.01, 0.12):
        cfg = RunConfig.create("booth", "gd", starts=[(-8.0, 8.0)], epochs=60, hyperparams={"lr": lr})
        e = model.add(cfg, cfg.build_objective())
        res = run(cfg)
        t = res[0]
        n = len(t.x)
        model.add_batches([StepBatch(e.run_id, np.arange(n), t.x[:, None], t.loss[:, None], t.grad[:, None],
                                     np.ones((n, 1), bool), np.zeros((n, 1), bool))])
        model.finish(e.run_id, res)
    rl.sig_remove_requested.connect(lambda ids: [model.remove(i) for i in ids])
    rl.sig_clear_requested.connect(model.clear)
    rl.resize(360, 220)
    rl.show()
    sys.exit(app.exec())
