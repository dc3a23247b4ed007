"""Tidy CSV of trajectories: one row per step per run, readable by a spreadsheet and by pandas as is.

Columns (``COLUMNS``)::

    run, step, x, y, loss, grad_x, grad_y, grad_norm, step_size, objective, optimizer, lr, gradient, status,
    nfev, njev, nhev

``run`` is the run's name (or its index), with ``#i`` appended for start ``i`` of a multi-start run;
``step_size`` is ``‖x_k − x_{k−1}‖`` (empty on row 0); ``status`` is the run's final status, repeated on
each of its rows so a filter by status keeps whole runs; so are ``nfev``, ``njev``, ``nhev``, the evaluations of
f, ∇f and the Hessian the start used in all (scipy's names: compare methods per evaluation, not per step). ``objective`` is the objective spec (a custom
formula appears as ``expr:<formula>``). Objectives of dimension d > 2 write ``x1..xd`` and ``grad_x1..``
instead of ``x, y, grad_x, grad_y``.

Writing is atomic: rows go to a temporary file in the target's folder which then replaces the target,
so a failure leaves any existing file untouched (:mod:`gdstudio.core.files`: a link is written through,
a read-only file is refused, a FIFO or device is written directly).

Text cells are neutralised for spreadsheets (OWASP's advice against CSV injection): a text cell that
begins with ``= + - @``, a tab or a carriage return — which a spreadsheet would read as a formula — is
prefixed with a single quote ``'``, and so is one that already begins with ``'`` (so :func:`read_csv`
removes exactly one quote and gives back the original text). Numeric cells (``-1.5``, ``-inf``) are
numbers and are never prefixed. A lone surrogate in a name (not encodable as UTF-8) is written as U+FFFD.

:class:`SpooledRun` lets a long run be written with bounded memory: its steps go to a temporary binary
file as they are computed (41 bytes per step for one 2-D start), and the CSV is written from it at the
end, when each start's final status (the ``status`` column) is known.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path
from typing import IO, Iterable, Sequence

import numpy as np

from gdstudio.core.files import open_atomic
from gdstudio.core.runs import Run, RunResult, Status, Step

META_COLUMNS = ("objective", "optimizer", "lr", "gradient", "status")
#: Evaluation counts of the whole start (added after the columns above, so older readers keep working).
EVAL_COLUMNS = ("nfev", "njev", "nhev")


def columns(dim: int = 2) -> list[str]:
    if dim == 2:
        coords, grads = ["x", "y"], ["grad_x", "grad_y"]
    else:
        coords = [f"x{i + 1}" for i in range(dim)]
        grads = [f"grad_x{i + 1}" for i in range(dim)]
    return ["run", "step", *coords, "loss", *grads, "grad_norm", "step_size", *META_COLUMNS, *EVAL_COLUMNS]


COLUMNS = tuple(columns(2))


def _num(v: float) -> str:
    # repr of a Python float round-trips exactly; non-finite values are written as spreadsheets expect.
    v = float(v)
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(v)


#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: The text columns (every other column holds numbers).
TEXT_COLUMNS = frozenset({"run", "objective", "optimizer", "gradient", "status"})


def text_cell(text: str) -> str:
    """``text`` safe for a spreadsheet cell (see the module docstring); :func:`read_csv` inverts it."""
    text = str(text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (e.g. from a file name's undecodable byte)
        text = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
    return "'" + text if text.startswith(FORMULA_START + ("'",)) else text


def _untext(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell


def run_label(result: RunResult, index: int, start: int) -> str:
    return _label(result.config.name, index, len(result.trajectories), start)


def _label(name: str, index: int, n_starts: int, start: int) -> str:
    base = name or f"run{index + 1}"
    return base if n_starts == 1 else f"{base}#{start}"


def _meta(cfg, status, evals=(0, 0, 0)) -> list[str]:
    lr = dict(cfg.hyperparams).get("lr", "")
    return [text_cell(cfg.objective_spec), text_cell(cfg.optimizer), "" if lr == "" else _num(lr),
            text_cell(cfg.gradient), text_cell(str(status)), *(str(int(v)) for v in evals)]


def _rows(label: str, k0: int, x, loss, grad, prev, meta) -> Iterable[list[str]]:
    """Rows ``k0, k0+1, ...`` of one start (``prev``: the point of row ``k0 - 1``, None for row 0)."""
    with np.errstate(all="ignore"):  # inf - inf in a diverged run's step size is nan, silently
        gnorm = np.linalg.norm(grad, axis=-1) if len(grad) else np.zeros(0)
        steps = np.zeros(len(x))
        if len(x):
            before = np.concatenate([x[:1] if prev is None else prev[None], x[:-1]])
            steps = np.linalg.norm(x - before, axis=-1)
    for j in range(len(x)):
        k = k0 + j
        yield [label, str(k), *map(_num, x[j]), _num(loss[j]), *map(_num, grad[j]),
               _num(gnorm[j]), "" if k == 0 else _num(steps[j]), *meta]


def iter_rows(results: Sequence[RunResult]) -> Iterable[list[str]]:
    """The CSV rows (without header) of several runs, in order."""
    for index, res in enumerate(results):
        for start, t in enumerate(res.trajectories):
            label = text_cell(run_label(res, index, start))
            yield from _rows(label, 0, t.x, t.loss, t.grad, None, _meta(res.config, t.status, (t.nfev, t.njev, t.nhev)))


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
    dims = {r.trajectories[0].x.shape[-1] for r in results if r.trajectories}
    if len(dims) > 1:
        raise ValueError("runs of different dimensions cannot share one CSV")
    with open_atomic(path, "w", newline="") as f:
        return write_csv_to(f, results)


class SpooledRun:
    """The steps of one :class:`~gdstudio.core.runs.Run`, kept on disk rather than in memory.

    ``add(step)`` appends one fixed-size binary record (points, losses, gradients and recorded flags of
    all starts) to an anonymous temporary file (removed by the system however the process ends). After
    the run, :meth:`write_csv_to` writes the same CSV as :func:`write_csv_to` of the run's result, reading
    the records back in chunks of :attr:`CHUNK` steps: memory stays bounded whatever the number of steps.
    """

    CHUNK = 65536

    def __init__(self, run: Run, index: int = 0, folder: str | os.PathLike | None = None):
        self.run = run
        self.index = index
        n, d = len(run.config.starts), run.objective.dim
        self.n, self.d = n, d
        self._dtype = np.dtype([("x", float, (n, d)), ("loss", float, (n,)), ("grad", float, (n, d)),
                                ("rec", bool, (n,))])
        self._file = tempfile.TemporaryFile(dir=folder)
        self._write = self._file.write
        self.steps = 0
        #: Per start: the number of recorded rows (row ``k`` is recorded for ``k < rows[i]``: a start that
        #: ended records nothing more).
        self.rows = np.zeros(n, dtype=np.int64)

    def add(self, step: Step) -> None:
        w = self._write  # the record's fields in order, as raw bytes (x, loss, grad, recorded)
        w(np.ascontiguousarray(step.x, dtype=float).data)
        w(np.ascontiguousarray(step.loss, dtype=float).data)
        w(np.ascontiguousarray(step.grad, dtype=float).data)
        w(np.ascontiguousarray(step.recorded, dtype=bool).data)
        self.steps += 1
        self.rows += step.recorded

    def last(self, start: int) -> tuple[np.ndarray, float] | None:
        """The last recorded point and loss of ``start`` (None if it has no row)."""
        k = int(self.rows[start]) - 1
        if k < 0:
            return None
        self._file.flush()
        data = np.memmap(self._file, dtype=self._dtype, mode="r", shape=(self.steps,))
        x, loss = np.array(data["x"][k, start]), float(data["loss"][k, start])
        del data
        return x, loss

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "SpooledRun":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def label(self, start: int) -> str:
        return _label(self.run.config.name, self.index, self.n, start)

    def write_rows(self, writer) -> int:
        """Write every start's rows (no header) with a ``csv.writer``; return their number."""
        self._file.flush()
        if not self.steps:
            return 0
        data = np.memmap(self._file, dtype=self._dtype, mode="r", shape=(self.steps,))
        total = 0
        try:
            for i in range(self.n):
                label = text_cell(self.label(i))
                meta = _meta(self.run.config, Status(self.run.status[i]),
                             (self.run.nfev[i], self.run.njev[i], self.run.nhev[i]))
                k, prev = 0, None
                for k0 in range(0, self.steps, self.CHUNK):
                    block = data[k0:k0 + self.CHUNK]
                    keep = np.asarray(block["rec"][:, i])
                    x = np.asarray(block["x"][:, i])[keep]
                    if not len(x):
                        continue
                    loss = np.asarray(block["loss"][:, i])[keep]
                    grad = np.asarray(block["grad"][:, i])[keep]
                    writer.writerows(_rows(label, k, x, loss, grad, prev, meta))
                    k += len(x)
                    prev = x[-1]
                total += k
        finally:
            del data
        return total

    def write_csv_to(self, stream: IO[str]) -> int:
        """The header and rows to an open text stream; return the number of data rows."""
        w = csv.writer(stream, lineterminator="\n")
        w.writerow(columns(self.d))
        return self.write_rows(w)

    def write_csv(self, path: str | os.PathLike) -> int:
        """The CSV to ``path`` (atomically, by :mod:`gdstudio.core.files`' rules); the number of rows."""
        with open_atomic(path, "w", newline="") as f:
            return self.write_csv_to(f)


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
    text = TEXT_COLUMNS
    out: dict[str, list] = {c: [] for c in header}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ValueError(f"line {line}: expected {len(header)} fields, got {len(row)}")
        for c, v in zip(header, row):
            if c in text:
                out[c].append(_untext(v))
            elif c in ("step", *EVAL_COLUMNS):
                out[c].append(int(v))
            else:
                out[c].append(float(v) if v != "" else float("nan"))
    return out
