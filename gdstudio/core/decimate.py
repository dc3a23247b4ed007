"""Decimation for drawing: which rows of a long history a picture needs, so a drawing costs what the screen
can show, not what the run's length is. The data keep every step; only the drawn polyline is thinned.

Two thinning rules, both "M4" (Jugel et al., *M4: a visualization-oriented time series data aggregation*,
VLDB 2014): cut the rows into consecutive *buckets* and keep, of each bucket, its first and last row and the
rows where each drawn coordinate is smallest and largest. Drawn in order, the kept rows trace every bucket's
extent exactly, so a zig-zag stays a zig-zag (its envelope is kept) instead of collapsing to a chord.

* :class:`SeriesDecimator` (a curve against the step number, e.g. loss against epoch): buckets of ``2**level``
  consecutive steps, the level the smallest for which at most ``budget`` buckets cover the run (a budget of
  one or two buckets per pixel column draws the curve as it would look undecimated).
* :class:`PathDecimator` (a path in the plane, e.g. x_k on the contour map): buckets of equal *path length on
  the screen*, ``eps = 2**level`` pixels of the path each, measured only inside the visible rectangle (each
  segment clipped to it, Liang–Barsky). Long early swings get a bucket per step; a slow crawl or a tight
  oscillation shares buckets. A stretch of path that is entirely outside the rectangle is one bucket of its
  own, kept as its first and last row with a gap between them (nothing of it is visible).

Both are *incremental*: :meth:`extend` looks only at the rows added since the last call (plus the few kept
rows of the last, still open, bucket), so a frame costs the same at step 1,000 and at step 1,000,000. Merging
two neighbouring buckets needs only their kept rows (the extremes of a union are among the extremes of its
parts), so going up a level (doubling the bucket size when the budget is exceeded) re-buckets the kept rows
only. A change of view (zoom, resize) starts over with :meth:`reset` and one pass over the history.

Cost: one pass is a few vectorised numpy operations per row (about 30 ms per million rows here).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["m4_indices", "SeriesDecimator", "PathDecimator", "clipped_lengths"]


def m4_indices(values: np.ndarray, new_bucket: np.ndarray, extremes: np.ndarray | None = None) -> np.ndarray:
    """Positions (sorted, unique) of the rows to keep: per bucket the first, the last, and (where
    ``extremes`` is True for the bucket, default all) each column's argmin and argmax (NaN ignored).

    ``values`` (m, c); ``new_bucket`` (m,) bool, True where a bucket starts (``new_bucket[0]`` must be True);
    ``extremes`` (number of buckets,) bool.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    m = len(values)
    if m == 0:
        return np.empty(0, dtype=np.int64)
    starts = np.flatnonzero(new_bucket)
    ends = np.append(starts[1:], m) - 1
    keep = [starts, ends]
    nb = len(starts)
    sizes = ends - starts + 1
    bucket = np.repeat(np.arange(nb), sizes)
    if extremes is None:
        extremes = np.ones(nb, dtype=bool)
    pos = np.arange(m)
    with np.errstate(invalid="ignore"):
        for c in range(values.shape[1]):
            v = values[:, c]
            for reduce in (np.fmin, np.fmax):
                best = reduce.reduceat(v, starts)
                hit = (v == np.repeat(best, sizes)) & np.repeat(extremes, sizes)
                hp = pos[hit]
                if hp.size:  # the first hit of each bucket
                    hb = bucket[hit]
                    first = np.ones(hp.size, dtype=bool)
                    first[1:] = hb[1:] != hb[:-1]
                    keep.append(hp[first])
    return np.unique(np.concatenate(keep))


class _Kept:
    """Growing arrays of kept rows (index plus per-row bucketing data)."""

    def __init__(self, fields: dict[str, type]):
        self._cap = 256
        self._n = 0
        self._a = {k: np.empty(self._cap, dtype=t) for k, t in fields.items()}

    def __len__(self) -> int:
        return self._n

    def get(self, key: str, start: int = 0) -> np.ndarray:
        return self._a[key][start:self._n]

    def replace_tail(self, start: int, **cols: np.ndarray) -> None:
        """Drop rows from ``start`` on and append ``cols`` there."""
        m = len(next(iter(cols.values())))
        need = start + m
        if need > self._cap:
            self._cap = max(need, 2 * self._cap)
            for k, v in self._a.items():
                grown = np.empty(self._cap, dtype=v.dtype)
                grown[:start] = v[:start]
                self._a[k] = grown
        for k, v in cols.items():
            self._a[k][start:need] = v
        self._n = need


class SeriesDecimator:
    """Incremental M4 of a series y[0..n) against its index: at most ``budget`` buckets of ``2**level`` rows.

    ``indices()`` are the rows to draw (into the full series), first and last always included; the per-bucket
    minimum and maximum of the kept rows equal those of the full series.
    """

    def __init__(self, budget: int = 2048):
        self.budget = max(int(budget), 2)
        self.reset()

    def reset(self) -> None:
        self.level = 0
        self._n = 0  # rows looked at
        self._transform = None
        self._kept = _Kept({"i": np.int64})
        self._open = 0  # position in _kept where the last (open) bucket starts

    def __len__(self) -> int:
        return self._n

    def indices(self) -> np.ndarray:
        return self._kept.get("i")

    def extend(self, y: np.ndarray, transform=None) -> None:
        """Take rows ``len(self)..len(y)`` of the (growing) series ``y`` into account.

        ``transform`` (optional, elementwise, e.g. NaN for values a log axis cannot show): the values
        bucketed are ``transform(y[rows])``; pass the same one on every call.
        """
        self._transform = transform
        n = len(y)
        if n <= self._n:
            return
        # the level the whole series needs, chosen before bucketing the new rows (one pass, not one per level)
        need = max(self.level, int(math.ceil(math.log2(max(n / self.budget, 1.0)))))
        if need > self.level and len(self._kept):
            self.level = need
            self._rebucket(self.indices().copy(), 0, y)
        self.level = need
        old = self._kept.get("i", self._open)
        idx = np.concatenate([old, np.arange(self._n, n)])
        self._n = n
        self._rebucket(idx, self._open, y)
        while (int(self.indices()[-1]) >> self.level) - (int(self.indices()[0]) >> self.level) + 1 > self.budget:
            self.level += 1
            self._rebucket(self.indices().copy(), 0, y)

    def _rebucket(self, idx: np.ndarray, at: int, y: np.ndarray) -> None:
        key = idx >> self.level
        new = np.ones(len(idx), dtype=bool)
        new[1:] = key[1:] != key[:-1]
        vals = np.asarray(y)[idx]
        if self._transform is not None:
            vals = self._transform(vals)
        keep = idx[m4_indices(vals, new)]
        self._kept.replace_tail(at, i=keep)
        last_key = keep[-1] >> self.level
        self._open = at + int(np.searchsorted(keep >> self.level, last_key))


def clipped_lengths(p: np.ndarray, q: np.ndarray, rect: tuple[float, float, float, float] | None) -> np.ndarray:
    """Length of each segment p→q ((m, 2) arrays) inside ``rect`` = (x0, x1, y0, y1) (Liang–Barsky clipping);
    the whole length when ``rect`` is None; NaN segments have length 0 and count as outside (−1).

    Returns lengths, with −1 for segments that miss the rectangle entirely (a zero-length segment inside it
    has length 0, not −1).
    """
    d = q - p
    with np.errstate(invalid="ignore", over="ignore"):
        length = np.hypot(d[:, 0], d[:, 1])
        bad = ~np.isfinite(length)
        if rect is None:
            return np.where(bad, -1.0, length)
        x0, x1, y0, y1 = rect
        t0 = np.zeros(len(p))
        t1 = np.ones(len(p))
        miss = bad.copy()
        for pk, dk, lo, hi in ((p[:, 0], d[:, 0], x0, x1), (p[:, 1], d[:, 1], y0, y1)):
            par = dk == 0
            miss |= par & ((pk < lo) | (pk > hi))
            with np.errstate(divide="ignore"):
                ta = (lo - pk) / dk
                tb = (hi - pk) / dk
            tmin = np.where(par, -np.inf, np.minimum(ta, tb))
            tmax = np.where(par, np.inf, np.maximum(ta, tb))
            t0 = np.maximum(t0, tmin)
            t1 = np.minimum(t1, tmax)
        miss |= t0 > t1
        return np.where(miss, -1.0, np.maximum(t1 - t0, 0.0) * np.where(bad, 0.0, length))


class PathDecimator:
    """Incremental M4 of a planar path by path length on the screen (see the module docstring).

    ``scale`` (sx, sy): data units per pixel; ``rect`` (x0, x1, y0, y1) in data units: the part of the plane
    on screen (None: all of it); ``budget``: the most buckets (about the path's visible length in pixels
    that can be drawn one bucket per pixel); about 1 to 6 rows are kept per bucket.
    """

    def __init__(self, scale: tuple[float, float] = (1.0, 1.0), rect=None, budget: int = 2048):
        self.budget = max(int(budget), 2)
        self.reset(scale, rect)

    def reset(self, scale: tuple[float, float] | None = None, rect=None) -> None:
        if scale is not None:
            sx, sy = (float(s) for s in scale)
            if not (sx > 0 and sy > 0 and math.isfinite(sx) and math.isfinite(sy)):
                sx = sy = 1.0
            self.scale = (sx, sy)
            self.rect = None if rect is None else tuple(float(v) for v in rect)
        self.level = 0
        self._n = 0
        self._L = 0.0  # visible path length so far (pixels)
        self._run = 0  # visibility run counter
        self._vis = True
        self._last = None  # last point looked at, in pixels
        self._kept = _Kept({"i": np.int64, "L": np.float64, "run": np.int64, "vis": np.bool_})
        self._open = 0
        self._buckets_closed = 0

    @property
    def eps(self) -> float:
        """Path length per bucket, in pixels."""
        return float(2 ** self.level)

    def __len__(self) -> int:
        return self._n

    def indices(self) -> np.ndarray:
        """Rows to draw, in order (first and last row of the history always included)."""
        return self._kept.get("i")

    def gaps(self) -> np.ndarray:
        """For each kept row: True where the line from the previous kept row must not be drawn (it would
        cross a stretch of path that is wholly off screen)."""
        vis, run = self._kept.get("vis"), self._kept.get("run")
        g = np.zeros(len(vis), dtype=bool)
        if len(vis) > 1:
            g[1:] = ~vis[1:] & (run[1:] == run[:-1])
        return g

    def _px(self, xy: np.ndarray) -> np.ndarray:
        sx, sy = self.scale
        out = np.empty((len(xy), 2))
        out[:, 0] = xy[:, 0] / sx
        out[:, 1] = xy[:, 1] / sy
        return out

    def _rect_px(self):
        if self.rect is None:
            return None
        x0, x1, y0, y1 = self.rect
        sx, sy = self.scale
        return (x0 / sx, x1 / sx, y0 / sy, y1 / sy)

    def extend(self, xy: np.ndarray) -> None:
        """Take rows ``len(self)..len(xy)`` of the (growing) path ``xy`` ((n, 2), NaN allowed) into account."""
        n = len(xy)
        if n <= self._n:
            return
        new = self._px(np.asarray(xy[self._n:n, :2], dtype=float))
        if self._last is None:  # the first row: visible when inside the rectangle
            first = new[:1]
            seg = clipped_lengths(first, first, self._rect_px())
            prev = first
        else:
            prev = np.concatenate([self._last[None], new[:-1]])
            seg = None
        if seg is None:
            seg = clipped_lengths(prev, new, self._rect_px())
        else:
            seg = np.concatenate([seg, clipped_lengths(new[:-1], new[1:], self._rect_px())])
        vis = seg >= 0
        L = self._L + np.cumsum(np.where(vis, seg, 0.0))
        flips = np.ones(len(vis), dtype=bool)
        flips[0] = vis[0] != self._vis if self._last is not None else False
        flips[1:] = vis[1:] != vis[:-1]
        run = self._run + np.cumsum(flips)
        self._L, self._run, self._vis, self._last = float(L[-1]), int(run[-1]), bool(vis[-1]), new[-1]
        # the level the whole path needs (about half the budget for length), chosen before bucketing the new rows
        need = self.level
        while self._L / 2 ** need > self.budget / 2 and math.isfinite(self._L):
            need += 1
        if need > self.level and len(self._kept):
            self.level = need
            k = self._kept
            self._rebucket(xy, 0, k.get("i").copy(), k.get("L").copy(), k.get("run").copy(), k.get("vis").copy())
        self.level = need
        at = self._open
        idx = np.concatenate([self._kept.get("i", at), np.arange(self._n, n)])
        Ls = np.concatenate([self._kept.get("L", at), L])
        runs = np.concatenate([self._kept.get("run", at), run])
        viss = np.concatenate([self._kept.get("vis", at), vis])
        self._n = n
        self._rebucket(xy, at, idx, Ls, runs, viss)
        while self._n_buckets() > self.budget:
            self.level += 1
            k = self._kept
            self._rebucket(xy, 0, k.get("i").copy(), k.get("L").copy(), k.get("run").copy(), k.get("vis").copy())

    def _keys(self, L: np.ndarray, run: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return run, np.floor(L / self.eps)

    def _n_buckets(self) -> int:
        run, cell = self._keys(self._kept.get("L"), self._kept.get("run"))
        if not len(run):
            return 0
        return int(1 + np.count_nonzero((run[1:] != run[:-1]) | (cell[1:] != cell[:-1])))

    def _rebucket(self, xy, at, idx, L, run, vis) -> None:
        r, c = self._keys(L, run)
        new = np.ones(len(idx), dtype=bool)
        new[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
        starts = np.flatnonzero(new)
        keep = m4_indices(np.asarray(xy[idx, :2], dtype=float), new, extremes=vis[starts])
        self._kept.replace_tail(at, i=idx[keep], L=L[keep], run=run[keep], vis=vis[keep])
        # the open bucket: where the last bucket starts among the kept rows
        kr, kc = r[keep], c[keep]
        same = (kr == kr[-1]) & (kc == kc[-1])
        self._open = at + int(np.flatnonzero(~same)[-1] + 1 if (~same).any() else 0)


def with_gaps(indices: np.ndarray, gaps: np.ndarray, *columns: np.ndarray) -> list[np.ndarray]:
    """The kept rows of each column as float arrays, with a NaN inserted before each gap (draw them with
    ``connect='finite'``)."""
    g = np.flatnonzero(gaps)
    out = []
    for col in columns:
        v = np.asarray(col, dtype=float)
        out.append(np.insert(v, g, np.nan) if g.size else v)
    return out
