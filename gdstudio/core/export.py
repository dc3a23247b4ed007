"""Tidy CSV of trajectories: one row per step per run, readable by a spreadsheet and by pandas as is.

Columns (``COLUMNS``)::

    run, step, x, y, loss, grad_x, grad_y, grad_norm, step_size, objective, optimizer, lr, gradient, status

``run`` is the run's name (or its index), with ``#i`` appended for start ``i`` of a multi-start run;
``step_size`` is ``‖x_k − x_{k−1}‖`` (empty on row 0); ``status`` is the run's final status, repeated on
each of its rows so a filter by status keeps whole runs. ``objective`` is the objective spec (a custom
formula appears as ``expr:<formula>``). Objectives of dimension d > 2 write ``x1..xd`` and ``grad_x1..``
instead of ``x, y, grad_x, grad_y``.

Writing is atomic: rows go to a temporary file in the target's folder which then replaces the target,
so a failure leaves any existing file untouched.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import IO, Iterable, Sequence

import numpy as np

from gdstudio.core.files import atomic_write
from gdstudio.core.runs import RunResult

META_COLUMNS = ("objective", "optimizer", "lr", "gradient", "status")


def columns(dim: int = 2) -> list[str]:
    if dim == 2:
        coords, grads = ["x", "y"], ["grad_x", "grad_y"]
    else:
        coords = [f"x{i + 1}" for i in range(dim)]
        grads = [f"grad_x{i + 1}" for i in range(dim)]
    return ["run", "step", *coords, "loss", *grads, "grad_norm", "step_size", *META_COLUMNS]


COLUMNS = tuple(columns(2))


def _num(v: float) -> str:
    # repr of a Python float round-trips exactly; non-finite values are written as spreadsheets expect.
    v = float(v)
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(v)


def run_label(result: RunResult, index: int, start: int) -> str:
    base = result.config.name or f"run{index + 1}"
    return base if len(result.trajectories) == 1 else f"{base}#{start}"


def iter_rows(results: Sequence[RunResult]) -> Iterable[list[str]]:
    """The CSV rows (without header) of several runs, in order."""
    for index, res in enumerate(results):
        cfg = res.config
        lr = dict(cfg.hyperparams).get("lr", "")
        for start, t in enumerate(res.trajectories):
            label = run_label(res, index, start)
            steps = np.zeros(len(t.x))
            if len(t.x) > 1:
                steps[1:] = np.linalg.norm(np.diff(t.x, axis=0), axis=-1)
            gnorm = np.linalg.norm(t.grad, axis=-1) if len(t.grad) else np.zeros(0)
            meta = [cfg.objective_spec, cfg.optimizer, "" if lr == "" else _num(lr), cfg.gradient, str(t.status)]
            for k in range(len(t.x)):
                yield [label, str(k), *map(_num, t.x[k]), _num(t.loss[k]), *map(_num, t.grad[k]),
                       _num(gnorm[k]), "" if k == 0 else _num(steps[k]), *meta]


def write_csv_to(stream: IO[str], results: Sequence[RunResult]) -> int:
    """Write the header and rows to an open text stream; return the number of data rows."""
    dims = {r.trajectories[0].x.shape[-1] for r in results if r.trajectories}
    if len(dims) > 1:
        raise ValueError("runs of different dimensions cannot share one CSV")
    w = csv.writer(stream, lineterminator="\n")
    w.writerow(columns(dims.pop() if dims else 2))
    n = 0
    for row in iter_rows(results):
        w.writerow(row)
        n += 1
    return n


def write_csv(path: str | os.PathLike, results: Sequence[RunResult]) -> int:
    """Write ``results`` to ``path`` atomically; return the number of data rows.

    Raises ``OSError`` (unwritable folder, disk full...) with the target left as it was.
    """
    path = Path(path)
    buf = io.StringIO()
    n = write_csv_to(buf, results)
    atomic_write(path, buf.getvalue())
    return n


def read_csv(path_or_stream) -> dict[str, list]:
    """Read a trajectory CSV back into columns: numbers as floats (``step`` as int), text as str.

    Raises ``ValueError`` if the header lacks the required columns.
    """
    if hasattr(path_or_stream, "read"):
        rows = list(csv.reader(path_or_stream))
    else:
        with open(path_or_stream, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    if not rows:
        raise ValueError("empty CSV: no header row")
    header = rows[0]
    missing = [c for c in ("run", "step", "loss") if c not in header]
    if missing:
        raise ValueError(f"not a gdstudio trajectory CSV: missing column {missing[0]!r}")
    text = {"run", "objective", "optimizer", "gradient", "status"}
    out: dict[str, list] = {c: [] for c in header}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ValueError(f"line {line}: expected {len(header)} fields, got {len(row)}")
        for c, v in zip(header, row):
            if c in text:
                out[c].append(v)
            elif c == "step":
                out[c].append(int(v))
            else:
                out[c].append(float(v) if v != "" else float("nan"))
    return out
