"""A run's full history in compact arrays, written by one thread and read (as views) by another.

:class:`History` keeps every :class:`~gdstudio.core.runs.Step` of a :class:`~gdstudio.core.runs.Run`: per row
``k`` and start ``i`` the point ``x`` (d float64), the loss, the gradient (d float64) and two flags
(``recorded``, ``ended``): 8·(2d + 1) + 2 bytes, 42 bytes per step for one 2-D start, and nothing per step
besides (no Python object, no step number: row ``k`` *is* step ``k``, since a run yields steps 0, 1, 2...).
A row a start did not record (it had ended, or diverged at that step) holds NaN in ``x``, ``loss`` and
``grad``, so a drawing with ``connect="finite"`` stops there.

Storage: the arrays are reserved for the run's length (``epochs + 1`` rows, at most :data:`RESERVE_ROWS`)
with ``np.empty``, whose pages the operating system commits only when written, so a million-epoch run
costs memory as it advances and nothing is ever copied to grow; a longer run doubles its capacity when full.

Threads: one writer (the worker) calls :meth:`add`; readers use :meth:`rows` with a row count the writer
has *published* (:meth:`publish`): rows below it are never written again, and a reader that took the
arrays before a growth keeps valid (old) arrays for those rows, so no lock is needed.

:meth:`result` gives the same :class:`~gdstudio.core.runs.RunResult` as the core's ``Recorder`` for the
same steps, with trajectories that are views of these arrays, not copies.
"""

from __future__ import annotations

import numpy as np

from gdstudio.core.runs import Run, RunResult, Status, Step, Trajectory

#: Rows reserved up front at most (about 170 MB of address space for one 2-D start; untouched pages cost nothing).
RESERVE_ROWS = 4_000_000

#: Bytes per row and start for dimension d (x, loss, grad, recorded, ended).
def bytes_per_step(d: int = 2) -> int:
    return 8 * (2 * d + 1) + 2


class History:
    """Every step of a run (see the module docstring). ``n_starts`` N, dimension ``dim`` d."""

    def __init__(self, n_starts: int, dim: int, rows_hint: int = 64):
        self.n_starts, self.dim = int(n_starts), int(dim)
        cap = int(min(max(rows_hint, 64), RESERVE_ROWS))
        self._alloc(cap)
        self._n = 0
        self.published = 0

    @classmethod
    def for_run(cls, run: Run) -> "History":
        return cls(len(run.config.starts), run.objective.dim, run.config.epochs + 1)

    def _alloc(self, cap: int, keep: int = 0) -> None:
        n, d = self.n_starts, self.dim
        new = {"x": np.empty((cap, n, d)), "loss": np.empty((cap, n)), "grad": np.empty((cap, n, d)),
               "recorded": np.empty((cap, n), dtype=bool), "ended": np.empty((cap, n), dtype=bool)}
        if keep:
            for k, v in new.items():
                v[:keep] = getattr(self, "_" + k)[:keep]
        # swap in one go per array (readers holding the old arrays keep valid rows below `published`)
        self._x, self._loss, self._grad = new["x"], new["loss"], new["grad"]
        self._recorded, self._ended = new["recorded"], new["ended"]

    @property
    def capacity(self) -> int:
        return len(self._x)

    def __len__(self) -> int:
        """Rows written (the writer's count; readers use :attr:`published`)."""
        return self._n

    @property
    def nbytes(self) -> int:
        """Bytes of the rows written so far."""
        return self._n * self.n_starts * bytes_per_step(self.dim)

    # --- writer ----------------------------------------------------------------------------------------
    def add(self, step: Step) -> None:
        """Append one step (row ``len(self)``); rows a start did not record are stored as NaN."""
        self.add_row(step.x, step.loss, step.grad, step.recorded, step.ended)

    def add_row(self, x, loss, grad, recorded, ended) -> None:
        """Append one row from its parts ((N, d), (N,), (N, d), (N,), (N,))."""
        i = self._n
        if i == len(self._x):
            self._alloc(2 * i, keep=i)
        rec = np.asarray(recorded, dtype=bool)
        if rec.all():
            self._x[i] = x
            self._loss[i] = loss
            self._grad[i] = grad
        else:
            self._x[i] = np.where(rec[:, None], x, np.nan)
            self._loss[i] = np.where(rec, loss, np.nan)
            self._grad[i] = np.where(rec[:, None], grad, np.nan)
        self._recorded[i] = rec
        self._ended[i] = ended
        self._n = i + 1

    def publish(self) -> int:
        """Make every row written so far visible to readers; returns the published count."""
        self.published = self._n
        return self._n

    # --- readers ----------------------------------------------------------------------------------------
    def rows(self, n: int | None = None) -> dict[str, np.ndarray]:
        """Views of rows ``0..n`` (default: the published rows): ``x`` (n, N, d), ``loss`` (n, N), ``grad``
        (n, N, d), ``recorded`` and ``ended`` (n, N)."""
        n = self.published if n is None else min(int(n), self._n)
        x, loss, grad, rec, end = self._x, self._loss, self._grad, self._recorded, self._ended
        return {"x": x[:n], "loss": loss[:n], "grad": grad[:n], "recorded": rec[:n], "ended": end[:n]}

    def result(self, run: Run, n: int | None = None) -> RunResult:
        """The run's RunResult over rows ``0..n`` (default: published), as the core's Recorder builds it.

        A start records a prefix of the rows (it records until it ends), so its trajectory is a slice: views,
        no copies. (Should a start ever skip a row and record later ones, it falls back to a masked copy.)
        """
        r = self.rows(n)
        R = r["recorded"]
        trajs = []
        for i in range(self.n_starts):
            col = R[:, i]
            m = int(np.count_nonzero(col))
            sel = slice(0, m) if col[:m].all() else col
            trajs.append(Trajectory(r["x"][sel, i], r["loss"][sel, i], r["grad"][sel, i],
                                    Status(run.status[i]), run.message[i],
                                    int(run.nfev[i]), int(run.njev[i]), int(run.nhev[i])))
        return RunResult(run.config, trajs)
