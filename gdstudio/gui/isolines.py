"""Contour lines of a sampled surface as line segments: marching squares, vectorised over cells and levels.

pyqtgraph's ``IsocurveItem`` walks the grid in Python, one level at a time: the 14 levels of a 200 × 200
map took about a quarter of a second of the window's start-up (more than the rest of the first paint).
This does the same geometry with numpy for every cell and level at once, in a few milliseconds, and gives
segments to draw with a single ``connect="pairs"`` curve.

Geometry. A sample ``c[i, j]`` sits at the centre of image pixel ``(i, j)``, i.e. at ``(i + ½, j + ½)`` in
the image's pixel coordinates (as pyqtgraph's isocurves), so the lines can be parented to the
``ImageItem`` whose transform maps pixels to the objective's coordinates. In each cell (four neighbouring
samples) an edge whose ends lie on opposite sides of the level is crossed at the linear interpolate
``t = (L − v_a) / (v_b − v_a)``. Two crossed edges give one segment; four (a saddle cell) give two, paired
by the value at the cell's centre (the mean of its corners): the corners on the centre's side are joined.
"""

from __future__ import annotations

import numpy as np


def isoline_segments(c: np.ndarray, levels) -> np.ndarray:
    """Segments of the level lines of ``c`` (2-D, finite) at each of ``levels``: an (M, 2, 2) array of
    (start, end) points in image pixel coordinates (sample (i, j) at (i + ½, j + ½))."""
    return _segments(c, levels)[0]


def isoline_paths(c: np.ndarray, levels) -> tuple[np.ndarray, np.ndarray]:
    """The level lines as polylines, separated by NaN (draw with ``connect="finite"``): the segments of
    :func:`isoline_segments` chained where they meet. A line drawn as loose segments with a translucent pen
    shows a brighter dot at every joint, where two segments blend over each other."""
    seg, keys = _segments(c, levels)
    if not len(seg):
        return np.empty(0), np.empty(0)
    ends: dict[int, list[int]] = {}
    for m, (k0, k1) in enumerate(keys.tolist()):
        ends.setdefault(k0, []).append(m)
        ends.setdefault(k1, []).append(m)
    used = np.zeros(len(seg), bool)
    flat = seg.reshape(-1, 2)
    order: list[int] = []  # indices into flat (2m or 2m+1), -1 = break

    def walk(m: int, from_end: int) -> None:
        # follow the chain from segment m, entering at its end `from_end`
        while True:
            used[m] = True
            out_end = 1 - from_end
            order.append(2 * m + out_end)
            k = int(keys[m, out_end])
            nxt = [n for n in ends[k] if not used[n]]
            if not nxt:
                return
            m = nxt[0]
            from_end = 0 if keys[m, 0] == k else 1

    # open lines first (they start at an end used once), then closed loops
    starts = [m for m in range(len(seg)) for e in (0, 1) if len(ends[int(keys[m, e])]) == 1]
    for m in starts + list(range(len(seg))):
        if used[m]:
            continue
        e = 0 if len(ends[int(keys[m, 0])]) == 1 or len(ends[int(keys[m, 1])]) != 1 else 1
        order.append(2 * m + e)
        walk(m, e)
        order.append(-1)
    idx = np.asarray(order)
    pts = np.where((idx >= 0)[:, None], flat[np.maximum(idx, 0)], np.nan)
    return pts[:, 0], pts[:, 1]


def _segments(c: np.ndarray, levels) -> tuple[np.ndarray, np.ndarray]:
    """(segments (M, 2, 2), keys (M, 2)): each end's key names the grid edge it lies on, per level.

    Which edges are crossed is decided for every cell and level at once (booleans); the crossing points are
    then computed only for the few cells a line passes through.
    """
    c = np.asarray(c, dtype=float)
    lv = np.asarray(levels, dtype=float).ravel()
    if c.ndim != 2 or min(c.shape) < 2 or not lv.size:
        return np.empty((0, 2, 2)), np.empty((0, 2), np.int64)
    nx, ny = c.shape
    above = c[None, :, :] > lv[:, None, None]  # (L, nx, ny)
    a00, a10, a01, a11 = above[:, :-1, :-1], above[:, 1:, :-1], above[:, :-1, 1:], above[:, 1:, 1:]
    # edges: bottom (00–10), right (10–11), top (01–11), left (00–01)
    crossed = np.stack([a00 != a10, a10 != a11, a01 != a11, a00 != a01])  # (4, L, nx-1, ny-1)
    n = crossed.sum(axis=0)
    L, I, J = np.nonzero(n)  # the cells some line passes through
    if not L.size:
        return np.empty((0, 2, 2)), np.empty((0, 2), np.int64)
    n = n[L, I, J]
    cr = crossed[:, L, I, J]  # (4, m)
    v00, v10, v01, v11 = c[I, J], c[I + 1, J], c[I, J + 1], c[I + 1, J + 1]
    lvl = lv[L]

    def t(va, vb):
        # a crossing between values a few subnormals apart divides by ~1e-313: the quotient may overflow to
        # ±inf, which the clip turns into the right end of the edge
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.clip((lvl - va) / (vb - va), 0.0, 1.0)

    fi, fj = I.astype(float), J.astype(float)
    px = np.stack([fi + t(v00, v10), fi + 1, fi + t(v01, v11), fi])
    py = np.stack([fj, fj + t(v10, v11), fj + 1, fj + t(v00, v01)])

    def edge(kind, i, j):  # (level, horizontal/vertical, i, j): shared by the two cells beside the edge
        return ((L * 2 + kind) * nx + i) * ny + j

    ek = np.stack([edge(0, I, J), edge(1, I + 1, J), edge(0, I, J + 1), edge(1, I, J)])

    out, keys = [], []
    two = n == 2
    if two.any():
        first = np.argmax(cr[:, two], axis=0)
        second = 3 - np.argmax(cr[::-1, two], axis=0)
        X, Y, K = px[:, two], py[:, two], ek[:, two]
        k = np.arange(first.size)
        out.append(np.stack([np.stack([X[first, k], Y[first, k]], -1), np.stack([X[second, k], Y[second, k]], -1)],
                            axis=1))
        keys.append(np.stack([K[first, k], K[second, k]], -1))
    four = n == 4
    if four.any():  # a saddle cell: pair the crossings by the value at the cell's centre
        centre_above = ((v00 + v10 + v01 + v11) / 4 > lvl)[four]
        joined = centre_above == above[L, I, J][four]  # v00 and v11 joined through the centre
        X, Y, K = px[:, four], py[:, four], ek[:, four]
        b, r, tp, lf = (np.stack([X[e], Y[e]], -1) for e in range(4))
        kb, kr, kt, kl = K
        j2 = joined[:, None, None]
        out += [np.where(j2, np.stack([b, r], 1), np.stack([b, lf], 1)),
                np.where(j2, np.stack([tp, lf], 1), np.stack([r, tp], 1))]
        keys += [np.where(joined[:, None], np.stack([kb, kr], -1), np.stack([kb, kl], -1)),
                 np.where(joined[:, None], np.stack([kt, kl], -1), np.stack([kr, kt], -1))]
    if not out:
        return np.empty((0, 2, 2)), np.empty((0, 2), np.int64)
    return np.concatenate(out, axis=0) + 0.5, np.concatenate(keys, axis=0)


__all__ = ["isoline_paths", "isoline_segments"]
