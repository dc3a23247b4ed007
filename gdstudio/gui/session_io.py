"""File ▸ Save session… / Open session…: the window's runs to a ``.gdsession`` file and back.

The file format, its checks and its atomic writing are the core's (:mod:`gdstudio.core.session`). This
module only maps the window to a :class:`~gdstudio.core.session.Session` and back:

* saved: the objective shown (spec, parameters, and the formula's name in ``view["title"]``), every run
  of the window's :class:`~gdstudio.gui.run_model.RunModel` in order (its config, whose ``name`` is the
  run's label, its colour and whether it is shown) and the panel's settings (``view["panel"]``);
* opened: everything is checked first (the file by the core, with its limits on sizes and counts, then
  the objective and every run's config against it, and whether the panel can show the panel's settings);
  only then the window changes: the objective and the panel are set and every run is started again from
  its config. Runs are deterministic (seeded), so they reproduce the saved runs to the last digit. A file
  that cannot be read, is malformed, too large or comes from a newer gdstudio gives one message box with
  the reason, and the window is left exactly as it was.

Reading and checking (which compiles the file's formulas with SymPy) happen in a background thread
(:func:`gdstudio.gui.background.run_off_thread`): the window keeps repainting meanwhile, and quitting does
not wait for it.

What this module needs of the window is the :class:`SessionWindow` protocol (the objective, the run model
and controller, the side panel, the Pause action and the status bar), not the window's class: the window
imports this module, never the other way round.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMessageBox, QStatusBar

from gdstudio.core import session as sessions
from gdstudio.core.objectives import EXPR_PREFIX, Objective, get_objective
from gdstudio.core.runs import RunConfig

if TYPE_CHECKING:
    from gdstudio.gui.controller import RunController
    from gdstudio.gui.run_model import RunModel
    from gdstudio.gui.views.side_panel import SidePanel

FILE_FILTER = f"gdstudio sessions (*{sessions.SUFFIX});;All files (*)"


class _PauseAction(Protocol):
    pause: QAction


class SessionWindow(Protocol):
    """What a session is taken from and shown in (a ``QWidget``: it parents the file and message dialogs)."""

    objective: Objective | None
    model: "RunModel"
    controller: "RunController"
    side_panel: "SidePanel"
    actions: _PauseAction

    @property
    def closing(self) -> bool:
        """True once the window is closing: a session read meanwhile is not shown."""
        ...

    def set_objective(self, objective: Objective) -> None: ...

    def statusBar(self) -> QStatusBar: ...


#: id() of the windows opening a session now (one at a time per window)
_opening: set[int] = set()


def objective_with_title(spec: str, params: dict, title: str = "") -> Objective:
    """The objective of ``spec``; a formula gets its display name ``title`` (not part of the spec)."""
    if spec.startswith(EXPR_PREFIX) and title:
        return get_objective(spec, {**params, "title": title})
    return get_objective(spec, params)


def _title(objective: Objective | None) -> str:
    if objective is None or not objective.spec().startswith(EXPR_PREFIX):
        return ""
    return objective.title if objective.title != objective.formula else ""


def session_from_window(window: "SessionWindow") -> sessions.Session:
    """What the window shows, as a Session (runs in the model's order)."""
    obj = window.objective
    runs = tuple(sessions.SessionRun(e.config.replace(name=e.label) if e.label else e.config, e.color.name(),
                              bool(e.visible)) for e in window.model)
    view: dict = {}
    title = _title(obj)
    if title:
        view["title"] = title
    try:
        view["panel"] = window.side_panel.current_config().to_dict()
    except ValueError:
        pass  # an invalid field in the panel: the runs are still worth saving
    if getattr(window, "model_mode", None) is not None:  # the Model mode's trainings (gdstudio.gui.model_mode)
        view["model"] = window.model_mode.session_view()
    if obj is None:
        raise sessions.SessionError("there is no objective to save")
    return sessions.Session(obj.spec(), dict(obj.params), runs, view)


def save_session(window: "SessionWindow", path: str | os.PathLike | None = None) -> bool:
    """Write the window's session to ``path`` (asked for when None); a failure gives a message box."""
    if path is None:
        path, _ = QFileDialog.getSaveFileName(window, "Save session", "session" + sessions.SUFFIX, FILE_FILTER)
        if not path:
            return False
        if not Path(path).suffix:
            path += sessions.SUFFIX
    try:
        sessions.save(path, session_from_window(window))
    except sessions.SessionError as exc:
        QMessageBox.warning(window, "Save session", f"Could not save the session:\n{exc}")
        return False
    except OSError as exc:
        QMessageBox.warning(window, "Save session",
                            f"Could not write {path}:\n{exc.strerror or exc}\n\nNo file was changed.")
        return False
    window.statusBar().showMessage(f"Saved {len(window.model)} run(s) to {path}", 6000)
    return True


def _prepare(session: sessions.Session) -> tuple[Objective, RunConfig | None, list[RunConfig], list[str], list[str],
                                          list[bool]]:
    """Build and check everything a session needs before the window changes; raises SessionError."""
    view = dict(session.view)
    title = view.get("title", "")
    try:
        obj = objective_with_title(session.objective, session.params, title if isinstance(title, str) else "")
        configs = []
        for i, r in enumerate(session.runs):
            same = r.config.objective == obj.spec() and dict(r.config.objective_params) == dict(obj.params)
            try:
                r.config.validate(obj if same else None)
            except ValueError as exc:
                raise sessions.SessionError(f"run {i + 1} ({r.config.name or r.config.optimizer}): {exc}") from None
            configs.append(r.config)
    except sessions.SessionError:
        raise
    except (ValueError, TypeError, KeyError, ArithmeticError, RecursionError) as exc:
        raise sessions.SessionError(f"not a valid session: {exc}") from None
    if "model" in view:  # the Model mode's part is checked before the window changes too
        from gdstudio.gui.model_mode import ModelMode

        try:
            ModelMode.check_session_view(view["model"])
        except ValueError as exc:
            raise sessions.SessionError(f"not a valid session: {exc}") from None
    panel = None
    if isinstance(view.get("panel"), dict):
        try:
            panel = sessions.check_config(view["panel"], "view.panel")  # the same checks as a run
            panel.validate(obj if panel.objective == obj.spec() else None)
        except (ValueError, TypeError, KeyError, ArithmeticError, RecursionError):
            panel = None  # the panel's settings are a convenience: a bad one is dropped, not an error
    if panel is None and configs:
        panel = configs[-1]
    if panel is not None and not panel_fits(panel):
        panel = None  # e.g. a seed beyond the panel's 32-bit spin box: the panel keeps its own settings
    return (obj, panel, configs, [r.config.name for r in session.runs], [r.colour for r in session.runs],
            [r.visible for r in session.runs])


def panel_fits(cfg: RunConfig) -> bool:
    """Whether the side panel's controls can show ``cfg`` (its spin boxes have limits)."""
    from gdstudio.gui.views.side_panel import MAX_EPOCHS

    return 0 <= cfg.epochs <= MAX_EPOCHS and 0 <= cfg.seed <= 2**31 - 1 and all(
        abs(v) <= 2**31 - 1 for v in cfg.hp.values() if isinstance(v, int) and not isinstance(v, bool))


def _load_and_prepare(path):
    """Worker thread: read and check a file, build its objective and configs (no Qt here)."""
    session = sessions.load(path)
    return session, _prepare(session)


def apply_session(window: "SessionWindow", session: sessions.Session) -> list[int]:
    """Show ``session`` in ``window``: objective, panel, and every run started again. Raises SessionError
    (with the window unchanged) if the session does not fit. The checks run off the GUI thread."""
    from gdstudio.gui.background import run_off_thread

    prepared = run_off_thread(_prepare, session)
    _apply_model_part(window, session)
    return _apply_prepared(window, prepared)


def _apply_model_part(window: "SessionWindow", session: sessions.Session) -> None:
    """The Model mode's trainings (``view["model"]``, checked by ``_prepare``), started again."""
    if isinstance(session.view.get("model"), dict) and getattr(window, "model_mode", None) is not None:
        window.model_mode.apply_session_view(session.view["model"])


def _apply_prepared(window: "SessionWindow", prepared) -> list[int]:
    obj, panel, configs, names, colours, visible = prepared
    window.controller.reset()
    if panel is not None:
        window.side_panel.apply_config(panel)
    window.set_objective(obj)
    if not configs:
        return []
    same = all(c.objective == obj.spec() and dict(c.objective_params) == dict(obj.params) for c in configs)
    kwargs = {"replace": True, "labels": names}
    if any(colours):
        kwargs["colors"] = [c or None for c in colours]
    ids = window.controller.start(configs, obj if same else None, **kwargs)
    window.actions.pause.setChecked(False)
    for rid, vis in zip(ids, visible):
        if not vis:
            window.model.set_visible(rid, False)
    return ids


def open_session(window: "SessionWindow", path: str | os.PathLike | None = None) -> bool:
    """Read ``path`` (asked for when None) and show it; a bad file gives a message box and changes nothing."""
    from gdstudio.gui.background import Abandoned, run_off_thread

    if path is None:
        path, _ = QFileDialog.getOpenFileName(window, "Open session", "", FILE_FILTER)
        if not path:
            return False
    if id(window) in _opening:
        window.statusBar().showMessage("Still opening the previous session…", 4000)
        return False
    _opening.add(id(window))
    window.statusBar().showMessage(f"Opening {path}…")
    try:
        try:
            session, prepared = run_off_thread(_load_and_prepare, path)
        except Abandoned:
            return False
        finally:
            _opening.discard(id(window))
        if window.closing:
            return False  # closed while the file was read: nothing to show it in
        _apply_model_part(window, session)
        n = len(_apply_prepared(window, prepared))
    except sessions.SessionError as exc:
        window.statusBar().clearMessage()
        QMessageBox.warning(window, "Open session", f"Could not open {Path(path).name}:\n{exc}")
        return False
    except OSError as exc:
        window.statusBar().clearMessage()
        QMessageBox.warning(window, "Open session", f"Could not read {path}:\n{exc.strerror or exc}")
        return False
    window.statusBar().showMessage(f"Opened {path}: {n} run(s)", 6000)
    return True


__all__ = ["FILE_FILTER", "SessionWindow", "apply_session", "objective_with_title", "open_session", "save_session",
           "session_from_window"]
