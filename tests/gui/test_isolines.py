"""Contour lines by vectorised marching squares, against pyqtgraph's own isocurves."""

from __future__ import annotations

import numpy as np
import pyqtgraph.functions as fn
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gdstudio.gui.isolines import isoline_paths, isoline_segments


def _canon(segments) -> set:
    """Segments as an order-free set (each segment's two ends sorted)."""
    out = set()
    for a, b in np.round(np.asarray(segments, dtype=float).reshape(-1, 2, 2), 9).tolist():
        out.add(tuple(sorted((tuple(a), tuple(b)))))
    return out


def test_same_segments_as_pyqtgraph_on_rosenbrock():
    x = np.linspace(-2, 2, 120)
    X, Y = np.meshgrid(x, x, indexing="ij")
    c = np.log1p((1 - X) ** 2 + 100 * (Y - X**2) ** 2)
    levels = np.linspace(0.5, 8, 14)
    ref = []
    for lv in levels:
        ref += fn.isocurve(c, lv, connected=False)
    assert _canon(isoline_segments(c, levels)) == _canon(ref)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(2, 9), st.integers(2, 9)), elements=st.floats(-5, 5)),
       st.lists(st.floats(-4.5, 4.5), min_size=1, max_size=3))
def test_every_end_lies_on_its_level_and_paths_join_the_segments(c, levels):
    seg = isoline_segments(c, levels)
    # each end sits on a grid edge, where linear interpolation of c gives one of the levels
    for p in seg.reshape(-1, 2) - 0.5:
        i, j = p
        if float(i).is_integer():
            i0, j0 = int(i), int(np.floor(j))
            j0 = min(j0, c.shape[1] - 2)
            v = c[i0, j0] + (j - j0) * (c[i0, j0 + 1] - c[i0, j0])
        else:
            j0, i0 = int(j), min(int(np.floor(i)), c.shape[0] - 2)
            v = c[i0, j0] + (i - i0) * (c[i0 + 1, j0] - c[i0, j0])
        assert min(abs(v - lv) for lv in levels) < 1e-6
    xs, ys = isoline_paths(c, levels)
    P = np.stack([xs, ys], -1)
    ok = np.isfinite(P[:-1, 0]) & np.isfinite(P[1:, 0])
    assert _canon(np.stack([P[:-1][ok], P[1:][ok]], 1)) == _canon(seg)  # every segment drawn once, chained
    assert ok.sum() == len(seg)
