"""The control panel: Problem, Optimizer, Start, Gradient, Runs. It produces an immutable RunConfig.

Everything the user sets here ends in :meth:`SidePanel.current_config`, which returns a validated
:class:`~gdstudio.core.runs.RunConfig` or raises ``ValueError`` with a message naming the field and the
valid values (the panel also shows it under the form). Forms are built from the core's specs:
``Objective.parameters()`` and the optimizer's ``HyperParam`` list.

Signals: ``sig_objective_changed`` (the objective or its parameters changed: the views must redraw),
``sig_config_changed`` (anything else changed), ``sig_start_changed(x, y)`` (the start fields were edited).
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gdstudio.core.gradients import DEFAULT_FD_STEP, GRADIENT_METHODS
from gdstudio.core.objectives import EXPR_PREFIX, Objective, get_objective, objective_names
from gdstudio.core.optimizers import OPTIMIZERS, optimizer_class, optimizer_names
from gdstudio.core.runs import RunConfig
from gdstudio.gui.run_model import RunModel
from gdstudio.gui.views import rule_editor
from gdstudio.gui.views.formula_field import EXAMPLE as FORMULA_EXAMPLE
from gdstudio.gui.views.formula_field import FormulaField
from gdstudio.gui.views.param_form import ERROR_STYLE, ParamForm, format_number
from gdstudio.gui.views.run_list import RunList

MAX_EPOCHS = 100_000_000
#: The objective list's last entry: the user's own formula (see :mod:`gdstudio.gui.views.formula_field`).
CUSTOM_TEXT = "Your own function f(x, y)…"

GRADIENT_TIPS = {
    "analytic": "the gradient written by hand (or derived symbolically)",
    "central": "central differences: (f(x+h) − f(x−h)) / 2h, error O(h²)",
    "forward": "forward differences: (f(x+h) − f(x)) / h, error O(h)",
    "autodiff": "reverse-mode automatic differentiation: the chain rule applied backwards through the formula's "
                "computation graph (See why ▸ Computation graph)",
}


def _number(text: str, what: str, optional: bool = False) -> float | None:
    t = text.strip()
    if not t and optional:
        return None
    try:
        v = float(t)
    except ValueError:
        raise ValueError(f"{what} must be a number, got {text!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{what} must be finite, got {text!r}")
    return v


class _FormsArea(QScrollArea):
    """The forms, scrolled when the panel is shorter than they are, never taller than they need."""

    def sizeHint(self) -> QSize:
        w = self.widget()
        if w is None:
            return super().sizeHint()
        m = 2 * self.frameWidth()
        hint = w.sizeHint()
        return QSize(hint.width() + m + self.verticalScrollBar().sizeHint().width(), hint.height() + m)

    def eventFilter(self, obj, ev) -> bool:
        if obj is self.widget() and ev.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # a form got rows (another optimizer): the panel re-divides its height
        return super().eventFilter(obj, ev)


class SidePanel(QWidget):
    """Controls, grouped. Build a RunConfig with :meth:`current_config`; set them with :meth:`apply_config`.

    Layout: the forms (Problem, Optimizer, Start, Gradient) at the top, scrolled when the panel is short;
    the Runs group below them, always in view, taking the height the forms leave (the list grows with the
    panel).
    """

    sig_objective_changed = Signal()
    sig_config_changed = Signal()
    sig_start_changed = Signal(float, float)

    def __init__(self, model: RunModel | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.forms_area = _FormsArea()
        self.forms_area.setWidgetResizable(True)
        self.forms_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.forms_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.forms_area.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        body = QWidget()
        self.forms_area.setWidget(body)
        body.installEventFilter(self.forms_area)
        outer = QVBoxLayout(body)
        self._custom: Objective | None = None  # an objective instance not in the built-in list
        #: A refusal that names no single field (shown at the top, where it is seen without scrolling).
        self.error_label = QLabel()
        self.error_label.setObjectName("panel_error")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #d93025; font-weight: bold;")
        self.error_label.hide()
        outer.addWidget(self.error_label)
        #: Fields checked by the panel itself → the red message under each (hyperparameters have theirs
        #: in their form).
        self.field_errors: dict[QLineEdit, QLabel] = {}

        # --- Problem
        g = QGroupBox("Problem")
        f = QFormLayout(g)
        self.objective_combo = QComboBox()
        for name in objective_names():
            obj = get_objective(name)
            self.objective_combo.addItem(obj.title or name, name)
            self.objective_combo.setItemData(self.objective_combo.count() - 1, obj.describe(),
                                             Qt.ItemDataRole.ToolTipRole)
        self.objective_combo.addItem(CUSTOM_TEXT, EXPR_PREFIX)
        self.objective_combo.setItemData(self.objective_combo.count() - 1, "Type a formula of your own",
                                         Qt.ItemDataRole.ToolTipRole)
        self.objective_combo.setToolTip("The loss surface f(x, y) to minimise")
        for combo in (self.objective_combo,):  # long entries must not widen the panel past its dock
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)
        f.addRow("objective", self.objective_combo)
        self.formula_field = FormulaField()
        self.formula_field.hide()
        f.addRow(self.formula_field)
        self.formula_label = QLabel()
        self.formula_label.setWordWrap(True)
        self.formula_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        f.addRow(self.formula_label)
        self.objective_form = ParamForm()
        f.addRow(self.objective_form)
        outer.addWidget(g)

        # --- Optimizer
        g = QGroupBox("Optimizer")
        f = QFormLayout(g)
        self.optimizer_combo = QComboBox()
        for name in optimizer_names():
            cls = OPTIMIZERS[name]
            self.optimizer_combo.addItem(cls.title or name, name)
            self.optimizer_combo.setItemData(self.optimizer_combo.count() - 1, cls.rule, Qt.ItemDataRole.ToolTipRole)
        self.optimizer_combo.setToolTip("The method that takes the steps")
        f.addRow("method", self.optimizer_combo)
        self.rule_choice = rule_editor.install(self)  # "Own rule…": the user's update rule
        self.rule_label = QLabel()
        self.rule_label.setWordWrap(True)
        self.rule_label.setObjectName("rule_label")
        self.rule_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        f.addRow(self.rule_label)
        self.hp_form = ParamForm()
        f.addRow(self.hp_form)
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(0, MAX_EPOCHS)
        self.epochs_spin.setGroupSeparatorShown(True)
        self.epochs_spin.setValue(1000)
        self.epochs_spin.setToolTip("Number of updates (epochs) to run")
        f.addRow("epochs", self.epochs_spin)
        self.tol_edit = QLineEdit()
        self.tol_edit.setPlaceholderText("none")
        self.tol_edit.setToolTip("Stop when ‖∇f‖ ≤ this tolerance (empty: run every epoch)")
        f.addRow("stop at ‖∇f‖ ≤", self._with_error(self.tol_edit))
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip("Seed of the random numbers (random methods only): the same seed replays "
                                  "the same run")
        f.addRow("seed", self.seed_spin)
        outer.addWidget(g)

        # --- Start
        g = QGroupBox("Start")
        f = QFormLayout(g)
        row = QWidget()
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        self.x0_edit = QLineEdit("-1.5")
        self.y0_edit = QLineEdit("2")
        for w, n in ((self.x0_edit, "x₀"), (self.y0_edit, "y₀")):
            w.setToolTip(f"{n}: start coordinate (or click on the contour or 3D view)")
            h.addWidget(QLabel(n))
            h.addWidget(w, 1)
        f.addRow(row)
        start_error = self._error_label()
        self.field_errors[self.x0_edit] = self.field_errors[self.y0_edit] = start_error
        f.addRow(start_error)
        hint = QLabel("or click on a view")
        hint.setEnabled(False)
        f.addRow(hint)
        outer.addWidget(g)

        # --- Gradient
        g = QGroupBox("Gradient")
        f = QFormLayout(g)
        self.gradient_combo = QComboBox()
        for m in GRADIENT_METHODS:
            self.gradient_combo.addItem(m, m)
            self.gradient_combo.setItemData(self.gradient_combo.count() - 1, GRADIENT_TIPS.get(m, m),
                                            Qt.ItemDataRole.ToolTipRole)
        self.gradient_combo.setToolTip("Where the gradient comes from")
        f.addRow("source", self.gradient_combo)
        self.h_edit = QLineEdit()
        self.h_edit.setToolTip("Finite-difference step h (empty: the scheme's default)")
        f.addRow("h", self._with_error(self.h_edit))
        outer.addWidget(g)

        outer.addStretch(1)
        body.setMinimumWidth(230)

        # --- Runs: below the forms, always in view; takes the height the forms leave
        g = QGroupBox("Runs")
        g.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        v = QVBoxLayout(g)
        v.setContentsMargins(4, 4, 4, 4)
        self.runs_list = RunList()  # a run list: colour, name, visible, status, loss, remove
        v.addWidget(self.runs_list)
        self.runs_box = g
        panel = QVBoxLayout(self)
        panel.setContentsMargins(0, 0, 0, 0)
        panel.addWidget(self.forms_area)
        panel.addWidget(g, 1)
        self.setMinimumWidth(250)

        # wiring
        self.objective_combo.currentIndexChanged.connect(self._on_objective_combo)
        self.formula_field.sig_objective_ready.connect(self._on_formula_ready)
        self.objective_form.sig_changed.connect(self._on_objective_params)
        self.optimizer_combo.currentIndexChanged.connect(self._on_optimizer_combo)
        self.hp_form.sig_changed.connect(self.sig_config_changed)
        self.epochs_spin.valueChanged.connect(self.sig_config_changed)
        self.seed_spin.valueChanged.connect(self.sig_config_changed)
        self.gradient_combo.currentIndexChanged.connect(self._on_gradient_combo)
        self.h_edit.editingFinished.connect(self.sig_config_changed)
        self.tol_edit.editingFinished.connect(self.sig_config_changed)
        for w in (self.x0_edit, self.y0_edit):
            w.editingFinished.connect(self._on_start_edited)
        for w in (self.x0_edit, self.y0_edit, self.h_edit, self.tol_edit):
            w.textChanged.connect(lambda _t, w=w: self._recheck(w))  # a fixed field loses its red border

        self._on_objective_combo(refresh=False)
        self._on_optimizer_combo()
        self._on_gradient_combo()
        self.model: RunModel | None = None
        if model is not None:
            self.set_model(model)

    # --- objective -------------------------------------------------------------------------------------
    def objective_name(self) -> str:
        return self._custom.spec() if self._custom is not None else self.objective_combo.currentData()

    def current_objective(self) -> Objective:
        """The objective the panel describes (raises ValueError if a parameter is invalid)."""
        if self._custom is not None:
            return self._custom
        if self.objective_combo.currentData() == EXPR_PREFIX:
            if self.formula_field.busy():
                raise ValueError("your formula is still being compiled: try again when the map shows it")
            raise ValueError("type a valid formula f(x, y) first (or choose a built-in objective)")
        return get_objective(self.objective_combo.currentData(), self.objective_form.values())

    def shows(self, objective: Objective) -> bool:
        """Whether the panel already describes ``objective`` (same spec and parameters)."""
        if self._custom is not None:
            return self._custom is objective
        try:
            params = self.objective_form.values()
        except ValueError:
            return False
        return objective.spec() == self.objective_combo.currentData() and params == dict(objective.params)

    def set_objective(self, objective: Objective) -> None:
        """Show ``objective`` (a built-in by name, or any instance, e.g. a custom formula)."""
        idx = self.objective_combo.findData(objective.name)
        self.objective_combo.blockSignals(True)
        try:
            if idx >= 0 and objective.spec() == objective.name:
                self._custom = None
                self.formula_field.cancel()  # a formula still compiling must not replace it later
                self._drop_custom_item()
                self.objective_combo.setCurrentIndex(self.objective_combo.findData(objective.name))
                self._build_objective_form(dict(objective.params))
            else:
                self._custom = objective
                self._drop_custom_item()
                self.objective_combo.setCurrentIndex(self.objective_combo.findData(EXPR_PREFIX))
                self.objective_form.set_specs([])
                if objective.spec().startswith(EXPR_PREFIX):
                    self.formula_field.show_objective(objective)
        finally:
            self.objective_combo.blockSignals(False)
        self.formula_field.setVisible(self._custom is not None)
        self.formula_label.setText(f"f = {objective.formula}" if objective.formula else "")
        self.formula_label.setToolTip(objective.notes or objective.describe())

    def _drop_custom_item(self) -> None:
        # The custom entry (data EXPR_PREFIX) is permanent; its text and tooltip follow the formula shown.
        i = self.objective_combo.findData(EXPR_PREFIX)
        c = self._custom
        text = CUSTOM_TEXT if c is None else f"Your own: {c.title}"
        self.objective_combo.setItemText(i, text if len(text) <= 44 else text[:43] + "…")
        tip = f"{c.title}: f = {c.formula}" if c is not None else "Type a formula of your own"
        self.objective_combo.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)

    def _build_objective_form(self, values: dict[str, Any] | None = None) -> None:
        if str(self.objective_combo.currentData()).startswith(EXPR_PREFIX):
            self.objective_form.set_specs([])
            return
        cls = type(get_objective(self.objective_combo.currentData()))
        self.objective_form.set_specs(list(cls.parameters()), values)

    def _on_objective_combo(self, *_args, refresh: bool = True) -> None:
        if str(self.objective_combo.currentData()).startswith(EXPR_PREFIX):
            # the user's own function: show the field; the surface changes once its formula compiled
            self.objective_form.set_specs([])
            self.formula_field.show()
            if not self.formula_field.text():
                recent = self.formula_field.recent()
                self.formula_field.set_formula(recent[0] if recent else FORMULA_EXAMPLE, check=False)
            self.formula_field.check_now()
            self.formula_field.formula_edit.setFocus()
            return
        self._custom = None
        self.formula_field.cancel()  # a formula still compiling must not take the built-in's place later
        self.formula_field.hide()
        self._drop_custom_item()
        self._build_objective_form()
        obj = get_objective(self.objective_combo.currentData())
        self.formula_label.setText(f"f = {obj.formula}")
        self.formula_label.setToolTip(obj.notes or obj.describe())
        if refresh:
            self.sig_objective_changed.emit()

    def show_formula(self, text: str, title: str = "", domain: dict[str, float] | None = None) -> None:
        """Select "your own formula" with ``text`` in the field and compile it in the background, as if typed:
        the objective changes (``sig_objective_changed``) once it is ready; a refused formula stays in the
        field with its message (``formula_field.sig_invalid``). Used for a formula remembered in the settings."""
        self.objective_combo.blockSignals(True)
        self.objective_combo.setCurrentIndex(self.objective_combo.findData(EXPR_PREFIX))
        self.objective_combo.blockSignals(False)
        self.objective_form.set_specs([])
        self.formula_label.setText("")  # the field says how its check goes
        self.formula_field.show()
        self.formula_field.set_formula(text, title or "", domain or {}, check=True)

    def _on_formula_ready(self, objective: Objective) -> None:
        """The formula field compiled a valid formula: it becomes the objective (the views redraw)."""
        if objective is self._custom:
            return  # already shown (Enter on an unchanged formula): the runs stay
        self._custom = objective
        self.objective_combo.blockSignals(True)
        self.objective_combo.setCurrentIndex(self.objective_combo.findData(EXPR_PREFIX))
        self.objective_combo.blockSignals(False)
        self._drop_custom_item()
        self.formula_label.setText(f"f = {objective.formula}")
        self.formula_label.setToolTip(objective.notes)
        self.show_error("")
        self.sig_objective_changed.emit()

    def _on_objective_params(self) -> None:
        try:
            self.objective_form.values()
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.show_error("")
        self.sig_objective_changed.emit()

    # --- optimizer -------------------------------------------------------------------------------------
    def optimizer_name(self) -> str:
        return self.optimizer_combo.currentData()

    def _on_optimizer_combo(self, *_args, values: dict[str, Any] | None = None) -> None:
        cls = optimizer_class(self.optimizer_name())
        self.hp_form.set_specs(cls.hyperparams, values, rule=cls.rule)
        self.rule_label.setText(f"<b>{cls.title}</b><br><span style='font-size: 12pt'>{cls.rule}</span>")
        self.rule_label.setToolTip((cls.__doc__ or "").strip().split("\n\n")[0] +
                                   (f"\n\nReference: {cls.reference}" if cls.reference else ""))
        self.seed_spin.setEnabled(bool(cls.stochastic))
        self.sig_config_changed.emit()

    def refresh_optimizer(self) -> None:
        """Rebuild the optimizer's form and rule text (the chosen optimizer's spec changed, e.g. a new rule)."""
        self._on_optimizer_combo()

    def _on_gradient_combo(self, *_args) -> None:
        m = self.gradient_combo.currentData()
        fd = m in DEFAULT_FD_STEP
        self.h_edit.setEnabled(fd)
        if not fd:
            self._clear_mark(self.h_edit)  # h is not used by the analytic gradient
        self.h_edit.setPlaceholderText(f"default {DEFAULT_FD_STEP[m]:g}" if fd else "—")
        self.sig_config_changed.emit()

    # --- start -------------------------------------------------------------------------------------------
    def start(self) -> tuple[float, float]:
        return (_number(self.x0_edit.text(), "x₀"), _number(self.y0_edit.text(), "y₀"))

    def set_start(self, x: float, y: float) -> None:
        self.x0_edit.setText(format_number(x))
        self.y0_edit.setText(format_number(y))

    # --- fields the panel checks (start, h, tolerance) --------------------------------------------------
    @staticmethod
    def _error_label() -> QLabel:
        err = QLabel("")
        err.setStyleSheet("color: #d93025;")
        err.setWordWrap(True)
        err.hide()
        return err

    def _with_error(self, edit: QLineEdit) -> QWidget:
        """``edit`` with a red message line under it (hidden while the field is valid)."""
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(0)
        err = self._error_label()
        v.addWidget(edit)
        v.addWidget(err)
        self.field_errors[edit] = err
        return box

    def _parse_field(self, w: QLineEdit) -> float | None:
        """The value of a checked field; ValueError naming the field and what it must be."""
        if w is self.x0_edit:
            return _number(w.text(), "x₀")
        if w is self.y0_edit:
            return _number(w.text(), "y₀")
        if w is self.h_edit:
            if self.gradient_combo.currentData() not in DEFAULT_FD_STEP:
                return None
            h = _number(w.text(), "h", optional=True)
            if h is not None and h <= 0:
                raise ValueError(f"h must be a positive number, got {w.text()!r}")
            return h
        tol = _number(w.text(), "the tolerance", optional=True)
        if tol is not None and tol < 0:
            raise ValueError(f"the tolerance must be ≥ 0, got {w.text()!r}")
        return tol

    def _check(self, w: QLineEdit) -> float | None:
        """:meth:`_parse_field`, marking the field (red border, message under it) when it is wrong."""
        try:
            v = self._parse_field(w)
        except ValueError as exc:
            w.setStyleSheet(ERROR_STYLE)
            err = self.field_errors[w]
            err.setText(str(exc))
            err.show()
            raise
        self._clear_mark(w)
        return v

    def _clear_mark(self, w: QLineEdit) -> None:
        w.setStyleSheet("")
        err = self.field_errors[w]
        others = [o for o, e in self.field_errors.items() if e is err and o is not w]
        if not any(o.styleSheet() for o in others):  # x₀ and y₀ share one message line
            err.hide()

    def _recheck(self, w: QLineEdit) -> None:
        if not w.styleSheet():
            return  # not marked: nothing to clear while the user types
        try:
            self._check(w)
        except ValueError:
            return

    def marked_fields(self) -> list[QLineEdit]:
        """The fields currently marked wrong (red border)."""
        return [w for w in self.field_errors if w.styleSheet()]

    def _on_start_edited(self) -> None:
        try:
            x, y = self._check(self.x0_edit), self._check(self.y0_edit)
        except ValueError:
            return
        self.sig_start_changed.emit(x, y)

    # --- the config ---------------------------------------------------------------------------------------
    def current_config(self) -> RunConfig:
        """The validated RunConfig the controls describe; ValueError otherwise, shown beside the wrong field
        (red border, message under it) or, when it names no field, at the top of the panel."""
        try:
            cfg = self._build_config()
        except ValueError as exc:
            marked = self.marked_fields() or [w for w in self.hp_form.editors.values() if w.styleSheet()]
            self.show_error("" if marked else str(exc))
            raise
        self.show_error("")
        return cfg

    def _build_config(self) -> RunConfig:
        objective = self.current_objective()
        hp = self.hp_form.values()  # marks a wrong field of its own
        first: ValueError | None = None
        for w in (self.x0_edit, self.y0_edit, self.tol_edit, self.h_edit):  # mark every wrong field
            try:
                self._check(w)
            except ValueError as exc:
                first = first or exc
        if first is not None:
            raise first
        x, y = self.start()
        method = self.gradient_combo.currentData()
        h = self._parse_field(self.h_edit)
        tol = self._parse_field(self.tol_edit)
        kw: dict[str, Any] = dict(gradient=method, fd_step=h, tol=tol, seed=int(self.seed_spin.value()))
        cfg = RunConfig.create(objective.spec(), self.optimizer_name(), starts=[(x, y)],
                               epochs=int(self.epochs_spin.value()), hyperparams=hp,
                               objective_params=dict(objective.params), **kw)
        cfg.validate(objective)
        return cfg

    def apply_config(self, cfg: RunConfig, *, objective: bool = True) -> None:
        """Set every control from a RunConfig (sessions, settings, replays). With ``objective`` False the
        objective is left as it is and not announced (the caller shows one, e.g. :meth:`show_formula`)."""
        blockers = [self.objective_combo, self.optimizer_combo, self.gradient_combo]
        for w in blockers:
            w.blockSignals(True)
        try:
            idx = self.objective_combo.findData(cfg.objective)
            if not objective:
                pass
            elif idx >= 0 and not cfg.objective.startswith(EXPR_PREFIX):
                self.objective_combo.setCurrentIndex(idx)
                self._custom = None
                self._build_objective_form(dict(cfg.objective_params))
                obj = get_objective(cfg.objective, dict(cfg.objective_params))
                self.formula_label.setText(f"f = {obj.formula}")
            else:
                self.set_objective(cfg.build_objective())
            if cfg.optimizer.startswith("rule:"):
                self.rule_choice.set_rule(cfg.optimizer)
            self.optimizer_combo.setCurrentIndex(max(0, self.optimizer_combo.findData(cfg.optimizer)))
            self.gradient_combo.setCurrentIndex(max(0, self.gradient_combo.findData(cfg.gradient)))
        finally:
            for w in blockers:
                w.blockSignals(False)
        self._on_optimizer_combo(values=cfg.hp)
        self._on_gradient_combo()
        self.epochs_spin.setValue(cfg.epochs)
        self.seed_spin.setValue(cfg.seed)
        self.tol_edit.setText("" if cfg.tol is None else format_number(cfg.tol))
        self.h_edit.setText("" if cfg.fd_step is None else format_number(cfg.fd_step))
        if len(cfg.starts):
            self.set_start(*cfg.starts[0][:2])
        if objective:
            self.sig_objective_changed.emit()

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    # --- runs list ------------------------------------------------------------------------------------------
    def set_model(self, model: RunModel) -> None:
        self.model = model
        self.runs_list.set_model(model)


if __name__ == "__main__":  # preview: python -m gdstudio.gui.views.side_panel
    import sys

    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv)
    panel = SidePanel(RunModel())

    def show():
        try:
            print(panel.current_config())
        except ValueError as exc:
            print("invalid:", exc)

    panel.sig_config_changed.connect(show)
    panel.resize(320, 800)
    panel.show()
    sys.exit(app.exec())
