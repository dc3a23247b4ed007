"""The window's Model mode: train a classifier on real data, see its loss landscape and the optimizer's path.

The Problem group gets a second kind of problem, *Model* (the radio buttons *Function* / *Model*). In Model mode
the settings dock shows :class:`ModelPanel` (dataset, model and its parameters, batch size, validation split,
optimizer, landscape directions) and the central area :class:`ModelWorkspace`: the 2-D slice of the training loss
in 3D and as a contour map (axes a, b: θ = θ_c + a·δ + b·η) with every run's path projected onto it, and below the
training curves (loss and accuracy against epochs), the 1-D slice and a linear model's class templates.

The toolbar's Run / Pause / Step / Reset, Sweep, Race and File ▸ Export trajectory act on the mode shown; Sweep
(F6) and Race (F7) open the same dialogs as for a function (:mod:`gdstudio.gui.views.model_compare`).
Training runs on :class:`~gdstudio.gui.model_worker.ModelWorker` (its own thread); the slice is computed there
after training ends, or on demand (Compute slice).

:func:`install` adds all of it to a :class:`~gdstudio.gui.main_window.MainWindow` with a few hooks: the central
widget and the dock's widget become stacks (function | model), the mode radios are added to the side panel's
Problem group, and the run actions are rerouted through dispatchers that ask which mode is shown.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gdstudio.core.data import BUILTIN_DATASETS
from gdstudio.core.files import atomic_write
from gdstudio.core.landscape import DIRECTIONS, path_csv, slice_csv
from gdstudio.core.models import MODEL_PARAMS, MODELS, TITLES
from gdstudio.core.optimizers import OPTIMIZERS, optimizer_class
from gdstudio.core.rules import RULE_PREFIX, rule_label
from gdstudio.core.training import CURVE_COLUMNS, TrainConfig, Training, build
from gdstudio.gui import actions as actions_mod
from gdstudio.gui import theme
from gdstudio.gui.model_worker import ModelWorker, SliceRequest
from gdstudio.gui.views.model_views import SliceContourView, SliceSurfaceView, TrainingCharts
from gdstudio.gui.views.model_compare import (
    ModelRaceDialog,
    ModelSweepDialog,
    model_race_configs,
    model_sweep_configs,
)
from gdstudio.gui.views import rule_editor
from gdstudio.gui.views.param_form import ParamForm

#: Learning rates that train the digits models well in a few epochs (the optimizers' own defaults are for
#: the 2-D functions).
MODEL_LR = {"gd": 0.1, "sign-gd": 0.001, "momentum": 0.05, "nesterov": 0.05, "adagrad": 0.1, "rmsprop": 0.001,
            "adam": 0.01, "adamw": 0.01, "line-search": 1.0, "lbfgs": 1.0, "newton-cg": 1.0}
BATCH_CHOICES = ("full", "32", "64", "128", "256")
#: Optimizers that do not train a model (not in the panel's list nor in the race dialog).
NOT_FOR_MODELS = ("random-search", "random-local-search")


def mode_radios(parent: QWidget | None = None) -> tuple[QWidget, QRadioButton, QRadioButton]:
    box = QWidget(parent)
    h = QHBoxLayout(box)
    h.setContentsMargins(0, 0, 0, 0)
    fn = QRadioButton("Function")
    fn.setToolTip("A two-parameter function f(x, y)")
    md = QRadioButton("Model")
    md.setToolTip("A classifier trained on real data (digits, iris, ...): its loss landscape and training path")
    group = QButtonGroup(box)
    group.addButton(fn)
    group.addButton(md)
    h.addWidget(fn)
    h.addWidget(md)
    h.addStretch(1)
    return box, fn, md


class ModelPanel(QScrollArea):
    """The settings of the model mode. :meth:`train_config` returns the validated :class:`TrainConfig`."""

    sig_mode = Signal(str)
    sig_compute_slice = Signal()
    sig_export_curves = Signal()
    sig_export_slice = Signal()
    sig_model_changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget()
        self.setWidget(inner)
        v = QVBoxLayout(inner)

        g = QGroupBox("Problem")
        f = QFormLayout(g)
        box, self.function_radio, self.model_radio = mode_radios()
        self.model_radio.setChecked(True)
        f.addRow("kind", box)
        self.dataset_combo = QComboBox()
        self.dataset_combo.setObjectName("model_dataset")
        for name in BUILTIN_DATASETS:
            self.dataset_combo.addItem(name, name)
        self.dataset_combo.addItem("Open file…", "")
        self.dataset_combo.setToolTip("digits: 8×8 images of 0–9 (1,797); iris, wine, breast-cancer: tables; "
                                      "Open file…: a CSV (features + label column) or MNIST IDX files")
        f.addRow("dataset", self.dataset_combo)
        self.model_combo = QComboBox()
        self.model_combo.setObjectName("model_kind")
        for name in MODELS:
            self.model_combo.addItem(f"{name} — {TITLES[name]}", name)
        self.model_combo.setToolTip("svm: multiclass hinge; softmax: cross-entropy; mlp: one hidden layer")
        f.addRow("model", self.model_combo)
        self.model_form = ParamForm()
        f.addRow(self.model_form)
        self.batch_combo = QComboBox()
        self.batch_combo.setEditable(True)
        self.batch_combo.addItems(BATCH_CHOICES)
        self.batch_combo.setObjectName("model_batch")
        self.batch_combo.setToolTip("samples per step (reshuffled every epoch), or full: the whole training set")
        f.addRow("batch", self.batch_combo)
        self.val_spin = QDoubleSpinBox()
        self.val_spin.setRange(0.0, 0.9)
        self.val_spin.setSingleStep(0.05)
        self.val_spin.setValue(0.2)
        self.val_spin.setToolTip("fraction held out for validation (chosen with the seed); 0 = train on all")
        f.addRow("validation", self.val_spin)
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(0, 100_000)
        self.epochs_spin.setValue(20)
        self.epochs_spin.setToolTip("passes over the training set")
        f.addRow("epochs", self.epochs_spin)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip("seeds the split, the shuffles, the initial weights and the directions")
        f.addRow("seed", self.seed_spin)
        self.init_combo = QComboBox()
        self.init_combo.addItems(["zeros", "normal"])
        self.init_combo.setToolTip("initial weights of the linear models (the MLP is He-initialised)")
        f.addRow("init", self.init_combo)
        v.addWidget(g)

        g = QGroupBox("Optimizer")
        f = QFormLayout(g)
        self.optimizer_combo = QComboBox()
        self.optimizer_combo.setObjectName("model_optimizer")
        for name, cls in OPTIMIZERS.items():
            if name in NOT_FOR_MODELS:
                continue
            self.optimizer_combo.addItem(cls.title or name, name)
        f.addRow("method", self.optimizer_combo)
        self.hp_form = ParamForm()
        f.addRow(self.hp_form)
        # "Own rule…": the user's update rule, the same entry and editor as in Function mode (install() makes
        # it share the side panel's list of rules)
        self.rule_choice = rule_editor.install(self)
        v.addWidget(g)

        g = QGroupBox("Landscape")
        f = QFormLayout(g)
        self.directions_combo = QComboBox()
        for name, text in zip(DIRECTIONS, ("random Gaussian", "filter-normalised", "PCA plane of the path")):
            self.directions_combo.addItem(text, name)
        self.directions_combo.setCurrentIndex(2)
        self.directions_combo.setToolTip("the plane θ_c + a·δ + b·η the slice is drawn on")
        f.addRow("directions", self.directions_combo)
        self.span_edit = QLineEdit("auto")
        self.span_edit.setToolTip("a, b in [−span, span]; auto: 1 for random/filter, the path's reach for PCA")
        f.addRow("span", self.span_edit)
        self.grid_spin = QSpinBox()
        self.grid_spin.setRange(5, 201)
        self.grid_spin.setValue(51)
        f.addRow("grid", self.grid_spin)
        self.slice_button = QPushButton("Compute slice")
        self.slice_button.setToolTip("Recompute the slice around the final parameters of the first run")
        f.addRow(self.slice_button)
        v.addWidget(g)

        # Race and sweep: Run ▸ Race optimizers (F7) and Learning-rate sweep (F6), the same dialogs as for a
        # function (gdstudio.gui.views.model_compare)

        g = QGroupBox("Export")
        h = QHBoxLayout(g)
        self.export_curves_button = QPushButton("Curves…")
        self.export_curves_button.setToolTip("the training curves of every run as CSV")
        self.export_slice_button = QPushButton("Slice…")
        self.export_slice_button.setToolTip("the slice (a, b, loss) as CSV, and the projected paths beside it")
        h.addWidget(self.export_curves_button)
        h.addWidget(self.export_slice_button)
        v.addWidget(g)
        v.addStretch(1)

        self.function_radio.toggled.connect(lambda on: on and self.sig_mode.emit("function"))
        self.model_combo.currentIndexChanged.connect(self._on_model)
        self.optimizer_combo.currentIndexChanged.connect(self._on_optimizer)
        self.dataset_combo.activated.connect(self._on_dataset)
        self.slice_button.clicked.connect(self.sig_compute_slice)
        self.export_curves_button.clicked.connect(self.sig_export_curves)
        self.export_slice_button.clicked.connect(self.sig_export_slice)
        self._on_model()
        self._on_optimizer()

    def _on_model(self) -> None:
        self.model_form.set_specs(MODEL_PARAMS[self.model_combo.currentData()])
        self.sig_model_changed.emit()

    def _on_optimizer(self) -> None:
        name = self.optimizer_combo.currentData()
        cls = optimizer_class(name)
        values = {"lr": MODEL_LR[name]} if name in MODEL_LR and any(h.name == "lr" for h in cls.hyperparams) else {}
        self.hp_form.set_specs(cls.hyperparams, values, cls.rule)

    def refresh_optimizer(self) -> None:
        """Rebuild the optimizer's form (the chosen optimizer's spec changed: a new own rule)."""
        self._on_optimizer()

    def _on_dataset(self, index: int) -> None:
        if self.dataset_combo.itemData(index) != "":
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open a dataset", "",
                                              "CSV or MNIST IDX (*.csv *-ubyte *-ubyte.gz *.gz);;All files (*)")
        if not path:
            self.dataset_combo.setCurrentIndex(0)
            return
        self.set_dataset(path)

    def set_dataset(self, spec: str) -> None:
        i = self.dataset_combo.findData(spec)
        if i < 0:
            self.dataset_combo.insertItem(self.dataset_combo.count() - 1, Path(spec).name, spec)
            i = self.dataset_combo.findData(spec)
        self.dataset_combo.setCurrentIndex(i)

    def set_optimizer(self, name: str, **hp) -> None:
        """Choose optimizer ``name`` (a built-in's name or an own rule's spec ``"rule:<text>"``)."""
        if name.startswith(RULE_PREFIX):
            self.rule_choice.set_rule(name)
            if self.optimizer_combo.currentIndex() == self.rule_choice.index:
                self.refresh_optimizer()
        self.optimizer_combo.setCurrentIndex(self.optimizer_combo.findData(name))
        for k, v in hp.items():
            self.hp_form.set_value(k, v)

    def set_model(self, name: str) -> None:
        self.model_combo.setCurrentIndex(self.model_combo.findData(name))

    def batch_size(self) -> int | None:
        text = self.batch_combo.currentText().strip().lower()
        if text == "full":
            return None
        try:
            v = int(text)
        except ValueError:
            raise ValueError(f"batch size {text!r} is not a whole number or 'full'") from None
        if v < 1:
            raise ValueError("batch size must be ≥ 1")
        return v

    def span(self) -> float | None:
        text = self.span_edit.text().strip().lower()
        if text in ("", "auto"):
            return None
        try:
            v = float(text)
        except ValueError:
            raise ValueError(f"span {text!r} is not a number (or auto)") from None
        if not (math.isfinite(v) and v > 0):
            raise ValueError("span must be > 0")
        return v

    def train_config(self, optimizer: str | None = None, hyperparams: dict | None = None,
                     name: str = "") -> TrainConfig:
        params = self.model_form.values()
        return TrainConfig.create(
            dataset=self.dataset_combo.currentData() or "digits", model=self.model_combo.currentData(),
            optimizer=optimizer or self.optimizer_combo.currentData(),
            hyperparams=self.hp_form.values() if hyperparams is None else hyperparams, model_params=params,
            batch_size=self.batch_size(), val=round(self.val_spin.value(), 6), epochs=self.epochs_spin.value(),
            seed=self.seed_spin.value(), init=self.init_combo.currentText(), name=name)

    def slice_request(self) -> SliceRequest:
        return SliceRequest(self.directions_combo.currentData(), self.grid_spin.value(), self.span(),
                            self.seed_spin.value())


class ModelWorkspace(QWidget):
    """The central area of the model mode: slice in 3D | contour map, training charts below."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.surface_view = SliceSurfaceView()
        self.contour_view = SliceContourView()
        self.charts = TrainingCharts()
        self.top = QSplitter(Qt.Orientation.Horizontal)
        self.top.addWidget(self.surface_view)
        self.top.addWidget(self.contour_view)
        self.split = QSplitter(Qt.Orientation.Vertical)
        # the caption (which plane, how much of the path it shows) spans both views
        lay.addWidget(self.surface_view.caption)
        self.split.addWidget(self.top)
        self.split.addWidget(self.charts)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 2)
        lay.addWidget(self.split)


class ModelMode(QObject):
    """Controller of the model mode (see the module docstring)."""

    sig_trained = Signal()  # every training of the current start has ended (GUI thread)
    sig_slice_shown = Signal()

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.panel = ModelPanel()
        self.workspace = ModelWorkspace()
        self.worker = ModelWorker()
        self.worker.sig_ready.connect(self._on_ready)
        self.worker.sig_slice.connect(self._on_slice)
        self.worker.sig_error.connect(self._on_error)
        self.worker.start()
        self.active = False
        self.progress = None
        self.slice_result = None
        self.labels: list[str] = []
        self._trained_emitted = True
        p = self.panel
        p.sig_compute_slice.connect(self.compute_slice)
        p.sig_export_curves.connect(lambda: self.export_curves())
        p.sig_export_slice.connect(lambda: self.export_slice())

    def warm_up(self) -> None:
        """Load the default dataset in a background thread (importing scikit-learn takes about a second), so
        the first Run does not wait for it on the GUI thread."""
        import threading

        from gdstudio.core.training import dataset_for

        def load():
            try:
                dataset_for(TrainConfig())
            except Exception:  # noqa: BLE001 - a failure shows when the user presses Run
                pass

        threading.Thread(target=load, name="gdstudio-dataset-warm-up", daemon=True).start()

    # --- commands ---------------------------------------------------------------------------------------
    def _start(self, configs: list[TrainConfig], labels: list[str], paused: bool = False) -> bool:
        try:
            self.window.statusBar().showMessage("loading the dataset…", 2000)
            trainings = [Training(c) for c in configs]
        except ValueError as exc:
            QMessageBox.warning(self.window, "Cannot train", str(exc))
            return False
        self.workspace.charts.clear_curves()
        self.labels = labels
        self.progress = None
        self._trained_emitted = False
        self.worker.start_jobs(trainings, labels, paused=paused)
        self._update_actions()
        return True

    def _config(self, **kw) -> TrainConfig | None:
        try:
            return self.panel.train_config(**kw)
        except ValueError as exc:
            QMessageBox.warning(self.window, "Invalid setting", str(exc))
            return None

    def run(self) -> None:
        if self.worker.busy and self.worker.paused:
            self.worker.set_paused(False)
            self._update_actions()
            return
        cfg = self._config()
        if cfg is not None:
            self._start([cfg], [rule_label(cfg.optimizer)])

    def race(self, entries: Sequence[tuple[str, Mapping[str, Any]]] | None = None) -> bool:
        """Run ▸ Race optimizers (F7): one training per ``(optimizer, hyperparameters)`` on the panel's model and
        data. With ``entries`` None the race dialog asks (as for a function). Returns whether they started."""
        return self._compare("Race", entries, lambda base: ModelRaceDialog(
            base, self.window, excluded=NOT_FOR_MODELS, default_lr=MODEL_LR,
            own_rules=self.window.side_panel.rule_choice.known_rules()), model_race_configs)

    def sweep(self, lrs: Sequence[float] | None = None) -> bool:
        """Run ▸ Learning-rate sweep (F6): the panel's optimizer at each learning rate of ``lrs``. With ``lrs``
        None the sweep dialog asks (as for a function). Returns whether they started."""
        return self._compare("Sweep", lrs, lambda base: ModelSweepDialog(base, self.window), model_sweep_configs)

    def _compare(self, title: str, choices, make_dialog, make_configs) -> bool:
        base = self._config()
        if base is None:
            return False
        try:
            if choices is None:
                dlg = make_dialog(base)
                if not dlg.exec():
                    return False
                configs = dlg.configs()
            else:
                configs = make_configs(base, choices)
        except ValueError as exc:
            QMessageBox.warning(self.window, title, str(exc))
            return False
        return self._start(configs, [c.name for c in configs])

    def pause(self, paused: bool) -> None:
        if self.worker.busy:
            self.worker.set_paused(paused)
        self._update_actions()

    def step(self) -> None:
        if not self.worker.busy:
            cfg = self._config()
            if cfg is None or not self._start([cfg], [rule_label(cfg.optimizer)], paused=True):
                return
            self.worker.step(2)  # row 0 and the first update
        else:
            self.worker.step(1)
        self._update_actions()

    def reset(self) -> None:
        self.worker.clear()
        self.worker.set_live_plane(None)
        self.progress = None
        self.slice_result = None
        self.workspace.charts.clear_curves()
        self.workspace.surface_view.set_slice(np.zeros(2), np.zeros(1), np.zeros((2, 1)), (),
                                              "Train a model: its loss landscape appears here")
        self.workspace.contour_view.set_slice(np.zeros(2), np.zeros(1), np.zeros((2, 1)))
        self._update_actions()
        self.window.status_label.setText(self.status_text())

    def compute_slice(self) -> None:
        if not self.worker.trainings():
            QMessageBox.information(self.window, "Compute slice", "Train a model first: press Run.")
            return
        try:
            req = self.panel.slice_request()
        except ValueError as exc:
            QMessageBox.warning(self.window, "Invalid setting", str(exc))
            return
        self.window.statusBar().showMessage("computing the slice…", 3000)
        self.worker.request_slice(req)

    # --- from the worker --------------------------------------------------------------------------------
    def _on_ready(self) -> None:
        prog = self.worker.take()
        if prog is None:
            return
        self.progress = prog
        colors = [theme.run_color(j.index) for j in prog.jobs]
        self.workspace.charts.set_curves(prog.jobs, colors)
        live = [(j.ab, c, j.label) for j, c in zip(prog.jobs, colors) if j.ab is not None and len(j.ab)]
        if live and self.slice_result is not None and not prog.finished:
            # paths moving on the last slice's plane while training; the slice is recomputed when it ends
            self.workspace.contour_view.set_paths(live)
            self.workspace.surface_view.set_paths([(ab, c) for ab, c, _ in live])
            self.workspace.surface_view.caption.setText(
                "Training: paths projected live onto the last slice's plane — "
                f"{self.slice_result.plane.caption()}; the slice is recomputed when training ends")
        self.window.status_label.setText(self.status_text())
        self._update_actions()
        if prog.finished and prog.jobs and not self._trained_emitted:
            self._trained_emitted = True
            self._show_weights()
            try:
                self.worker.request_slice(self.panel.slice_request())
            except ValueError:
                self.worker.request_slice(SliceRequest("filter", 51, None, 0))
            self.sig_trained.emit()

    def _on_slice(self, _result) -> None:
        res = self.worker.take_slice()
        if res is None:
            return
        if res.error:
            self.window.statusBar().showMessage(f"slice: {res.error}", 8000)
            self.sig_slice_shown.emit()
            return
        self.slice_result = res
        self.worker.set_live_plane(res.plane)
        sl = res.slice
        colors = [theme.run_color(i) for i in range(len(res.projections))]
        paths3 = [(p.ab, c) for p, c in zip(res.projections, colors)]
        labels = self.labels or [str(i) for i in range(len(res.projections))]
        miss = np.mean([p.mean_miss for p in res.projections]) if res.projections else 0.0
        centre = sl.loss[len(sl.a) // 2, len(sl.b) // 2]
        caption = (f"Loss on θ_c + a·δ + b·η — {res.plane.caption()}; θ_c = final parameters of {labels[0]} "
                   f"(loss {centre:.4g}); paths projected: the plane misses {100 * miss:.0f} % of an average step")
        self.workspace.surface_view.set_slice(sl.a, sl.b, sl.loss, paths3, caption)
        self.workspace.contour_view.set_slice(sl.a, sl.b, sl.loss,
                                              [(p.ab, c, lab) for p, c, lab in zip(res.projections, colors, labels)])
        self.workspace.charts.set_slice_1d(sl.a, sl.loss[:, len(sl.b) // 2])
        self.window.statusBar().showMessage("slice ready", 3000)
        self.sig_slice_shown.emit()

    def _on_error(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 10000)

    def _show_weights(self) -> None:
        trainings = self.worker.trainings()
        if not trainings:
            return
        t = trainings[0]
        m = t.model
        if m.model == "mlp" or not t._thetas:
            self.workspace.charts.weights.set_weights(None, None, ())
            return
        W = m.blocks(np.asarray(t._thetas[-1]))["W"]
        self.workspace.charts.weights.set_weights(W, m.dataset.image_shape, m.dataset.classes)

    # --- status and actions ------------------------------------------------------------------------------
    def status_text(self) -> str:
        prog = self.progress
        if prog is None or not prog.jobs:
            return "Model · pick a dataset and a model, then press Run (F5)"
        j = prog.jobs[-1] if len(prog.jobs) == 1 else prog.jobs[0]
        c = j.curve
        k = int(c["step"][-1]) if len(c["step"]) else 0
        ends = np.flatnonzero(np.isfinite(c["train_loss"]))
        parts = [f"epoch {k / j.batches_per_epoch:.3g}/{j.epochs}", f"step {k:,}"]
        if len(ends):
            e = ends[-1]
            parts.append(f"train {c['train_loss'][e]:.4g}")
            if np.isfinite(c["val_loss"][e]):
                parts.append(f"val {c['val_loss'][e]:.4g}")
            parts.append(f"acc {c['train_acc'][e]:.3f}")
            if np.isfinite(c["val_acc"][e]):
                parts.append(f"val acc {c['val_acc'][e]:.3f}")
        if len(prog.jobs) > 1:
            parts.append(f"{len(prog.jobs)} runs")
        if prog.finished:
            parts.append(j.message or "done")
        else:
            parts.append("paused" if self.worker.paused else "training")
        return "  ·  ".join(parts)

    def _update_actions(self) -> None:
        if not self.active:
            return
        a = self.window.actions
        busy, paused = self.worker.busy, self.worker.paused
        a.pause.setEnabled(busy)
        a.pause.setChecked(busy and paused)
        a.pause.setText("Resume" if busy and paused else "Pause")
        a.run.setText("Resume" if busy and paused else "Run")

    # --- export -------------------------------------------------------------------------------------------
    def curves_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(("run", *CURVE_COLUMNS, "dataset", "model", "optimizer", "lr", "batch_size"))
        for t, label in zip(self.worker.trainings(), self.labels):
            cfg = t.config
            lr = dict(cfg.hyperparams).get("lr", "")
            rows = t.curve.to_csv().splitlines()[1:]
            for r in rows:
                w.writerow([label, *r.split(","), cfg.dataset, cfg.model, cfg.optimizer, lr,
                            cfg.batch_size or "full"])
        return buf.getvalue()

    def export_curves(self, path: str | None = None) -> bool:
        if not self.worker.trainings():
            QMessageBox.information(self.window, "Export curves", "There is no training to export yet: press Run.")
            return False
        if path is None:
            t = self.worker.trainings()[0].config
            name = f"{Path(t.dataset).stem}-{t.model}-" + "-".join(dict.fromkeys(
                tr.config.optimizer for tr in self.worker.trainings())) + ".csv"
            path, _ = QFileDialog.getSaveFileName(self.window, "Export training curves", name,
                                                  "CSV files (*.csv);;All files (*)")
            if not path:
                return False
        return self._write([(path, self.curves_csv())])

    def export_slice(self, path: str | None = None) -> bool:
        res = self.slice_result
        if res is None:
            QMessageBox.information(self.window, "Export slice", "There is no slice yet: train a model first.")
            return False
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self.window, "Export slice", "slice.csv",
                                                  "CSV files (*.csv);;All files (*)")
            if not path:
                return False
        p = Path(path)
        files = [(p, slice_csv(res.slice))]
        for i, (t, proj) in enumerate(zip(self.worker.trainings(), res.projections)):
            suffix = "-path" if len(res.projections) == 1 else f"-path{i + 1}"
            files.append((p.with_name(p.stem + suffix + (p.suffix or ".csv")), path_csv(proj, t.curve)))
        return self._write(files)

    def _write(self, files) -> bool:
        for target, text in files:
            try:
                atomic_write(target, text)
            except OSError as exc:
                QMessageBox.warning(self.window, "Export failed",
                                    f"Could not write {target}:\n{exc.strerror or exc}\n\nNo file was changed.")
                return False
        self.window.statusBar().showMessage(f"Exported {', '.join(str(t) for t, _ in files)}", 6000)
        return True

    # --- sessions -----------------------------------------------------------------------------------------
    def session_view(self) -> dict:
        """The model mode in a session's ``view["model"]``: whether it is shown, the trainings (config and
        label; training is deterministic, so opening trains them again to the same numbers) and the slice
        settings."""
        p = self.panel
        return {
            "active": bool(self.active),
            "runs": [{"config": t.config.to_dict(), "label": label}
                     for t, label in zip(self.worker.trainings(), self.labels)],
            "slice": {"directions": p.directions_combo.currentData(), "grid": p.grid_spin.value(),
                      "span": p.span_edit.text()},
        }

    @staticmethod
    def check_session_view(view) -> list[tuple[TrainConfig, str]]:
        """The trainings of a session's ``view["model"]``; ValueError names a bad entry."""
        if not isinstance(view, dict):
            raise ValueError("view.model must be an object")
        runs = view.get("runs", [])
        if not isinstance(runs, list):
            raise ValueError("view.model.runs must be a list")
        out = []
        for i, r in enumerate(runs):
            if not isinstance(r, dict) or "config" not in r:
                raise ValueError(f"view.model.runs[{i}] needs a 'config'")
            try:
                cfg = TrainConfig.from_dict(r["config"])
                build(cfg)  # names, hyperparameters, the dataset (a missing file) — before anything changes
            except (ValueError, TypeError) as exc:
                raise ValueError(f"view.model.runs[{i}]: {exc}") from None
            label = r.get("label", cfg.optimizer)
            out.append((cfg, label if isinstance(label, str) else cfg.optimizer))
        return out

    def apply_session_view(self, view: dict) -> None:
        """Show a session's model part: the panel set from its first training, every training started again."""
        runs = self.check_session_view(view)
        sl = view.get("slice", {}) if isinstance(view.get("slice"), dict) else {}
        p = self.panel
        if sl.get("directions") in DIRECTIONS:
            p.directions_combo.setCurrentIndex(p.directions_combo.findData(sl["directions"]))
        if isinstance(sl.get("grid"), int) and not isinstance(sl.get("grid"), bool):
            p.grid_spin.setValue(sl["grid"])
        if isinstance(sl.get("span"), str):
            p.span_edit.setText(sl["span"])
        self.reset()
        if runs:
            cfg = runs[0][0]
            p.set_dataset(cfg.dataset)
            p.set_model(cfg.model)
            for k, v in dict(cfg.model_params).items():
                if k in p.model_form.editors:
                    p.model_form.set_value(k, v)
            p.batch_combo.setCurrentText("full" if cfg.batch_size is None else str(cfg.batch_size))
            p.val_spin.setValue(cfg.val)
            p.epochs_spin.setValue(cfg.epochs)
            p.seed_spin.setValue(cfg.seed)
            p.init_combo.setCurrentText(cfg.init)
            p.set_optimizer(cfg.optimizer, **dict(cfg.hyperparams))
            self._start([c for c, _ in runs], [label for _, label in runs])
        if bool(view.get("active")) != self.active:
            self.set_mode("model" if view.get("active") else "function")

    def shutdown(self) -> None:
        self.worker.stop()
        self.worker.wait()


class _PinTopRight(QObject):
    """Keeps ``widget`` at the top-right corner of ``host`` (on its title line) as the host resizes."""

    def __init__(self, widget: QWidget, host: QWidget):
        super().__init__(host)
        self.widget = widget
        host.installEventFilter(self)
        self._place(host)

    def _place(self, host: QWidget) -> None:
        self.widget.move(max(host.width() - self.widget.width() - 6, 0), 0)

    def eventFilter(self, obj, ev) -> bool:
        if ev.type() == QEvent.Type.Resize:
            self._place(obj)
        return False


def install(window) -> ModelMode:
    """Add the model mode to ``window`` (see the module docstring); return its controller."""
    mode = ModelMode(window)
    # central area and dock: stacks (0 = function, 1 = model)
    old_central = window.takeCentralWidget()
    central = QStackedWidget()
    central.addWidget(old_central)
    central.addWidget(mode.workspace)
    window.setCentralWidget(central)
    old_panel = window.panel_dock.widget()
    dock_stack = QStackedWidget()
    dock_stack.addWidget(old_panel)
    dock_stack.addWidget(mode.panel)
    window.panel_dock.setWidget(dock_stack)
    mode.central_stack, mode.dock_stack = central, dock_stack
    mode.panel.rule_choice.store = window.side_panel.rule_choice  # one list of own rules for both modes

    # the Function / Model radios in the side panel's Problem group
    box, fn_radio, md_radio = mode_radios()
    fn_radio.setChecked(True)
    for g in window.side_panel.findChildren(QGroupBox):
        if g.title() == "Problem":
            # on the group's title line, right-aligned: the panel's forms keep their height (they must fit a
            # 900-pixel-high window without scrolling)
            box.setParent(g)
            box.adjustSize()
            mode._title_filter = _PinTopRight(box, g)
            box.show()
            break
    mode.function_radio = fn_radio
    mode.model_radio = md_radio

    def set_mode(kind: str) -> None:
        model = kind == "model"
        if model == mode.active:
            return
        if model and window.controller.busy:
            window.pause()
        mode.active = model
        central.setCurrentIndex(1 if model else 0)
        dock_stack.setCurrentIndex(1 if model else 0)
        if model and not getattr(mode, "_sized", False):  # first time: the two views share the width
            mode._sized = True
            mode.warm_up()
            half = max(mode.workspace.top.width() // 2, 200)
            mode.workspace.top.setSizes([half, half])
        for r, on in ((md_radio, model), (fn_radio, not model), (mode.panel.model_radio, model),
                      (mode.panel.function_radio, not model)):
            r.blockSignals(True)
            r.setChecked(on)
            r.blockSignals(False)
        if model:
            mode._update_actions()
            window.status_label.setText(mode.status_text())
        else:
            window._update_actions()
            window._update_status()

    mode.set_mode = set_mode
    mode.worker.set_speed(window.actions.speed.speed())  # the toolbar's speed paces training too
    window.actions.speed.sig_speed_changed.connect(mode.worker.set_speed)
    md_radio.toggled.connect(lambda on: on and set_mode("model"))
    mode.panel.sig_mode.connect(set_mode)

    # the run actions act on the mode shown: their only receivers are the window's commands (connected in
    # MainWindow._wire), replaced here by dispatchers that ask which mode is shown
    a = window.actions
    reroute = ((a.run, "run", mode.run), (a.step, "step", mode.step), (a.reset, "reset", mode.reset),
               (a.sweep, "sweep", mode.sweep), (a.race, "race", mode.race),
               (a.export_csv, "export_trajectory", mode.export_curves))
    for act, fn_name, model_slot in reroute:
        act.triggered.disconnect()
        actions_mod.on_trigger(act, lambda f=fn_name, m=model_slot: m() if mode.active else getattr(window, f)())
    a.pause.triggered.disconnect()
    a.pause.triggered.connect(lambda checked: mode.pause(checked) if mode.active
                              else window._on_pause_action(checked))
    return mode
