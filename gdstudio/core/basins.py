"""Basins of attraction: where does each start of a grid end?

One start per grid point, all run together by :class:`~gdstudio.core.runs.Run` with the
:class:`~gdstudio.core.runs.FinalState` collector (only the last point of each start is kept, so memory
is O(grid²) whatever the epochs). Each start's end point is then classified against the objective's
known critical points (when it lists none, e.g. a typed formula, those found by
:func:`gdstudio.core.analysis.critical.find_critical_points` in the grid's box):

.. math::

    \\text{basin}_i = \\operatorname*{arg\\,min}_j \\lVert x_i - c_j \\rVert
    \\quad\\text{if}\\quad \\min_j \\lVert x_i - c_j \\rVert \\le r, \\quad\\text{else } -1

with ``r`` the ``radius`` (default: 2 % of the grid's diagonal). A start that diverged or failed is
−1 whatever its last point. Gradient descent finds minima; Newton's method, which steps to the
stationary point of its local quadratic model, also finds maxima and saddles — the map shows it.

:meth:`BasinMap.colours` turns a map into an RGBA image: one hue per basin, brighter for starts that
ended in fewer steps; −1 starts are near-black when they diverged or failed and mid grey when they are simply
not at a critical point (still travelling when the epochs ran out, or stopped near none that is known): a
start that is slow is not a start that blew up.

>>> m = basin_map("himmelblau", "gd", grid=21, epochs=300, hyperparams={"lr": 0.01})
>>> sorted(set(m.basin.tolist()))
[0, 1, 2, 3]
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from gdstudio.core.files import atomic_write
from gdstudio.core.objectives import CriticalPoint, Objective, get_objective
from gdstudio.core.runs import STATUS_CODES, Callback, FinalState, Reason, Run, RunConfig, Status

#: Starts run together in one block (see :func:`basin_map`).
BLOCK = 16384
#: Default tolerance: a start stops once ‖∇f‖ ≤ this, so its steps say how fast it got there.
DEFAULT_TOL = 1e-6
#: Default classification radius as a fraction of the grid's diagonal.
RADIUS_FRACTION = 0.02

#: Basin colours (RGB), one per critical point in order; then they repeat. Chosen to be told apart on
#: light and dark backgrounds (Okabe–Ito's colour-blind-safe set, then a few of Tableau's).
PALETTE = np.array([
    (0, 114, 178), (230, 159, 0), (0, 158, 115), (204, 121, 167), (86, 180, 233), (213, 94, 0),
    (240, 228, 66), (148, 103, 189), (140, 86, 75), (127, 127, 127), (188, 189, 34), (23, 190, 207),
], dtype=np.uint8)
#: Colour of starts that diverged or failed.
NONE_COLOUR = (30, 30, 30)
#: Colour of the other −1 starts: finite, but not at a known critical point when they ended (most often
#: still travelling when the epochs ran out, e.g. along Rosenbrock's valley).
UNFINISHED_COLOUR = (105, 105, 105)
#: Brightness of a start that used all its epochs, relative to one that ended at once.
DARKEST = 0.45

_DIVERGED = STATUS_CODES.index(Status.DIVERGED)
_FAILED = STATUS_CODES.index(Status.FAILED)
_COMPLETED = STATUS_CODES.index(Status.COMPLETED)


@dataclass(frozen=True)
class BasinMap:
    """The outcome of one start per grid point.

    Arrays are flat over the ``nx × ny`` grid, start ``i = a·ny + b`` at ``(xs[a], ys[b])`` (x along the
    first axis, as :meth:`Objective.grid`): ``x0`` (N, 2) the starts, ``x`` (N, 2) the last recorded
    points (NaN when none), ``status`` (N,) int8 codes into :data:`~gdstudio.core.runs.STATUS_CODES`,
    ``steps`` (N,) the step of the last recorded point, ``basin`` (N,) the index into ``critical`` or −1.
    ``nfev`` and ``njev`` are the evaluations each start used.
    """

    xs: np.ndarray
    ys: np.ndarray
    x0: np.ndarray
    x: np.ndarray
    status: np.ndarray
    steps: np.ndarray
    basin: np.ndarray
    nfev: np.ndarray
    njev: np.ndarray
    critical: tuple[CriticalPoint, ...]
    config: RunConfig
    radius: float
    cancelled: bool = False

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.xs), len(self.ys)

    def grid(self, a: np.ndarray) -> np.ndarray:
        """A flat per-start array as an ``(nx, ny, ...)`` image."""
        return a.reshape(self.shape + a.shape[1:])

    def counts(self) -> np.ndarray:
        """How many starts ended in each basin (index j), and at the end how many in none (−1)."""
        c = np.bincount(self.basin + 1, minlength=len(self.critical) + 1)
        return np.concatenate([c[1:], c[:1]])

    def index_at(self, px: float, py: float) -> int | None:
        """The start nearest to the point (px, py) of the plane, or None outside the grid."""
        (x0, x1), (y0, y1) = (self.xs[0], self.xs[-1]), (self.ys[0], self.ys[-1])
        nx, ny = self.shape
        fa = (px - x0) / (x1 - x0) * (nx - 1) if nx > 1 else 0.0
        fb = (py - y0) / (y1 - y0) * (ny - 1) if ny > 1 else 0.0
        a, b = int(round(fa)), int(round(fb))
        if not (0 <= a < nx and 0 <= b < ny):
            return None
        return a * ny + b

    def describe(self, i: int) -> str:
        """Where start ``i`` ends, in words (for a status bar)."""
        st = STATUS_CODES[int(self.status[i])]
        start = f"({self.x0[i, 0]:.3g}, {self.x0[i, 1]:.3g})"
        j = int(self.basin[i])
        if j >= 0:
            c = self.critical[j]
            where = f"ends at the {c.kind} ({c.x[0]:.4g}, {c.x[1]:.4g})"
        elif st in (Status.DIVERGED, Status.FAILED):
            where = f"{st}"
        elif np.all(np.isfinite(self.x[i])):
            where = f"ends at ({self.x[i, 0]:.4g}, {self.x[i, 1]:.4g}), near no known critical point"
        else:
            where = "no end point"
        return f"start {start} {where} after {int(self.steps[i])} steps ({st})"

    def diverged(self) -> np.ndarray:
        """Boolean mask of the starts that diverged or failed (all in basin −1)."""
        return (self.status == _DIVERGED) | (self.status == _FAILED)

    def unfinished_counts(self) -> tuple[int, int]:
        """The finite −1 starts: (used every epoch without reaching a known critical point, the others, e.g.
        converged near no known one or cancelled)."""
        rest = (self.basin < 0) & ~self.diverged()
        out_of_epochs = int(np.count_nonzero(rest & (self.status == _COMPLETED)))
        return out_of_epochs, int(np.count_nonzero(rest)) - out_of_epochs

    def legend(self) -> list[tuple[tuple[int, int, int], str]]:
        """(colour, text) per basin that has starts, then the −1 starts split by why: diverged (or failed),
        not at a critical point when the epochs ran out, stopped near no known critical point."""
        counts = self.counts()
        out = []
        for j, c in enumerate(self.critical):
            if counts[j]:
                out.append((tuple(int(v) for v in PALETTE[j % len(PALETTE)]),
                            f"{c.kind} ({c.x[0]:.4g}, {c.x[1]:.4g}): {counts[j]:,} starts"))
        if counts[-1]:
            n_div = int(np.count_nonzero(self.diverged()))
            out_of_epochs, other = self.unfinished_counts()
            if n_div:
                out.append((NONE_COLOUR, f"diverged: {n_div:,} starts"))
            if out_of_epochs:
                out.append((UNFINISHED_COLOUR, f"still moving after {self.config.epochs:,} epochs: "
                                               f"{out_of_epochs:,} starts"))
            if other:
                out.append((UNFINISHED_COLOUR, f"stopped near no known critical point: {other:,} starts"))
        return out

    def colours(self) -> np.ndarray:
        """RGBA ``(nx, ny, 4)`` uint8: the basin's colour, brightness falling from 1 (ended at step 0) to
        :data:`DARKEST` (used every epoch) as the square root of the fraction of epochs used; −1 starts are
        :data:`NONE_COLOUR` when they diverged or failed, else :data:`UNFINISHED_COLOUR`."""
        epochs = max(self.config.epochs, 1)
        frac = np.sqrt(np.clip(self.steps, 0, epochs) / epochs)  # sqrt: fast starts differ more visibly
        bright = 1.0 - (1.0 - DARKEST) * frac
        base = np.empty((len(self.basin), 3), dtype=float)
        has = self.basin >= 0
        base[has] = PALETTE[self.basin[has] % len(PALETTE)]
        base[~has] = UNFINISHED_COLOUR
        base[self.diverged()] = NONE_COLOUR
        rgb = base * np.where(has, bright, 1.0)[:, None]
        out = np.empty((len(self.basin), 4), dtype=np.uint8)
        out[:, :3] = np.clip(np.rint(rgb), 0, 255)
        out[:, 3] = 255
        return self.grid(out)

    def summary(self) -> list[str]:
        """Lines for a human: the critical points with their basin sizes."""
        n = len(self.basin)
        lines = [f"{self.config.objective_spec} with {self.config.optimizer}: {self.shape[0]}×{self.shape[1]} starts, "
                 f"{self.config.epochs} epochs, classified within {self.radius:.3g} of a critical point"]
        counts = self.counts()
        for j, c in enumerate(self.critical):
            lines.append(f"  basin {j}: {c.kind} ({c.x[0]:.6g}, {c.x[1]:.6g}) f = {c.value:.6g}: "
                         f"{counts[j]:,} starts ({100 * counts[j] / n:.1f} %)")
        n_div = int(np.count_nonzero(self.diverged()))
        out_of_epochs, other = self.unfinished_counts()
        lines.append(f"  basin -1: {counts[-1]:,} starts ({100 * counts[-1] / n:.1f} %): {n_div:,} diverged or failed, "
                     f"{out_of_epochs:,} still moving after {self.config.epochs} epochs, "
                     f"{other:,} stopped near no known critical point")
        return lines

    def write_csv_to(self, stream) -> int:
        """Columns ``x0, y0, x, y, status, steps, basin, nfev, njev``; one row per start."""
        w = csv.writer(stream, lineterminator="\n")
        w.writerow(["x0", "y0", "x", "y", "status", "steps", "basin", "nfev", "njev"])
        names = np.array([str(s) for s in STATUS_CODES], dtype=object)[self.status]
        cols = [self.x0[:, 0].tolist(), self.x0[:, 1].tolist(), self.x[:, 0].tolist(), self.x[:, 1].tolist(),
                names.tolist(), self.steps.tolist(), self.basin.tolist(), self.nfev.tolist(), self.njev.tolist()]
        fmt = [_num, _num, _num, _num, str, str, str, str, str]
        n = 0
        for row in zip(*cols):  # a loop over output rows: writing text is per row by nature
            w.writerow([f(v) for f, v in zip(fmt, row)])
            n += 1
        return n

    def write_csv(self, path: str | os.PathLike) -> int:
        buf = io.StringIO()
        n = self.write_csv_to(buf)
        atomic_write(path, buf.getvalue())
        return n


def _num(v: float) -> str:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(v)


def grid_points(bounds, grid: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``xs``, ``ys`` and the ``(grid², 2)`` starts (x-major: start ``a·ny + b`` is ``(xs[a], ys[b])``)."""
    (x0, x1), (y0, y1) = bounds
    xs, ys = np.linspace(x0, x1, grid), np.linspace(y0, y1, grid)
    pts = np.empty((grid, grid, 2))
    pts[..., 0] = xs[:, None]
    pts[..., 1] = ys[None, :]
    return xs, ys, pts.reshape(-1, 2)


def classify(ends: np.ndarray, status: np.ndarray, critical: Sequence[CriticalPoint], radius: float) -> np.ndarray:
    """Index of the nearest critical point within ``radius`` of each end, else −1 (diverged/failed: −1).

    Loops over the critical points (a handful), never over starts.
    """
    n = len(ends)
    basin = np.full(n, -1, dtype=np.int64)
    best = np.full(n, np.inf)
    with np.errstate(invalid="ignore"):
        for j, c in enumerate(critical):
            d = np.hypot(ends[:, 0] - c.x[0], ends[:, 1] - c.x[1])
            closer = (d <= radius) & (d < best)
            basin[closer] = j
            best = np.where(closer, d, best)
    basin[(status == _DIVERGED) | (status == _FAILED)] = -1
    return basin


def basin_map(objective: str | Objective = "himmelblau", optimizer: str = "gd", *, grid: int = 200,
              bounds=None, epochs: int = 200, hyperparams: Mapping | None = None, tol: float | None = DEFAULT_TOL,
              gradient: str = "analytic", radius: float | None = None, objective_params: Mapping | None = None,
              progress: Callable[[int, int], None] | None = None,
              should_stop: Callable[[], bool] | None = None) -> BasinMap:
    """Run one start per point of a ``grid × grid`` grid over ``bounds`` (default: the objective's domain).

    ``progress(done, total)`` is called after every step of every block of :data:`BLOCK` starts; ``should_stop()`` is asked after every step and,
    when true, ends the run as cancelled (the map then has ``cancelled=True``).
    """
    if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) or grid < 2:
        raise ValueError(f"grid must be a whole number ≥ 2, got {grid!r}")
    obj = get_objective(objective, dict(objective_params or {})) if isinstance(objective, str) else objective
    if obj.dim != 2:
        raise ValueError("basin maps need a two-dimensional objective")
    bounds = tuple(tuple(float(v) for v in b) for b in (bounds or obj.domain[:2]))
    (bx0, bx1), (by0, by1) = bounds
    if not all(math.isfinite(v) for v in (bx0, bx1, by0, by1)) or not (bx0 < bx1 and by0 < by1):
        raise ValueError(f"bounds must be finite with xmin < xmax and ymin < ymax, got {bounds}")
    xs, ys, starts = grid_points(bounds, int(grid))
    config = RunConfig.create(objective=obj, optimizer=optimizer, starts=starts[:1], epochs=epochs,
                              hyperparams=dict(hyperparams or {}), gradient=gradient, tol=tol)
    # Blocks of BLOCK starts run one after the other: every start is independent (row-wise arithmetic),
    # and arrays of a few hundred kB stay in cache and in malloc's heap instead of being mapped and
    # faulted in afresh at every operation (measured: 2.5× less CPU time for 250,000 starts).
    n = len(starts)
    x_end = np.empty((n, 2))
    codes = np.empty(n, dtype=np.int8)
    steps = np.empty(n, dtype=np.int64)
    nfev = np.empty(n, dtype=np.int64)
    njev = np.empty(n, dtype=np.int64)
    cancelled = False
    blocks = range(0, n, BLOCK)
    for b, lo in enumerate(blocks):
        hi = min(lo + BLOCK, n)
        if cancelled:
            codes[lo:hi] = STATUS_CODES.index(Status.CANCELLED)
            x_end[lo:hi], steps[lo:hi], nfev[lo:hi], njev[lo:hi] = np.nan, -1, 0, 0
            continue
        run = Run(config, obj, starts=starts[lo:hi])
        final = FinalState(run)
        collectors: list = [final]
        if progress is not None or should_stop is not None:
            def tick(chunk, run=run, b=b):
                if progress is not None:
                    progress(b * epochs + chunk.k, len(blocks) * epochs)
                if should_stop is not None and should_stop():
                    run.cancel()
            collectors.append(Callback(tick))
        run.drive(*collectors)
        x_end[lo:hi], codes[lo:hi], steps[lo:hi] = final.x, run.codes, final.steps
        nfev[lo:hi], njev[lo:hi] = run.nfev, run.njev
        cancelled = bool(np.any(run.reason == Reason.CANCELLED))
    crit = tuple(c for c in obj.critical_points() if len(c.x) == 2)
    if not crit:  # e.g. a typed formula: find them numerically (Newton on ∇f = 0 from a grid of seeds)
        from gdstudio.core.analysis.critical import find_critical_points

        crit = find_critical_points(obj, domain=bounds)
    r = float(radius) if radius is not None else RADIUS_FRACTION * math.hypot(bx1 - bx0, by1 - by0)
    basin = classify(x_end, codes, crit, r)
    return BasinMap(xs, ys, starts, x_end, codes, steps, basin, nfev, njev, crit, config, r, cancelled)


# --- a map in another process (the window's worker uses it: no GIL shared with the GUI thread) -------
def save_arrays(m: BasinMap, path) -> None:
    """The map's arrays and critical points in an ``.npz`` file (what :func:`load_arrays` reads back)."""
    crit = m.critical
    np.savez(path, xs=m.xs, ys=m.ys, x=m.x, status=m.status, steps=m.steps, basin=m.basin, nfev=m.nfev,
             njev=m.njev, radius=np.float64(m.radius), cancelled=np.bool_(m.cancelled),
             crit_x=np.array([c.x for c in crit], dtype=float).reshape(-1, 2),
             crit_kind=np.array([c.kind for c in crit], dtype=str), crit_label=np.array([c.label for c in crit], dtype=str),
             crit_value=np.array([c.value for c in crit], dtype=float))


def load_arrays(path, config: RunConfig) -> BasinMap:
    """A :class:`BasinMap` from :func:`save_arrays`' file, for ``config`` (the request it was computed for)."""
    with np.load(path) as z:
        crit = tuple(CriticalPoint(tuple(float(v) for v in z["crit_x"][j]), str(z["crit_kind"][j]),
                                   float(z["crit_value"][j]), str(z["crit_label"][j]))
                     for j in range(len(z["crit_kind"])))
        xs, ys = z["xs"].copy(), z["ys"].copy()
        _, _, starts = grid_points(((xs[0], xs[-1]), (ys[0], ys[-1])), len(xs))
        return BasinMap(xs, ys, starts, z["x"].copy(), z["status"].copy(), z["steps"].copy(), z["basin"].copy(),
                        z["nfev"].copy(), z["njev"].copy(), crit, config, float(z["radius"]), bool(z["cancelled"]))


def _worker_main(argv: Sequence[str]) -> int:
    """``python -m gdstudio.core.basins REQUEST.json OUT.npz``: compute a map, print progress lines
    ``progress DONE TOTAL`` (at most every 0.1 s) on standard output, write the arrays, print ``done``."""
    import json
    import sys
    import time

    req = json.loads(open(argv[0], encoding="utf-8").read())
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.1:
            last[0] = now
            print(f"progress {done} {total}", flush=True)

    obj = get_objective(req["objective"], req.get("objective_params") or {})
    m = basin_map(obj, req["optimizer"], grid=int(req["grid"]), bounds=req.get("bounds"), epochs=int(req["epochs"]),
                  hyperparams=req.get("hyperparams") or {}, tol=req.get("tol"), gradient=req.get("gradient", "analytic"),
                  radius=req.get("radius"), progress=progress)
    save_arrays(m, argv[1])
    print("done", flush=True)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(_worker_main(sys.argv[1:]))
