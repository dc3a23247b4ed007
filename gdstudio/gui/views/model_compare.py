"""Model mode's learning-rate sweep and optimizer race: the function mode's dialogs on a training config.

Run ▸ Learning-rate sweep (F6) and Run ▸ Race optimizers (F7) open the same dialogs in both modes
(:mod:`gdstudio.gui.views.compare`): the sweep asks for a list of learning rates ε for the panel's optimizer, the
race for the optimizers to tick, each with a form of its hyperparameters. In Model mode the base is the panel's
:class:`~gdstudio.core.training.TrainConfig`: dataset, model and its parameters, batch size, validation split,
epochs, seed and initial weights are shared; only the optimizer settings differ.

What differs from the function mode:

* the summary line names the dataset, the model, the batch size and the epochs;
* every optimizer but the panel's starts with a learning rate that trains the models (``default_lr``, the
  panel's own table: the optimizers' defaults are made for the 2-D functions), and optimizers that do not train
  a model (``excluded``, e.g. random search) are not listed;
* runs are labelled ``"<optimizer> ε=<lr>"`` (each optimizer has its own learning rate here, so the label says it);
* Newton and BFGS, which refuse models above a size, are refused in the dialog (it stays open, saying why);
* a sweep or race replaces the trainings shown (one slice is drawn for all of them), so "remove the other runs
  first" is not offered.

The dialogs compute nothing; :func:`model_race_configs` and :func:`model_sweep_configs` build the configs
(also used without a dialog).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from gdstudio.core.rules import display_name
from gdstudio.core.training import TrainConfig
from gdstudio.gui.views.compare import RaceDialog, SweepDialog, race_configs, sweep_configs

#: The sweep's learning rates in Model mode unless the user types others (around the digits models' good ε).
MODEL_SWEEP_TEXT = "0.03, 0.1, 0.3"


def model_summary(base: TrainConfig) -> str:
    """``digits · svm · batches of 64 · 20 epochs``: what every run of the sweep or race shares."""
    from pathlib import Path

    batch = "full batches" if base.batch_size is None else f"batches of {base.batch_size}"
    return f"{Path(base.dataset).name} · {base.model} · {batch} · {base.epochs:,} epochs"


def _labelled(cfg: TrainConfig) -> TrainConfig:
    lr = cfg.hp.get("lr")
    name = cfg.name or display_name(cfg.optimizer)  # race_configs names an own rule by its name
    return cfg.replace(name=f"{name} ε={lr:g}" if isinstance(lr, (int, float)) else name)


def model_race_configs(base: TrainConfig, entries: Sequence[tuple[str, Mapping[str, Any]]]) -> list[TrainConfig]:
    """One training per ``(optimizer, hyperparameters)``, everything else from ``base``; ValueError names a bad
    entry."""
    return [_labelled(c) for c in race_configs(base, entries)]


def model_sweep_configs(base: TrainConfig, lrs: Sequence[float]) -> list[TrainConfig]:
    """``base``'s optimizer at each learning rate (labelled ``"gd ε=0.1"``); ValueError names a bad value."""
    return sweep_configs(base, lrs)


def check_dense(configs: Sequence[TrainConfig]) -> None:
    """Newton and BFGS refuse a model above a size (dense d×d matrices): raise that ValueError now, so the
    dialog says it and stays open. Only these configs are built (the dataset read once; built-ins are cached)."""
    from gdstudio.core.training import DENSE_METHODS, build

    for c in configs:
        if c.optimizer in DENSE_METHODS:
            build(c)  # ValueError: "newton: this model has d = 650 parameters: ..."


class _ModelDialog:
    """What both Model mode dialogs change in the shared ones (mixed in first)."""

    summary_text = staticmethod(model_summary)

    def _adapt(self) -> None:
        self.summary.setToolTip("Shared by every run: dataset, model, batch size, validation split, epochs, seed "
                                "and initial weights come from the settings panel")
        self.clear_others.setChecked(True)
        self.clear_others.hide()  # Model mode shows one set of trainings at a time


class ModelSweepDialog(_ModelDialog, SweepDialog):
    """Run ▸ Learning-rate sweep… in Model mode."""

    def __init__(self, base: TrainConfig, parent: QWidget | None = None, text: str = MODEL_SWEEP_TEXT):
        super().__init__(base, parent, text)
        self._adapt()

    def build(self) -> list[TrainConfig]:
        configs = model_sweep_configs(self.base, self.learning_rates())
        check_dense(configs[:1])
        return configs


class ModelRaceDialog(_ModelDialog, RaceDialog):
    """Run ▸ Race optimizers… in Model mode. ``excluded``: optimizers not listed; ``default_lr``: the learning
    rate each other optimizer starts with (the panel's optimizer keeps the panel's values); ``own_rules``: the
    user's own update rules, listed by name after the built-ins (as in the function mode's dialog)."""

    def __init__(self, base: TrainConfig, parent: QWidget | None = None, checked: Sequence[str] | None = None, *,
                 excluded: Sequence[str] = (), default_lr: Mapping[str, float] | None = None,
                 own_rules: Sequence[str] = ()):
        super().__init__(base, parent, checked, own_rules)
        self._adapt()
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) in excluded:
                item.setCheckState(Qt.CheckState.Unchecked)
                item.setHidden(True)
        for name, lr in (default_lr or {}).items():
            form = self.forms.get(name)
            if form is not None and name != base.optimizer and "lr" in form.editors:
                form.set_value("lr", lr)

    def build(self) -> list[TrainConfig]:
        configs = model_race_configs(self.base, self.entries())
        for c in configs:
            try:
                check_dense([c])
            except ValueError:
                self.list.setCurrentRow(self.names.index(c.optimizer))
                raise
        return configs


__all__ = ["MODEL_SWEEP_TEXT", "ModelRaceDialog", "ModelSweepDialog", "check_dense", "model_race_configs",
           "model_summary", "model_sweep_configs"]
