"""Compare runs: a learning-rate sweep and an optimizer race, as configs and as small dialogs.

*Learning-rate sweep*: one optimizer from one start at several learning rates ε (by default 0.1, 0.01,
0.001). Too small an ε crawls, a larger one gets there faster, then overshoots (zig-zags across a valley)
and, past the stability limit (ε > 2/λ_max of the Hessian for plain gradient descent on a quadratic),
diverges.

*Race*: several optimizers, each with its own hyperparameters, from the same start, animated together.

The configs are built here from a base :class:`~gdstudio.core.runs.RunConfig` (the panel's): everything
(objective, start, epochs, gradient, tolerance, seed) is shared; only the optimizer settings differ. Each
config is named (``"gd ε=0.1"``, ``"adam"``): the name is the run's label in the run list and the legend
and its ``run`` column in an exported CSV. The dialogs compute nothing: they collect values and hand back
configs (:meth:`SweepDialog.configs`, :meth:`RaceDialog.configs`).
"""

from __future__ import annotations

import html
import math
import re
from typing import Any, Mapping, Sequence

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gdstudio.core.objectives import EXPR_PREFIX
from gdstudio.core.optimizers import OPTIMIZERS, optimizer_class, optimizer_names
from gdstudio.core.rules import RULE_PREFIX, display_name, rule_label, rule_name
from gdstudio.core.runs import RunConfig
from gdstudio.gui.theme import RUN_COLORS
from gdstudio.gui.views.param_form import ERROR_STYLE, ParamForm

#: The sweep's learning rates unless the user types others.
DEFAULT_SWEEP = (0.1, 0.01, 0.001)
DEFAULT_SWEEP_TEXT = ", ".join(f"{v:g}" for v in DEFAULT_SWEEP)
#: Optimizers ticked when the race dialog opens (those that exist), besides the panel's own.
DEFAULT_RACE = ("gd", "momentum", "adam")
#: At most this many runs in one sweep or race: one distinct colour each.
MAX_COMPARED = len(RUN_COLORS)


def compare_icon(kind: str, size: int = 32) -> QIcon:
    """A small drawn icon: ``"sweep"`` (three paths fanning out from one start, like ε small to large) or
    ``"race"`` (three paths side by side to a finish line), in the first run colours."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 32
    for i, c in enumerate(RUN_COLORS[:3]):
        pen = QPen(QColor(c), 3.2 * s)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        if kind == "sweep":
            p.drawLine(QPointF(4 * s, 28 * s), QPointF((10 + 9 * i) * s, (5 + 3 * i) * s if i < 2 else 14 * s))
            if i == 2:
                p.drawLine(QPointF(19 * s, 14 * s), QPointF(28 * s, 20 * s))
        else:
            y = (7 + 9 * i) * s
            p.drawLine(QPointF(4 * s, y), QPointF((26 - 6 * i) * s, y))
    if kind != "sweep":
        p.setPen(QPen(QColor("#808080"), 1.5 * s))
        p.drawLine(QPointF(29 * s, 3 * s), QPointF(29 * s, 29 * s))
    p.end()
    return QIcon(pm)


def lr_text(lr: float) -> str:
    return f"{lr:g}"


def parse_lrs(text: str) -> list[float]:
    """Learning rates from text such as ``"0.1, 0.01, 1e-3"`` (commas, semicolons or spaces).

    Raises ValueError naming the first bad entry: each must be a finite number > 0; at least one and at most
    :data:`MAX_COMPARED`; no repeats.
    """
    parts = [p for p in re.split(r"[,;\s]+", text.strip()) if p]
    if not parts:
        raise ValueError(f"type one or more learning rates ε separated by commas, e.g. {DEFAULT_SWEEP_TEXT}")
    out: list[float] = []
    for p in parts:
        try:
            v = float(p)
        except ValueError:
            raise ValueError(f"ε must be a number, got {p!r} (e.g. {DEFAULT_SWEEP_TEXT})") from None
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"ε must be a finite number > 0, got {p!r}")
        if v in out:
            raise ValueError(f"ε = {p} is listed twice")
        out.append(v)
    if len(out) > MAX_COMPARED:
        raise ValueError(f"at most {MAX_COMPARED} learning rates at once (one colour each), got {len(out)}")
    return out


def sweep_configs(base: RunConfig, lrs: Sequence[float]) -> list[RunConfig]:
    """One config per learning rate: ``base`` with ``lr`` set, named ``"<optimizer> ε=<lr>"``.

    Raises ValueError if the optimizer has no learning rate or a value is out of its range.
    """
    cls = optimizer_class(base.optimizer)
    if not any(h.name == "lr" for h in cls.hyperparams):
        with_lr = [n for n in optimizer_names() if any(h.name == "lr" for h in OPTIMIZERS[n].hyperparams)]
        raise ValueError(f"{base.optimizer} has no learning rate ε to sweep; choose one of {', '.join(with_lr)}")
    if not lrs:
        raise ValueError("a sweep needs at least one learning rate")
    out = []
    for lr in lrs:
        cfg = base.replace(hyperparams={**base.hp, "lr": float(lr)},
                           name=f"{display_name(base.optimizer)} ε={lr_text(lr)}")
        cfg.build_optimizer()  # ValueError naming lr and its valid range
        out.append(cfg)
    return out


def race_configs(base: RunConfig, entries: Sequence[tuple[str, Mapping[str, Any]]]) -> list[RunConfig]:
    """One config per ``(optimizer, hyperparameters)`` pair, from ``base``'s start, named after the optimizer.

    Raises ValueError for an unknown optimizer, a bad hyperparameter, or no entry.
    """
    if not entries:
        raise ValueError("tick at least one optimizer to race")
    out = []
    used: dict[str, int] = {}
    for name, hp in entries:
        label = rule_label(name)  # a rule's own name ("# heavy ball" on its first line), else "own rule"
        used[label] = used.get(label, 0) + 1
        if used[label] > 1:  # two unnamed rules: "own rule", "own rule 2"
            label = f"{label} {used[label]}"
        cfg = base.replace(optimizer=name, hyperparams=dict(hp), name=label)
        try:
            cfg.build_optimizer()
        except ValueError as exc:
            raise ValueError(f"{display_name(name)}: {exc}") from None
        out.append(cfg)
    return out


def own_rule_text(spec: str, width: int = 44) -> str:
    """How a list names an own rule: ``"Own rule: heavy ball"`` (its :func:`~gdstudio.core.rules.rule_name`),
    or, unnamed, ``"Own rule: v = mu*v + g;  x = x - lr*v"`` cut to ``width`` characters."""
    name = rule_name(spec)
    if not name:
        name = optimizer_class(spec).rule
    text = f"Own rule: {name}"
    return text if len(text) <= width else text[:width - 1] + "…"


def _summary(base: RunConfig) -> str:
    start = ", ".join(f"{v:.4g}" for v in base.starts[0]) if len(base.starts) else ""
    obj = "custom" if base.objective_spec.startswith(EXPR_PREFIX) else base.objective_spec
    return f"{obj} · start ({start}) · {base.epochs:,} epochs"


class _CompareDialog(QDialog):
    """Shared parts: a summary line, an error line, "clear other runs", OK/Cancel (OK checks the input)."""

    def __init__(self, title: str, base: RunConfig, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.base = base
        self._configs: list[RunConfig] = []
        self.layout_ = QVBoxLayout(self)
        self.summary = QLabel(self.summary_text(base))
        self.summary.setToolTip("Shared by every run: objective, start, epochs, gradient and tolerance come "
                                "from the settings panel")
        self.layout_.addWidget(self.summary)
        self.body = QVBoxLayout()
        self.layout_.addLayout(self.body, 1)
        self.clear_others = QCheckBox("Remove the other runs first")
        self.clear_others.setChecked(True)
        self.clear_others.setToolTip("Untick to keep the runs already shown next to the new ones")
        self.layout_.addWidget(self.clear_others)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #d93025; font-weight: bold;")
        self.error_label.hide()
        self.layout_.addWidget(self.error_label)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.layout_.addWidget(self.buttons)

    #: The line that says what every run shares (Model mode's dialogs describe a training instead).
    summary_text = staticmethod(_summary)

    def build(self) -> list[RunConfig]:  # pragma: no cover - overridden
        raise NotImplementedError

    def configs(self) -> list[RunConfig]:
        """The configs the dialog describes (raises ValueError with a message)."""
        return self.build()

    @property
    def replace(self) -> bool:
        return self.clear_others.isChecked()

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))
        self.fit_height()

    def fit_height(self) -> None:
        """Grow to the height the content needs at the current width. Word-wrapped labels report their height
        only through heightForWidth, which a shown dialog does not re-ask: without this the error line took
        its height from the intro, cutting its last line ("diverges.")."""
        lay = self.layout()
        lay.activate()
        need = lay.totalHeightForWidth(self.width()) if lay.hasHeightForWidth() else lay.totalMinimumSize().height()
        if need > self.height():
            self.resize(self.width(), need)
        self.setMinimumHeight(need)

    def accept(self) -> None:
        try:
            self._configs = self.build()
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.show_error("")
        super().accept()


class SweepDialog(_CompareDialog):
    """Run ▸ Learning-rate sweep…: the panel's optimizer at several ε, from one start."""

    def __init__(self, base: RunConfig, parent: QWidget | None = None, text: str = DEFAULT_SWEEP_TEXT):
        super().__init__("Learning-rate sweep", base, parent)
        cls = optimizer_class(base.optimizer)
        intro = QLabel(f"<b>{cls.title or base.optimizer}</b> at several learning rates ε from the same "
                       "start: small ε crawls, larger ε is faster, then overshoots, and too large an ε "
                       "diverges.")
        intro.setWordWrap(True)
        self.body.addWidget(intro)
        form = QFormLayout()
        self.lr_edit = QLineEdit(text)
        self.lr_edit.setToolTip(f"Learning rates separated by commas (at most {MAX_COMPARED}); other settings "
                                f"of {base.optimizer} as in the panel: "
                                + ", ".join(f"{k}={v}" for k, v in base.hp.items() if k != "lr"))
        self.lr_edit.textEdited.connect(self._check)
        form.addRow("ε values", self.lr_edit)
        self.body.addLayout(form)
        self.setMinimumWidth(440)
        self._check()

    def _check(self, *_args) -> None:
        try:
            self.build()
        except ValueError as exc:
            self.lr_edit.setStyleSheet(ERROR_STYLE)
            self.show_error(str(exc))
            return
        self.lr_edit.setStyleSheet("")
        self.show_error("")

    def learning_rates(self) -> list[float]:
        return parse_lrs(self.lr_edit.text())

    def build(self) -> list[RunConfig]:
        return sweep_configs(self.base, self.learning_rates())


class RaceDialog(_CompareDialog):
    """Run ▸ Race optimizers…: tick optimizers, give each its own hyperparameters, race from one start.

    The form of each optimizer is built from its specs (defaults from the spec; the panel's optimizer
    starts with the panel's values). ``own_rules`` (specs ``"rule:<text>"``) are the user's own update
    rules, listed after the built-ins whatever the panel shows (the panel's rule too), each by its name
    (:func:`own_rule_text`).
    """

    def __init__(self, base: RunConfig, parent: QWidget | None = None, checked: Sequence[str] | None = None,
                 own_rules: Sequence[str] = ()):
        super().__init__("Race optimizers", base, parent)
        intro = QLabel("Several optimizers from the same start, animated together. Tick the ones to race; "
                       "select one to set its hyperparameters.")
        intro.setWordWrap(True)
        self.body.addWidget(intro)
        row = QHBoxLayout()
        self.list = QListWidget()
        self.list.setToolTip("Tick the optimizers to race")
        self.stack = QStackedWidget()
        self.forms: dict[str, ParamForm] = {}
        # the built-ins, then every own rule the user has (the panel's one too), by its spec "rule:<text>"
        rules = [r for r in own_rules if isinstance(r, str) and r.startswith(RULE_PREFIX)]
        if checked is None:  # the panel's optimizer, gd, momentum, adam, and the newest own rule (to race it)
            checked = [base.optimizer] + [n for n in DEFAULT_RACE if n != base.optimizer] + rules[-1:]
        if base.optimizer not in OPTIMIZERS:
            rules.append(base.optimizer)
        self.names = optimizer_names() + [r for r in dict.fromkeys(rules) if r not in OPTIMIZERS]
        for name in self.names:
            cls = optimizer_class(name)
            title = own_rule_text(name) if name.startswith(RULE_PREFIX) else (cls.title or name)
            item = QListWidgetItem(title)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(cls.rule)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in checked else Qt.CheckState.Unchecked)
            self.list.addItem(item)
            page = QWidget()
            v = QVBoxLayout(page)
            rule = QLabel(f"<b>{html.escape(title)}</b><br>{html.escape(cls.rule)}")
            rule.setWordWrap(True)
            v.addWidget(rule)
            form = ParamForm()
            form.set_specs(cls.hyperparams, base.hp if name == base.optimizer else None, rule=cls.rule)
            if not cls.hyperparams:
                v.addWidget(QLabel("(no hyperparameters)"))
            v.addWidget(form)
            v.addStretch(1)
            self.forms[name] = form
            self.stack.addWidget(page)
        self.list.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.list.setCurrentRow(max(0, self.names.index(base.optimizer)))
        row.addWidget(self.list, 2)
        row.addWidget(self.stack, 3)
        self.body.addLayout(row)
        self.setMinimumSize(620, 420)

    def set_checked(self, names: Sequence[str]) -> None:
        for i in range(self.list.count()):
            it = self.list.item(i)
            it.setCheckState(Qt.CheckState.Checked if it.data(Qt.ItemDataRole.UserRole) in names
                             else Qt.CheckState.Unchecked)

    def checked(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def entries(self) -> list[tuple[str, dict[str, Any]]]:
        """``(optimizer, hyperparameters)`` of the ticked optimizers (ValueError naming a bad field)."""
        out = []
        for name in self.checked():
            try:
                out.append((name, self.forms[name].values()))
            except ValueError as exc:
                self.list.setCurrentRow(self.names.index(name))
                raise ValueError(f"{display_name(name)}: {exc}") from None
        if len(out) > MAX_COMPARED:
            raise ValueError(f"at most {MAX_COMPARED} optimizers at once (one colour each), got {len(out)}")
        return out

    def build(self) -> list[RunConfig]:
        return race_configs(self.base, self.entries())


if __name__ == "__main__":  # preview: python -m gdstudio.gui.views.compare
    import sys

    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv)
    base = RunConfig.create("booth", "gd", starts=[(-8.0, 8.0)], epochs=200, hyperparams={"lr": 0.05})
    for dlg in (SweepDialog(base), RaceDialog(base)):
        if dlg.exec():
            for c in dlg.configs():
                print(c.name, c.optimizer, c.hp)
    sys.exit(0)
