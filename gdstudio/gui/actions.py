"""The window's actions, menus and toolbar (built here; the window connects them).

Shortcuts: Run F5, Pause/Resume Space, Step F10, Reset Ctrl+R, learning-rate sweep F6, race F7,
Open session Ctrl+O, Save session Ctrl+S, Export Ctrl+E, Quit Ctrl+Q, log scale Ctrl+L, Help F1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QSlider, QStyle, QToolBar, QWidget

from gdstudio.gui.views.compare import compare_icon

#: The Pause action's text, and its text while a run is paused (the Run action keeps its own).
PAUSE_TEXT = "&Pause"
RESUME_TEXT = "Res&ume"
#: Speed slider stops, in steps per second; the last one means "as fast as possible".
SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, math.inf)


def speed_text(v: float) -> str:
    return "max speed" if math.isinf(v) else f"{v:g} steps/s"


class SpeedControl(QWidget):
    """A slider over :data:`SPEEDS`; emits ``sig_speed_changed(float)`` (``inf`` = as fast as possible)."""

    sig_speed_changed = Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 0, 6, 0)
        lay.addWidget(QLabel("speed"))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, len(SPEEDS) - 1)
        self.slider.setFixedWidth(160)
        self.slider.setPageStep(1)
        self.slider.setToolTip("Animation speed: steps per second (right end: as fast as possible)")
        lay.addWidget(self.slider)
        self.label = QLabel()
        self.label.setMinimumWidth(110)
        lay.addWidget(self.label)
        lay.addStretch(1)
        self.slider.valueChanged.connect(self._on_value)
        self.set_speed(200)

    def speed(self) -> float:
        return SPEEDS[self.slider.value()]

    def set_speed(self, v: float) -> None:
        """Select the stop nearest ``v`` (log scale)."""
        if math.isinf(v):
            idx = len(SPEEDS) - 1
        else:
            idx = min(range(len(SPEEDS) - 1), key=lambda i: abs(math.log(SPEEDS[i]) - math.log(max(v, 1e-9))))
        self.slider.setValue(idx)
        self._on_value(idx)

    def _on_value(self, idx: int) -> None:
        self.label.setText(speed_text(SPEEDS[idx]))
        self.sig_speed_changed.emit(SPEEDS[idx])


@dataclass
class Actions:
    run: QAction
    pause: QAction
    step: QAction
    reset: QAction
    export_csv: QAction
    quit: QAction
    log_scale: QAction
    show_3d: QAction
    show_contour: QAction
    show_loss: QAction
    reset_camera: QAction
    about: QAction
    speed: SpeedControl
    sweep: QAction | None = None
    race: QAction | None = None
    open_session: QAction | None = None
    save_session: QAction | None = None
    #: File ▸ Export image: one action per view (keys of :data:`gdstudio.gui.image_export.VIEWS`)
    export_image: dict | None = None
    help: QAction | None = None


def on_trigger(action: QAction, command) -> None:
    """Connect ``action`` to ``command()`` called with NO arguments.

    ``QAction.triggered`` passes the ``checked`` flag (a bool); PySide6 hands it to any slot that accepts a
    positional argument, so ``triggered.connect(self.export_trajectory)`` called
    ``export_trajectory(path=False)`` and crashed. Every command of the window is connected through here
    (a test walks every menu item and shortcut to keep it so).
    """
    action.triggered.connect(lambda _checked=False: command())


def _action(parent: QObject, text: str, shortcut=None, icon=None, tip: str = "", checkable: bool = False) -> QAction:
    a = QAction(text, parent)
    if shortcut is not None:
        a.setShortcut(QKeySequence(shortcut))
    if icon is not None:
        a.setIcon(icon)
    if tip:
        a.setToolTip(tip + (f" ({a.shortcut().toString()})" if shortcut is not None else ""))
        a.setStatusTip(tip)
    a.setCheckable(checkable)
    return a


def _image_views() -> dict:
    from gdstudio.gui.image_export import VIEWS

    return VIEWS


def build(window: QMainWindow) -> Actions:
    """Create the actions, the menus and the toolbar of ``window``."""
    st = window.style()
    icon = lambda sp: st.standardIcon(sp)  # noqa: E731
    SP = QStyle.StandardPixmap
    acts = Actions(
        run=_action(window, "&Run", "F5", icon(SP.SP_MediaPlay),
                    "Start a new run with the current settings (runs stay until removed)"),
        pause=_action(window, PAUSE_TEXT, "Space", icon(SP.SP_MediaPause), "Pause or resume the run", checkable=True),
        step=_action(window, "&Step", "F10", icon(SP.SP_MediaSkipForward), "Take one update step"),
        reset=_action(window, "R&eset", "Ctrl+R", icon(SP.SP_BrowserReload), "Stop and remove every run"),
        export_csv=_action(window, "&Export trajectory…", "Ctrl+E", icon(SP.SP_DialogSaveButton),
                           "Write every step of the shown runs to a CSV file"),
        quit=_action(window, "&Quit", QKeySequence.StandardKey.Quit, None, "Quit gdstudio"),
        log_scale=_action(window, "&Log scale (loss)", "Ctrl+L", None, "Loss chart on a logarithmic axis",
                          checkable=True),
        show_3d=_action(window, "&3D surface", None, None, "Show the 3D surface", checkable=True),
        show_contour=_action(window, "&Contour map", None, None, "Show the contour map", checkable=True),
        show_loss=_action(window, "Loss &chart", None, None, "Show the loss chart", checkable=True),
        reset_camera=_action(window, "Reset &camera", "Home", None, "Back to the default 3D view"),
        about=_action(window, "&About gdstudio", None, None, "About gdstudio"),
        speed=SpeedControl(),
        sweep=_action(window, "Learning-rate s&weep…", "F6", compare_icon("sweep"),
                      "Compare learning rates ε: the current optimizer at several ε from one start"),
        race=_action(window, "R&ace optimizers…", "F7", compare_icon("race"),
                     "Compare optimizers: several methods, each with its own settings, from one start"),
        open_session=_action(window, "&Open session…", QKeySequence.StandardKey.Open, icon(SP.SP_DialogOpenButton),
                             "Open a saved session: its objective and runs, run again"),
        save_session=_action(window, "&Save session…", QKeySequence.StandardKey.Save, icon(SP.SP_DialogSaveButton),
                             "Save the objective and every run to a .gdsession file"),
        export_image={key: _action(window, f"{text}…", None, None, f"Save the {text.lower()} as "
                                   f"{' or '.join(f.upper() for f in fmts)}")
                      for key, (text, fmts) in _image_views().items()},
        help=_action(window, "gdstudio &Help", QKeySequence.StandardKey.HelpContents, icon(SP.SP_DialogHelpButton),
                     "How each optimizer works, and what a formula may contain"),
    )
    acts.quit.setMenuRole(QAction.MenuRole.QuitRole)
    acts.pause.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    for a in (acts.show_3d, acts.show_contour, acts.show_loss):
        a.setChecked(True)

    mb = window.menuBar()
    m = mb.addMenu("&File")
    m.addAction(acts.open_session)
    m.addAction(acts.save_session)
    m.addSeparator()
    m.addAction(acts.export_csv)
    sub = m.addMenu("Export &image")
    sub.setObjectName("export_image_menu")
    for a in acts.export_image.values():
        sub.addAction(a)
    m.addSeparator()
    m.addAction(acts.quit)
    m = mb.addMenu("&Run")
    for a in (acts.run, acts.pause, acts.step, acts.reset, None, acts.sweep, acts.race):
        m.addSeparator() if a is None else m.addAction(a)
    m = mb.addMenu("&View")
    for a in (acts.log_scale, None, acts.show_3d, acts.show_contour, acts.show_loss, None, acts.reset_camera):
        m.addSeparator() if a is None else m.addAction(a)
    m = mb.addMenu("&Help")
    m.addAction(acts.help)
    m.addAction(acts.about)

    tb = QToolBar("Run controls")
    tb.setObjectName("run_toolbar")
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for a in (acts.run, acts.pause, acts.step, acts.reset, None, acts.sweep, acts.race):
        tb.addSeparator() if a is None else tb.addAction(a)
    tb.addSeparator()
    tb.addWidget(acts.speed)
    # Pause reads "Resume" while paused: its button keeps the width of the longer text so the toolbar
    # does not shift under the mouse.
    btn = tb.widgetForAction(acts.pause)
    if btn is not None:
        widths = []
        for text in (PAUSE_TEXT, RESUME_TEXT):
            acts.pause.setText(text)
            widths.append(btn.sizeHint().width())
        acts.pause.setText(PAUSE_TEXT)
        btn.setMinimumWidth(max(widths))
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
    return acts
