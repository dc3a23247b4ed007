"""The window's side of the settings: what :mod:`gdstudio.gui.settings` stores, taken from and given back to
the window (saved on close, restored on start).

Remembered: the window's geometry, its dock and toolbar state, the splitters between the views, the
objective (a built-in with its parameters, or a formula with its domain and name), the optimizer and the
hyperparameters of each optimizer used, epochs, the start point, the gradient source and step, the
animation speed and the recent formulas. Restoring never fails: a stored configuration that no longer
validates (e.g. a formula the parser now refuses) falls back to the first-launch defaults, and the
settings module already replaces each unreadable key by its default.

What this module needs of the window is the :class:`SettingsWindow` protocol (its geometry and dock
state, two splitters, the side panel, the speed control, the objective and the settings it keeps), not
the window's class: the window imports this module, never the other way round.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import struct
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QByteArray
from PySide6.QtWidgets import QSplitter

from gdstudio.core.objectives import EXPR_PREFIX
from gdstudio.core.runs import RunConfig
from gdstudio.gui import defaults
from gdstudio.gui import settings as app_settings

if TYPE_CHECKING:
    from gdstudio.core.objectives import Objective
    from gdstudio.gui.actions import SpeedControl
    from gdstudio.gui.views.side_panel import SidePanel

log = logging.getLogger(__name__)


class _SpeedActions(Protocol):
    speed: "SpeedControl"


class SettingsWindow(Protocol):
    """What the settings are taken from and given back to (a ``QMainWindow`` with these parts)."""

    top_splitter: QSplitter
    central_splitter: QSplitter
    side_panel: "SidePanel"
    actions: _SpeedActions
    objective: "Objective | None"
    #: the settings kept while the window lives (:func:`remember_hyperparams` updates them)
    settings: app_settings.Settings

    def saveGeometry(self) -> QByteArray: ...

    def saveState(self, version: int = 0) -> QByteArray: ...

    def restoreGeometry(self, geometry: QByteArray) -> bool: ...

    def restoreState(self, state: QByteArray, version: int = 0) -> bool: ...

    def set_objective(self, objective: "Objective") -> None: ...


def _splitters(window: "SettingsWindow"):
    return [window.top_splitter, window.central_splitter]


def pack_splitters(window: "SettingsWindow") -> bytes:
    """The splitters' states, each prefixed by its length (4 bytes, big-endian)."""
    out = b""
    for sp in _splitters(window):
        st = bytes(sp.saveState().data())
        out += struct.pack(">I", len(st)) + st
    return out


def unpack_splitters(window: "SettingsWindow", blob: bytes) -> None:
    """Restore what :func:`pack_splitters` wrote; a truncated or mangled blob restores what it can."""
    pos = 0
    for sp in _splitters(window):
        if pos + 4 > len(blob):
            return
        (n,) = struct.unpack_from(">I", blob, pos)
        st = blob[pos + 4:pos + 4 + n]
        if len(st) != n:
            return
        sp.restoreState(QByteArray(st))
        pos += 4 + n


def capture(window: "SettingsWindow", base: app_settings.Settings) -> app_settings.Settings:
    """``base`` updated with what the window shows now."""
    panel = window.side_panel
    values: dict = dict(
        window_geometry=bytes(window.saveGeometry().data()),
        window_state=bytes(window.saveState().data()),
        splitter_state=pack_splitters(window),
        speed=min(window.actions.speed.speed(), app_settings.SPEED_RANGE[1]),
    )
    obj = window.objective
    if obj is not None:
        values["objective"] = obj.spec()
        values["objective_params"] = dict(obj.params)
        values["objective_title"] = obj.title if obj.spec().startswith(EXPR_PREFIX) and \
            obj.title != obj.formula else ""
    values["optimizer"] = panel.optimizer_name()
    # the own rules of this session are kept as keys of the hyperparameters (restore() offers them again)
    own = {r: {} for r in panel.rule_choice.known_rules() if r not in base.hyperparams}
    values["hyperparams"] = {**base.hyperparams, **own}
    try:
        hp = panel.hp_form.values()
        values["hyperparams"] = {**base.hyperparams, **own, panel.optimizer_name(): hp}
    except ValueError:
        pass  # an invalid field: keep what was remembered
    values["hyperparams"] = _newest_rules(values["hyperparams"], panel.optimizer_name())
    values["epochs"] = int(panel.epochs_spin.value())
    try:
        values["start"] = tuple(panel.start())
    except ValueError:
        pass
    mm = getattr(window, "model_mode", None)
    if mm is not None:  # Model mode's optimizer (an own rule too) and its hyperparameters
        values["model_optimizer"] = mm.panel.optimizer_combo.currentData()
        try:
            values["model_hyperparams"] = {values["model_optimizer"]: mm.panel.hp_form.values()}
        except ValueError:
            values["model_hyperparams"] = {}
    values["gradient"] = panel.gradient_combo.currentData()
    try:
        h = panel.h_edit.text().strip()
        values["fd_step"] = float(h) if h and float(h) > 0 and math.isfinite(float(h)) else None
    except ValueError:
        pass
    return dataclasses.replace(base, **values)


def _newest_rules(hyperparams: dict, keep: str) -> dict:
    """At most :data:`~gdstudio.gui.views.rule_editor.MAX_KNOWN_RULES` own rules (the newest, and ``keep``, the
    panel's optimizer) among the remembered hyperparameters: the store does not grow with every rule ever typed."""
    from gdstudio.gui.views.rule_editor import MAX_KNOWN_RULES

    rules = [k for k in hyperparams if isinstance(k, str) and k.startswith("rule:") and k != keep]
    drop = set(rules[:max(0, len(rules) - (MAX_KNOWN_RULES - (keep in hyperparams and keep.startswith("rule:"))))])
    return {k: v for k, v in hyperparams.items() if k not in drop}


def config_from_settings(s: app_settings.Settings) -> RunConfig | None:
    """The RunConfig the settings describe, or None if it does not validate any more."""
    try:
        cfg = RunConfig.create(s.objective, s.optimizer, starts=[s.start], epochs=s.epochs,
                               hyperparams=s.hyperparams_for(s.optimizer), objective_params=s.objective_params,
                               gradient=s.gradient, fd_step=s.fd_step)
        cfg.validate()
        return cfg
    except (ValueError, TypeError, KeyError, ArithmeticError, RecursionError) as exc:
        log.info("settings: the stored configuration is not valid any more (%s); using the defaults", exc)
        return None


def restore(window: "SettingsWindow", s: app_settings.Settings) -> None:
    """Give the window what the settings remember (geometry and layout first, then the controls).

    A remembered formula is not compiled here: the panel's formula field compiles it in the background
    (SymPy takes up to about 1.5 s), so the window appears at once; the objective changes when it is ready.
    Everything else is checked against the default objective meanwhile. A formula the field refuses at once
    (it no longer parses) gives the default objective, its text kept in the field (:func:`show_default_instead`;
    the window does the same for one refused by the compile).
    """
    if s.window_geometry:
        window.restoreGeometry(QByteArray(s.window_geometry))
    if s.window_state:
        window.restoreState(QByteArray(s.window_state))
    unpack_splitters(window, s.splitter_state)
    panel = window.side_panel
    panel.formula_field.set_recent(s.recent_formulas)
    for spec in s.hyperparams:  # own rules used before: offered in the race dialog again
        panel.rule_choice.remember(spec)
    formula = s.objective[len(EXPR_PREFIX):] if s.objective.startswith(EXPR_PREFIX) else None
    if formula is not None:
        cfg = config_from_settings(dataclasses.replace(s, objective=defaults.first_config().objective,
                                                       objective_params={}))
    else:
        cfg = config_from_settings(s)
    if cfg is None:
        cfg, formula = defaults.first_config(), None
    if formula is None:
        panel.apply_config(cfg)
    else:
        panel.apply_config(cfg, objective=False)
        panel.show_formula(formula, s.objective_title, dict(s.objective_params))
        refused = panel.formula_field.error is not None or not panel.formula_field.busy()
        if refused and window.objective is None:  # (a window may have shown the default already)
            show_default_instead(window, str(panel.formula_field.error or "the formula is empty"))
    window.actions.speed.set_speed(math.inf if s.speed >= app_settings.SPEED_RANGE[1] else s.speed)
    mm = getattr(window, "model_mode", None)
    if mm is not None and (mm.panel.optimizer_combo.findData(s.model_optimizer) >= 0
                           or s.model_optimizer.startswith("rule:")):
        try:
            mm.panel.set_optimizer(s.model_optimizer, **s.model_hyperparams.get(s.model_optimizer, {}))
        except (ValueError, KeyError) as exc:  # (the checker compiled it: only a form value could be refused)
            log.info("settings: Model mode's optimizer not restored (%s)", exc)


def default_instead_message(reason: str) -> str:
    """What the panel says when the remembered formula was refused."""
    from gdstudio.gui.views.side_panel import CUSTOM_TEXT

    shown = defaults.first_config().build_objective()
    return (f"Your saved formula could not be used: {reason}. {shown.title or shown.name} is shown instead. "
            f"The formula is kept: choose “{CUSTOM_TEXT}” as the objective to correct it.")


def show_default_instead(window: "SettingsWindow", reason: str) -> None:
    """The remembered formula was refused: show the default objective, say why at the top of the panel.
    The formula's text stays in the field (hidden until "your own formula" is chosen again)."""
    window.set_objective(defaults.first_config().build_objective())
    window.side_panel.show_error(default_instead_message(reason))


def remember_hyperparams(window: "SettingsWindow") -> None:
    """Keep each optimizer's last hyperparameters in ``window.settings`` while the window lives, and give them
    back when that optimizer is chosen again (windows with a settings store)."""
    from gdstudio.core.optimizers import optimizer_class

    panel = window.side_panel

    def on_changed() -> None:
        try:
            hp = panel.hp_form.values()
        except ValueError:
            return  # an invalid field is not remembered
        window.settings = dataclasses.replace(
            window.settings, hyperparams={**window.settings.hyperparams, panel.optimizer_name(): hp})

    def on_optimizer() -> None:
        name = panel.optimizer_name()
        remembered = window.settings.hyperparams_for(name)
        if remembered:
            cls = optimizer_class(name)
            panel.hp_form.set_specs(cls.hyperparams, remembered, rule=cls.rule)

    panel.hp_form.sig_changed.connect(on_changed)
    panel.optimizer_combo.currentIndexChanged.connect(on_optimizer)


__all__ = ["SettingsWindow", "capture", "config_from_settings", "pack_splitters", "remember_hyperparams", "restore",
           "show_default_instead", "unpack_splitters"]
