"""A form built from the core's hyperparameter specs (:class:`~gdstudio.core.optimizers.HyperParam`).

Each spec gives its widget: ``choice`` → combo box, ``bool`` → check box, ``int`` → spin box (range
enforced), ``float`` → a line edit validated by the spec itself (``HyperParam.parse``), with the error
shown under the field. Up/Down arrows in a float field step it: ×/÷ 2 for ``log`` specs (learning rates),
±10 % otherwise. Tooltips show the spec's ``doc`` and range (and the optimizer's update rule).

Objective parameters use the same spec type (:class:`~gdstudio.core.specs.HyperParam`), so the same form.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gdstudio.core.optimizers import HyperParam

INT_LIMIT = 2**31 - 1
ERROR_STYLE = "QLineEdit { border: 2px solid #d93025; }"


def format_number(v: float) -> str:
    return f"{v:.6g}"


class FloatEdit(QLineEdit):
    """A line edit for a float spec: validated on every edit; arrows step it."""

    def __init__(self, spec: HyperParam, parent=None):
        super().__init__(parent)
        self.spec = spec
        self.setText(format_number(spec.default))

    def keyPressEvent(self, ev):
        if ev.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            try:
                v = float(self.spec.parse(self.text()))
            except ValueError:
                return super().keyPressEvent(ev)
            up = ev.key() == Qt.Key.Key_Up
            if self.spec.log and v > 0:
                v = v * 2 if up else v / 2
            else:
                d = abs(v) * 0.1 or 0.1
                v = v + d if up else v - d
            try:
                v = self.spec.parse(v)
            except ValueError:
                return
            self.setText(format_number(v))
            self.textEdited.emit(self.text())
            return
        super().keyPressEvent(ev)


class ParamForm(QWidget):
    """Widgets for a list of specs; :meth:`values` returns the parsed values or raises ValueError."""

    sig_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._layout = QFormLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.specs: list[HyperParam] = []
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.rule = ""
        self._building = False

    def set_specs(self, specs: Iterable[HyperParam], values: dict[str, Any] | None = None, rule: str = "") -> None:
        """Rebuild the form. No ``sig_changed`` is emitted while it is built (a listener calling
        :meth:`values` would meet a half-built form: ``KeyError`` for the editors not made yet)."""
        self._building = True
        try:
            self._build(specs, values, rule)
        finally:
            self._building = False

    def _emit_changed(self, *_args) -> None:
        if not self._building:
            self.sig_changed.emit()

    def _build(self, specs: Iterable[HyperParam], values: dict[str, Any] | None, rule: str) -> None:
        while self._layout.rowCount():
            self._layout.removeRow(0)
        self.specs = list(specs)
        self.editors.clear()
        self.errors.clear()
        self.rule = rule
        values = values or {}
        for spec in self.specs:
            editor = self._make_editor(spec)
            self.editors[spec.name] = editor
            tip = f"<b>{spec.symbol or spec.name}</b> ({spec.name}): {spec.doc}<br>valid: {spec.range_text()}"
            if rule:
                tip += f"<br>update rule: {rule}"
            editor.setToolTip(tip)
            label = QLabel(f"{spec.symbol} {spec.name}".strip() if spec.symbol else spec.name)
            label.setToolTip(tip)
            if isinstance(editor, FloatEdit):
                box = QWidget()
                v = QVBoxLayout(box)
                v.setContentsMargins(0, 0, 0, 0)
                v.setSpacing(0)
                err = QLabel("")
                err.setStyleSheet("color: #d93025;")
                err.setWordWrap(True)
                err.hide()
                v.addWidget(editor)
                v.addWidget(err)
                self.errors[spec.name] = err
                self._layout.addRow(label, box)
            else:
                self._layout.addRow(label, editor)
            if spec.name in values:
                self.set_value(spec.name, values[spec.name])

    def _make_editor(self, spec: HyperParam) -> QWidget:
        if spec.kind == "choice":
            w = QComboBox()
            w.addItems([str(c) for c in spec.choices])
            w.setCurrentText(str(spec.default))
            w.currentIndexChanged.connect(self._emit_changed)
        elif spec.kind == "bool":
            w = QCheckBox()
            w.setChecked(bool(spec.default))
            w.toggled.connect(self._emit_changed)
        elif spec.kind == "int":
            w = QSpinBox()
            lo = -INT_LIMIT if math.isinf(spec.low) else int(math.ceil(spec.low)) + (1 if spec.low_open else 0)
            hi = INT_LIMIT if math.isinf(spec.high) else int(math.floor(spec.high)) - (1 if spec.high_open else 0)
            w.setRange(max(lo, -INT_LIMIT), min(hi, INT_LIMIT))
            w.setValue(int(spec.default))
            w.valueChanged.connect(self._emit_changed)
        else:
            w = FloatEdit(spec)
            w.textEdited.connect(lambda _t, n=spec.name: self._validate(n))
            w.editingFinished.connect(self._emit_changed)
        w.setObjectName(f"param_{spec.name}")
        return w

    def _validate(self, name: str) -> bool:
        editor = self.editors[name]
        spec = next(s for s in self.specs if s.name == name)
        try:
            spec.parse(editor.text())
        except ValueError as exc:
            editor.setStyleSheet(ERROR_STYLE)
            self.errors[name].setText(str(exc))
            self.errors[name].show()
            return False
        editor.setStyleSheet("")
        self.errors[name].hide()
        return True

    def set_value(self, name: str, value: Any) -> None:
        w = self.editors[name]
        if isinstance(w, QComboBox):
            w.setCurrentText(str(value))
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QSpinBox):
            w.setValue(int(value))
        else:
            w.setText(format_number(float(value)) if isinstance(value, (int, float)) else str(value))
            self._validate(name)

    def values(self) -> dict[str, Any]:
        """The parsed values; raises ValueError naming the first invalid field (and marks it)."""
        out = {}
        for spec in self.specs:
            w = self.editors[spec.name]
            if isinstance(w, QComboBox):
                raw = w.currentText()
            elif isinstance(w, QCheckBox):
                raw = w.isChecked()
            elif isinstance(w, QSpinBox):
                raw = w.value()
            else:
                raw = w.text()
                if not self._validate(spec.name):
                    pass
            out[spec.name] = spec.parse(raw)
        return out


if __name__ == "__main__":  # preview: python -m gdstudio.gui.views.param_form
    import sys

    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv)
    form = ParamForm()
    form.set_specs([
        HyperParam("lr", 0.01, 0.0, math.inf, doc="learning rate", low_open=True, log=True, symbol="ε"),
        HyperParam("momentum", 0.9, 0.0, 1.0, doc="momentum coefficient", high_open=True, symbol="β"),
        HyperParam("nesterov", False, kind="bool", doc="Nesterov look-ahead"),
        HyperParam("mode", "a", kind="choice", choices=("a", "b"), doc="a choice"),
        HyperParam("k", 3, 1, 10, kind="int", doc="an integer"),
    ], rule="v ← βv + ∇f(x); x ← x − εv")
    form.sig_changed.connect(lambda: print(form.values()))
    form.show()
    sys.exit(app.exec())
