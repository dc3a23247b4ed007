"""Decimation for drawing (gdstudio.core.decimate) and the compact run history (gdstudio.core.history)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gdstudio.core.decimate import PathDecimator, SeriesDecimator, clipped_lengths, m4_indices, with_gaps
from gdstudio.core.history import History, bytes_per_step
from gdstudio.core.runs import Recorder, Run, RunConfig

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


def _bucket_extremes(values: np.ndarray, bucket: np.ndarray, rows: np.ndarray):
    """{bucket: (min per column, max per column)} over ``rows``."""
    out = {}
    for b in np.unique(bucket[rows]):
        sel = rows[bucket[rows] == b]
        out[int(b)] = (np.nanmin(values[sel], axis=0).tolist(), np.nanmax(values[sel], axis=0).tolist())
    return out


@given(arrays(float, st.tuples(st.integers(1, 300), st.just(2)), elements=finite), st.integers(1, 40))
def test_m4_keeps_every_buckets_extremes_and_ends(values, width):
    n = len(values)
    bucket = np.arange(n) // width
    new = np.ones(n, dtype=bool)
    new[1:] = bucket[1:] != bucket[:-1]
    keep = m4_indices(values, new)
    assert keep[0] == 0 and keep[-1] == n - 1
    assert np.all(np.diff(keep) > 0)
    assert _bucket_extremes(values, bucket, keep) == _bucket_extremes(values, bucket, np.arange(n))
    # per bucket at most first, last, argmin and argmax of each of the 2 columns
    assert np.all(np.bincount(bucket[keep]) <= 6)


@settings(max_examples=60, deadline=None)
@given(arrays(float, st.integers(1, 3000), elements=finite), st.integers(2, 64),
       st.lists(st.integers(1, 500), min_size=1, max_size=12))
def test_series_decimator_incremental_equals_one_pass_and_keeps_extremes(y, budget, chunks):
    one = SeriesDecimator(budget)
    one.extend(y)
    inc = SeriesDecimator(budget)
    n = 0
    for c in chunks:
        n = min(n + c, len(y))
        inc.extend(y[:n])
    inc.extend(y)
    assert inc.level == one.level
    assert np.array_equal(inc.indices(), one.indices())
    idx = one.indices()
    assert idx[0] == 0 and idx[-1] == len(y) - 1
    bucket = np.arange(len(y)) >> one.level
    assert bucket[-1] + 1 <= budget
    assert _bucket_extremes(y[:, None], bucket, idx) == _bucket_extremes(y[:, None], bucket, np.arange(len(y)))
    assert len(idx) <= 4 * budget


def _path_buckets(xy: np.ndarray, dec: PathDecimator) -> np.ndarray:
    """Bucket of each row as the decimator defines it without a rectangle: floor(path length in px / eps)."""
    sx, sy = dec.scale
    px = np.column_stack([xy[:, 0] / sx, xy[:, 1] / sy])
    L = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(px, axis=0).T))])
    return np.floor(L / dec.eps).astype(np.int64)


@settings(max_examples=60, deadline=None)
@given(arrays(float, st.tuples(st.integers(2, 2000), st.just(2)), elements=st.floats(-100, 100)),
       st.integers(8, 200), st.lists(st.integers(1, 400), min_size=1, max_size=10))
def test_path_decimator_keeps_each_buckets_extent_and_ends(xy, budget, chunks):
    one = PathDecimator((0.1, 0.1), None, budget)
    one.extend(xy)
    inc = PathDecimator((0.1, 0.1), None, budget)
    n = 0
    for c in chunks:
        n = min(n + c, len(xy))
        inc.extend(xy[:n])
    inc.extend(xy)
    idx = one.indices()
    assert np.array_equal(inc.indices(), idx) and inc.level == one.level
    assert idx[0] == 0 and idx[-1] == len(xy) - 1
    assert not one.gaps().any()  # no rectangle: nothing is off screen
    bucket = _path_buckets(xy, one)
    assert _bucket_extremes(xy, bucket, idx) == _bucket_extremes(xy, bucket, np.arange(len(xy)))
    assert len(idx) <= 6 * (budget + 1)


def test_a_long_zigzag_stays_a_zigzag():
    """A million-step oscillation across a valley, decaying: the drawn points still swing from wall to wall
    (a stride of every k-th point would alias it into a few straight segments)."""
    k = np.arange(1_000_000)
    amp = np.exp(-k / 200_000)
    xy = np.column_stack([k / 1e6, amp * (-1.0) ** k])  # x creeps along, y swings ±amp every step
    dec = PathDecimator((1 / 800, 2 / 600), (-0.1, 1.1, -1.2, 1.2), 1600)
    dec.extend(xy)
    idx = dec.indices()
    assert len(idx) < 12_000
    y = xy[idx, 1]
    # the envelope is kept: near every x the drawn path reaches both walls of the swing there
    for x0 in np.linspace(0.0, 0.9, 10):
        sel = (xy[idx, 0] >= x0) & (xy[idx, 0] < x0 + 0.05)
        a = np.exp(-x0 * 5)
        assert y[sel].max() > 0.9 * a and y[sel].min() < -0.9 * a
    # and it alternates: most consecutive drawn points are on opposite sides
    assert np.mean(np.sign(y[1:]) != np.sign(y[:-1])) > 0.5


def test_path_off_the_view_is_a_gap_and_zooming_refines():
    t = np.linspace(0, 20 * np.pi, 200_001)
    xy = np.column_stack([np.cos(t) * (1 + t), np.sin(t) * (1 + t)])  # a spiral, mostly off a small view
    whole = PathDecimator((0.2, 0.2), (-70, 70, -70, 70), 1000)
    whole.extend(xy)
    zoom = PathDecimator((0.01, 0.01), (-3, 3, -3, 3), 1000)
    zoom.extend(xy)
    # inside the zoomed view the path is drawn finer than in the whole view
    inside = lambda d: np.count_nonzero(np.all(np.abs(xy[d.indices()]) < 3, axis=1))  # noqa: E731
    assert inside(zoom) > 3 * inside(whole)
    # the part outside is drawn as gaps: nothing is connected across it
    g = zoom.gaps()
    assert g.any()
    idx = zoom.indices()
    xs, ys = with_gaps(idx, g, xy[idx, 0], xy[idx, 1])
    assert len(xs) == len(idx) + g.sum() and np.isnan(xs).sum() == g.sum()
    assert len(idx) <= 6 * 1001 + 2 * (zoom._run + 1)


@given(st.lists(finite, min_size=4, max_size=4), st.lists(finite, min_size=4, max_size=4))
def test_clipped_length_matches_sampling(a, b):
    p = np.array([a[:2]]) / 1e4
    q = np.array([a[2:]]) / 1e4
    x0, x1 = sorted(np.array(b[:2]) / 1e4)
    y0, y1 = sorted(np.array(b[2:]) / 1e4)
    got = clipped_lengths(p, q, (x0, x1, y0, y1))[0]
    s = np.linspace(0, 1, 20001)[:, None]
    pts = p + s * (q - p)
    inside = (pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1)
    length = float(np.hypot(*(q - p)[0]))
    if not inside.any():
        assert got <= 1e-3 * length + 1e-12 or got == -1.0
    else:
        assert got >= 0
        assert abs(got - inside.mean() * length) <= 2e-3 * length + 1e-12


def test_history_result_equals_the_recorder_and_is_compact():
    """Three starts, one diverging early: the History's result has the Recorder's rows (views, no copies)."""
    cfg = RunConfig.create("rosenbrock", "gd", starts=[(-1.5, 2.0), (0.0, 0.0), (3.0, 3.0)], epochs=300,
                           hyperparams={"lr": 0.01})
    r1, r2 = Run(cfg), Run(cfg)
    rec, hist = Recorder(r1), History.for_run(r2)
    for s in r1:
        rec.add(s)
    for s in r2:
        hist.add(s)
    hist.publish()
    a, b = rec.result(), hist.result(r2)
    assert [t.status for t in a] == [t.status for t in b]
    assert any(t.steps < 300 for t in b)  # the far start diverged: its rows stop
    for ta, tb in zip(a, b):
        for name in ("x", "loss", "grad"):
            assert np.array_equal(getattr(ta, name), getattr(tb, name))
            assert np.shares_memory(getattr(tb, name), hist.rows()[name])  # a view
        assert ta.message == tb.message
    # rows a start did not record are NaN (a drawing stops there)
    rows = hist.rows()
    ended = ~rows["recorded"]
    assert np.isnan(rows["x"][ended]).all() and np.isnan(rows["loss"][ended]).all()
    assert bytes_per_step(2) == 42 and hist.nbytes == 42 * 3 * len(hist)


def test_history_grows_past_its_reservation_and_readers_keep_their_rows():
    h = History(1, 2, rows_hint=64)
    for k in range(64):
        h.add_row(np.full((1, 2), k), [k], np.zeros((1, 2)), [True], [False])
    h.publish()
    old = h.rows()["x"]
    for k in range(64, 200):
        h.add_row(np.full((1, 2), k), [k], np.zeros((1, 2)), [True], [False])
    assert h.capacity >= 200 and h.published == 64
    assert np.array_equal(old[:, 0, 0], np.arange(64))  # the arrays a reader took are still valid
    h.publish()
    assert np.array_equal(h.rows()["loss"][:, 0], np.arange(200))


@pytest.mark.parametrize("n", [1, 2, 5])
def test_tiny_inputs(n):
    xy = np.arange(2 * n, dtype=float).reshape(n, 2)
    d = PathDecimator((1.0, 1.0), None, 4)
    d.extend(xy)
    assert d.indices()[0] == 0 and d.indices()[-1] == n - 1
    s = SeriesDecimator(2)
    s.extend(xy[:, 0])
    assert s.indices()[0] == 0 and s.indices()[-1] == n - 1
