"""Training a model: a dataset, a model objective and an optimizer, run through the ordinary :class:`Run`.

A :class:`TrainConfig` (immutable) says everything; :func:`build` turns it into the dataset, the
:class:`~gdstudio.core.models.ModelObjective` and the :class:`~gdstudio.core.runs.RunConfig` whose ``epochs``
is the number of *updates* (``epochs × batches per epoch``). The run loop calls the objective's ``on_step``
so each step's loss and gradient are those of its minibatch.

:class:`Curve` records, per step ``k`` (row 0 = the initial parameters):

- ``batch_loss`` — the loss of the minibatch of step ``k`` at θ_k (the loss the run itself reports);
- at each epoch end (and at step 0) ``train_loss`` / ``val_loss`` on the whole training / validation part and
  ``train_acc`` / ``val_acc``; NaN (an empty CSV cell) between epoch ends and for an empty validation part.

With full batches every step is an epoch end and ``batch_loss == train_loss``.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

import numpy as np

from gdstudio.core.data import Dataset, load_dataset
from gdstudio.core.files import atomic_write
from gdstudio.core.models import MAX_DENSE_DIM, ModelObjective, blas_single_thread, dense_refusal
from gdstudio.core.runs import Run, RunConfig, Status, _freeze

#: Optimizers that build a dense d×d matrix.
DENSE_METHODS = ("newton", "bfgs")

CURVE_COLUMNS = ("step", "epoch", "batch_loss", "train_loss", "val_loss", "train_acc", "val_acc")


@dataclass(frozen=True)
class TrainConfig:
    """What a training run needs (safe to hand to another thread)."""

    dataset: str = "digits"
    model: str = "softmax"
    optimizer: str = "gd"
    hyperparams: tuple[tuple[str, Any], ...] = ()
    model_params: tuple[tuple[str, Any], ...] = ()
    batch_size: int | None = None
    val: float = 0.0
    epochs: int = 10
    seed: int = 0
    init: str = "zeros"
    standardize: bool | None = None
    name: str = ""

    @classmethod
    def create(cls, hyperparams: Mapping[str, Any] | None = None, model_params: Mapping[str, Any] | None = None,
               **kw) -> "TrainConfig":
        return cls(hyperparams=_freeze(hyperparams), model_params=_freeze(model_params), **kw)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for sessions); :meth:`from_dict` inverts it."""
        import dataclasses

        d = dataclasses.asdict(self)
        d["hyperparams"] = dict(self.hyperparams)
        d["model_params"] = dict(self.model_params)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "TrainConfig":
        """Check and build a config from :meth:`to_dict`'s output; ValueError names a bad entry."""
        import dataclasses

        if not isinstance(d, Mapping):
            raise ValueError("a training config must be an object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown training setting {unknown[0]!r}")
        d = dict(d)
        for key in ("hyperparams", "model_params"):
            if not isinstance(d.get(key, {}), Mapping):
                raise ValueError(f"{key} must be an object")
        types = {"dataset": str, "model": str, "optimizer": str, "init": str, "name": str}
        for key, t in types.items():
            if key in d and not isinstance(d[key], t):
                raise ValueError(f"{key} must be text")
        for key in ("epochs", "seed"):
            if key in d and (isinstance(d[key], bool) or not isinstance(d[key], int)):
                raise ValueError(f"{key} must be a whole number")
        if d.get("batch_size") is not None and (isinstance(d["batch_size"], bool)
                                                or not isinstance(d["batch_size"], int) or d["batch_size"] < 1):
            raise ValueError("batch_size must be a whole number ≥ 1 or null")
        if "val" in d and (isinstance(d["val"], bool) or not isinstance(d["val"], (int, float))
                           or not 0 <= d["val"] < 1):
            raise ValueError("val must be a number in [0, 1)")
        if d.get("standardize") is not None and not isinstance(d["standardize"], bool):
            raise ValueError("standardize must be true, false or null")
        return cls.create(**d)

    @property
    def hp(self) -> dict[str, Any]:
        """The hyperparameters as a dict (like :attr:`RunConfig.hp`: a sweep or race builds on either)."""
        return dict(self.hyperparams)

    def build_optimizer(self):
        """The optimizer with these hyperparameters; ValueError names a bad one (as RunConfig's does)."""
        from gdstudio.core.optimizers import get_optimizer

        return get_optimizer(self.optimizer, **self.hp)

    def replace(self, **changes) -> "TrainConfig":
        import dataclasses

        for key in ("hyperparams", "model_params"):
            if key in changes and not isinstance(changes[key], tuple):
                changes[key] = _freeze(changes[key])
        return dataclasses.replace(self, **changes)


_DATA_CACHE: dict[tuple, Dataset] = {}


def dataset_for(cfg: TrainConfig) -> Dataset:
    """The config's dataset, cached per (source, split, seed, standardize) for built-in names."""
    key = (cfg.dataset, cfg.val, cfg.seed, cfg.standardize)
    if key in _DATA_CACHE:
        return _DATA_CACHE[key]
    ds = load_dataset(cfg.dataset, val=cfg.val, seed=cfg.seed, standardize=cfg.standardize)
    if os.sep not in cfg.dataset:
        _DATA_CACHE[key] = ds
    return ds


def build(cfg: TrainConfig, dataset: Dataset | None = None) -> tuple[ModelObjective, RunConfig]:
    """The model objective and the run config of a training config; ValueError names any problem."""
    if isinstance(cfg.epochs, bool) or not isinstance(cfg.epochs, int) or cfg.epochs < 0:
        raise ValueError(f"epochs must be a whole number ≥ 0, got {cfg.epochs!r}")
    ds = dataset if dataset is not None else dataset_for(cfg)
    model = ModelObjective(ds, cfg.model, dict(cfg.model_params), cfg.batch_size, cfg.seed, cfg.init)
    if cfg.optimizer in DENSE_METHODS and model.dim > MAX_DENSE_DIM:
        raise ValueError(f"{cfg.optimizer}: {dense_refusal(model.dim)}")
    theta0 = model.initial_theta()
    # RunConfig.create would look the objective up by name; a model is an instance, validated below.
    run_cfg = RunConfig(objective=f"model:{cfg.model}", optimizer=cfg.optimizer,
                        starts=(tuple(float(v) for v in theta0),), epochs=cfg.epochs * model.batches_per_epoch,
                        hyperparams=_freeze(dict(cfg.hyperparams)), seed=cfg.seed, name=cfg.name)
    run_cfg.validate(model)
    return model, run_cfg


@dataclass
class Curve:
    """The training record (see the module docstring); arrays grow as steps arrive."""

    batches_per_epoch: int
    rows: dict[str, list] = field(default_factory=lambda: {c: [] for c in CURVE_COLUMNS})

    def __len__(self) -> int:
        return len(self.rows["step"])

    def array(self, column: str) -> np.ndarray:
        return np.asarray(self.rows[column], dtype=float)

    def add(self, model: ModelObjective, k: int, theta: np.ndarray, batch_loss: float) -> None:
        r = self.rows
        r["step"].append(k)
        r["epoch"].append(k / self.batches_per_epoch)
        r["batch_loss"].append(float(batch_loss))
        if k % self.batches_per_epoch == 0:
            if model.batch_size is None:
                train = float(batch_loss)
            else:
                train = float(model.full_loss(theta, "train"))
            r["train_loss"].append(train)
            r["val_loss"].append(float(model.full_loss(theta, "val")))
            r["train_acc"].append(float(model.accuracy(theta, "train")))
            r["val_acc"].append(float(model.accuracy(theta, "val")))
        else:
            for c in ("train_loss", "val_loss", "train_acc", "val_acc"):
                r[c].append(math.nan)

    def epoch_rows(self) -> np.ndarray:
        """Indices of the rows at epoch ends (where the full-set columns are filled)."""
        return np.flatnonzero(np.asarray(self.rows["step"]) % self.batches_per_epoch == 0)

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(CURVE_COLUMNS)
        cols = [self.rows[c] for c in CURVE_COLUMNS]
        for vals in zip(*cols):
            w.writerow([str(vals[0])] + [_num(v) for v in vals[1:]])
        return buf.getvalue()

    def write(self, path: str | os.PathLike) -> None:
        atomic_write(path, self.to_csv())


def _num(v: float) -> str:
    v = float(v)
    if math.isnan(v):
        return ""
    return repr(v)


@dataclass
class TrainResult:
    config: TrainConfig
    model: ModelObjective
    curve: Curve
    thetas: np.ndarray  # (K+1, d) every step's parameters
    status: Status
    message: str

    @property
    def final(self) -> np.ndarray:
        return self.thetas[-1]


class Training:
    """Iterate a training run step by step (``for k in Training(cfg)``), recording the curve and θ_k.

    :meth:`cancel` ends it (thread-safe flag). ``keep_thetas`` keeps every θ_k (needed for the PCA plane
    and the projected path; (K+1) × d floats).
    """

    def __init__(self, cfg: TrainConfig, model: ModelObjective | None = None, keep_thetas: bool = True):
        self.config = cfg
        if model is None:
            model, run_cfg = build(cfg)
        else:
            _, run_cfg = build(cfg, model.dataset)
        self.model = model
        self.run = Run(run_cfg, objective=model)
        self.curve = Curve(model.batches_per_epoch)
        self.keep_thetas = keep_thetas
        self._thetas: list[np.ndarray] = []

    def cancel(self) -> None:
        self.run.cancel()

    def __iter__(self) -> Iterator[int]:
        with blas_single_thread():
            yield from self._steps()

    def _steps(self) -> Iterator[int]:
        for step in self.run:
            if not step.recorded[0]:
                continue
            theta = step.x[0]
            self.curve.add(self.model, step.k, theta, step.loss[0])
            if self.keep_thetas or not self._thetas:
                self._thetas.append(theta)
            else:
                self._thetas[-1] = theta
            yield step.k

    def result(self) -> TrainResult:
        thetas = np.array(self._thetas) if self._thetas else np.empty((0, self.model.dim))
        status = Status(self.run.status[0])
        message = self.run.message[0]
        if status == Status.COMPLETED:  # the run counts updates; a training counts epochs
            message = f"completed {self.config.epochs} epochs"
        return TrainResult(self.config, self.model, self.curve, thetas, status, message)


def train(cfg: TrainConfig, keep_thetas: bool = True) -> TrainResult:
    """Run ``cfg`` to the end (see :class:`Training`)."""
    t = Training(cfg, keep_thetas=keep_thetas)
    for _ in t:
        pass
    return t.result()
