"""The fast run loop: status arrays, lazy messages, collectors, evaluation counts, and no quadratic bookkeeping."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdstudio.core import runs as runs_mod
from gdstudio.core.basins import grid_points
from gdstudio.core.runs import (
    STATUS_CODES,
    Callback,
    FinalState,
    Reason,
    Recorder,
    Run,
    RunConfig,
    Status,
    Thinned,
    run,
)


def cfg(**kw):
    base = dict(objective="himmelblau", optimizer="gd", starts=[(0.0, 0.0)], epochs=60, hyperparams={"lr": 0.01})
    base.update(kw)
    return RunConfig.create(**base)


#: Starts that end every way: converge, diverge off the map, overflow, complete.
MIXED = [(3.0, 2.0), (0.5, 0.5), (-4.0, 4.0), (1e150, 1e150), (2.0, -1.0)]


def test_status_is_int8_and_messages_are_built_when_read(monkeypatch):
    r = Run(cfg(starts=MIXED, tol=1e-3, hyperparams={"lr": 0.02}))
    built = []
    orig = runs_mod.Messages.__getitem__
    monkeypatch.setattr(runs_mod.Messages, "__getitem__", lambda self, i: built.append(i) or orig(self, i))
    for _ in r:
        pass
    assert r.codes.dtype == np.int8 and not built  # nothing formatted while running
    assert [STATUS_CODES[c] for c in r.codes] == list(r.status)
    assert r.status[0] is Status.CONVERGED and r.message[0].startswith("converged at step 0: ‖∇f‖ = 0 ≤ tol")
    assert r.status[3] is Status.DIVERGED and "diverged at step" in r.message[3]
    assert len(built) == 2


def test_final_state_equals_the_last_recorded_rows():
    c = cfg(starts=MIXED, tol=1e-4, epochs=80, hyperparams={"lr": 0.02})
    full = run(c)
    r = Run(c)
    fs = FinalState(r)
    r.drive(fs)
    for i, t in enumerate(full):
        if len(t.x):
            np.testing.assert_array_equal(fs.x[i], t.x[-1])
            assert fs.loss[i] == t.loss[-1] and fs.steps[i] == t.steps
        else:
            assert np.isnan(fs.x[i]).all() and fs.steps[i] == -1
        assert STATUS_CODES[r.codes[i]] is t.status
    res = fs.result()
    assert [t.steps for t in res] == [t.steps for t in full]


def test_thinned_keeps_every_kth_step_and_each_last_row():
    c = cfg(starts=MIXED, tol=1e-4, epochs=53, hyperparams={"lr": 0.02})
    full = run(c)
    r = Run(c)
    th = Thinned(r, 10)
    r.drive(th)
    for t_full, t in zip(full, th.result()):
        if not len(t_full.x):
            assert len(t.x) == 0
            continue
        want = sorted({k for k in range(0, t_full.steps + 1, 10)} | {t_full.steps})
        assert t.k.tolist() == want and t.steps == t_full.steps
        np.testing.assert_array_equal(t.x, t_full.x[want])
    with pytest.raises(ValueError, match="every"):
        Thinned(Run(c), 0)


def test_drive_feeds_full_and_compact_collectors_the_same_steps():
    c = cfg(starts=MIXED, tol=1e-4, epochs=40, hyperparams={"lr": 0.02})
    r = Run(c)
    rec, fs, ks = Recorder(r), FinalState(r), []
    r.drive(rec, fs, Callback(lambda ch: ks.append(ch.k)))
    ref = run(c)
    for a, b in zip(rec.result(), ref):
        np.testing.assert_array_equal(a.x, b.x)
        assert a.status is b.status and a.message == b.message
    assert ks == list(range(len(ks))) and ks[-1] == max(t.steps for t in ref)


def test_steps_are_owned_by_the_consumer():
    """The loop never writes into an array it handed out: kept steps stay as they were."""
    c = cfg(starts=MIXED, tol=1e-4, epochs=30, hyperparams={"lr": 0.02})
    kept, copies = [], []
    for s in Run(c):
        kept.append(s)
        copies.append((s.x.copy(), s.loss.copy(), s.grad.copy(), s.recorded.copy(), s.ended.copy()))
    for s, (x, loss, grad, rec, end) in zip(kept, copies):
        np.testing.assert_array_equal(s.x, x)
        np.testing.assert_array_equal(s.loss, loss)
        np.testing.assert_array_equal(s.grad, grad)
        assert (s.recorded == rec).all() and (s.ended == end).all()


def test_array_starts_equal_config_starts():
    pts = np.array(MIXED)
    a = Run(cfg(starts=MIXED, tol=1e-4))
    b = Run(cfg(starts=MIXED[:1], tol=1e-4), starts=pts)
    fa, fb = FinalState(a), FinalState(b)
    a.drive(fa)
    b.drive(fb)
    np.testing.assert_array_equal(fa.x, fb.x)
    assert (a.codes == b.codes).all() and list(a.message) == list(b.message)
    with pytest.raises(ValueError, match="finite"):
        Run(cfg(), starts=[[np.nan, 0.0]])
    with pytest.raises(ValueError, match="shape"):
        Run(cfg(), starts=[[1.0, 2.0, 3.0]])


# --- evaluation counts ---------------------------------------------------------------------------------
def test_gd_counts_one_f_and_one_gradient_per_point():
    t = run(cfg(epochs=25))[0]
    assert (t.nfev, t.njev, t.nhev) == (26, 26, 0)


def test_newton_counts_hessians_and_finite_differences():
    t = run(cfg(optimizer="newton", hyperparams={}, starts=[(0.5, 0.5)], epochs=4))[0]
    assert (t.nfev, t.njev, t.nhev) == (5, 5, 4)
    # central differences: each gradient costs 2d = 4 values of f
    t = run(cfg(optimizer="newton", hyperparams={}, starts=[(0.5, 0.5)], epochs=4, gradient="central"))[0]
    assert (t.nfev, t.njev, t.nhev) == (5 + 5 * 4, 5, 4)


def test_line_search_counts_its_trials():
    c = cfg(optimizer="line-search", hyperparams={"method": "backtracking"}, starts=[(0.5, 0.5)], epochs=5)
    r = Run(c)
    trials = []
    for s in r:
        if s.k:
            trials.append(int(np.count_nonzero(~np.isnan(s.info["tried_t"][0]))))
    # f at each point (6), the line search's own f(x) at init (1), and its trials
    assert r.nfev[0] == 6 + 1 + sum(trials) and r.njev[0] == 6


@settings(max_examples=15, deadline=None)
@given(st.sampled_from(["gd", "line-search", "bfgs", "newton", "random-search", "adam"]),
       st.lists(st.tuples(st.floats(-4, 4), st.floats(-4, 4)), min_size=2, max_size=5))
def test_counts_of_start_i_equal_a_single_run_from_it(opt, starts):
    hp = {"lr": 0.01} if opt in ("gd", "adam") else {}
    many = run(cfg(optimizer=opt, hyperparams=hp, starts=starts, tol=1e-6, epochs=30))
    for i, s in enumerate(starts):
        one = run(cfg(optimizer=opt, hyperparams=hp, starts=[s], tol=1e-6, epochs=30, seed=i))[0]
        t = many[i]
        assert (t.nfev, t.njev, t.nhev, t.steps, t.status) == (one.nfev, one.njev, one.nhev, one.steps, one.status)


# --- nothing quadratic --------------------------------------------------------------------------------
def test_250000_starts_most_converging_early_cost_what_they_step(monkeypatch):
    """250,000 starts on the sphere; gd with ε = 0.4 multiplies x by 0.2 each step, so every start converges
    within about 13 steps of 1,000. Counted, not timed: the optimizer sees only the rows still running
    (total rows stepped = the sum of each start's steps, not N × epochs), the bookkeeping runs a bounded
    number of times per step whatever N, and no message is formatted."""
    _, _, starts = grid_points(((-5.0, 5.0), (-5.0, 5.0)), 500)
    c = RunConfig.create("sphere", "gd", starts[:1], epochs=1000, hyperparams={"lr": 0.4}, tol=1e-9)
    r = Run(c, starts=starts)
    stepped, ends, formats = [], [], []
    update = r.optimizer.update
    monkeypatch.setattr(r.optimizer, "update", lambda x, *a: stepped.append(len(x)) or update(x, *a))
    end = r._end
    monkeypatch.setattr(r, "_end", lambda ids, *a, **k: ends.append(len(ids)) or end(ids, *a, **k))
    monkeypatch.setattr(runs_mod.Messages, "__getitem__", lambda self, i: formats.append(i))
    fs = FinalState(r)
    r.drive(fs)
    assert (r.codes == STATUS_CODES.index(Status.CONVERGED)).all()
    assert len(stepped) < 20  # the loop stopped when the last start converged, not after 1,000 steps
    assert sum(stepped) == int(r.ended_at.sum())  # ended rows cost nothing
    assert sum(stepped) < 15 * len(starts)
    assert len(ends) <= len(stepped) + 1 and sum(ends) == len(starts)  # one vectorised call per step
    assert not formats
    assert np.abs(fs.x).max() < 1e-9


def test_reasons_table_covers_every_status():
    assert {runs_mod.REASONS[r][0] for r in Reason if r is not Reason.NONE} == set(STATUS_CODES) - {Status.RUNNING}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)), min_size=1, max_size=20))
def test_value_and_gradient_are_value_and_gradient_bit_for_bit(points):
    from gdstudio.core.objectives import get_objective, objective_names
    from gdstudio.core.objectives.base import INTO_MIN_POINTS

    p = np.array(points)
    many = np.resize(p, (INTO_MIN_POINTS + len(p), 2))  # enough points for the in-place path (f_grad_into)
    # row-major, column-major (a run of many starts), one point, a grid of points; few and many
    for q in (p, np.asfortranarray(p), p[0], np.stack([p, p[::-1]]), many, np.asfortranarray(many),
              np.stack([many, many[::-1]])):
        for name in objective_names():
            o = get_objective(name)
            with np.errstate(all="ignore"):
                v, g = o.value_and_gradient(q)
                assert v.shape == q.shape[:-1] and g.shape == q.shape and v.dtype == g.dtype == np.float64
                np.testing.assert_array_equal(v, o.value(q))
                np.testing.assert_array_equal(g, o.gradient(q))


def test_autodiff_gradients_are_counted_and_followed():
    ad = run(cfg(epochs=7, gradient="autodiff", starts=[(0.5, 0.5)]))[0]
    an = run(cfg(epochs=7, starts=[(0.5, 0.5)]))[0]
    assert (ad.nfev, ad.njev, ad.nhev) == (8, 8, 0)
    np.testing.assert_allclose(ad.x, an.x, rtol=1e-12, atol=1e-12)


def _drive_all(c, starts):
    r = Run(c, starts=starts)
    rec = Recorder(r)
    r.drive(rec)
    return r, rec.result()


@pytest.mark.parametrize("opt, hp", [
    ("gd", {"lr": 0.02}), ("sign-gd", {"lr": 0.05}), ("momentum", {"lr": 0.01, "weight_decay": 0.1}),
    ("nesterov", {"lr": 0.01}), ("adagrad", {"lr": 0.3, "lr_decay": 0.01}),
    ("rmsprop", {"lr": 0.05, "centered": True, "momentum": 0.5}), ("adam", {"lr": 0.1, "weight_decay": 0.01}),
    ("adam", {"lr": 0.1, "amsgrad": True}), ("adamw", {"lr": 0.1}),
])
def test_many_starts_run_column_major_with_the_same_bits(monkeypatch, opt, hp):
    """A run of many 2-D starts keeps x, ∇f and the state column-major: every number is the same as row-major.

    Starts that converge, diverge, overflow and complete, so rows end at different steps (compaction).
    """
    rng = np.random.default_rng(3)
    starts = np.vstack([MIXED * 20, rng.uniform(-5, 5, (300, 2))])
    c = cfg(optimizer=opt, hyperparams=hp, tol=1e-3, epochs=50, starts=starts[:1])
    r_col, res_col = _drive_all(c, starts)
    assert r_col._columns and len(starts) >= runs_mod.COLUMNS_MIN_STARTS
    monkeypatch.setattr(runs_mod, "COLUMNS_MIN_STARTS", 10**9)
    r_row, res_row = _drive_all(c, starts)
    assert not r_row._columns
    assert len(set(r_col.codes.tolist())) >= 3  # several ways to end: the compaction is exercised
    for name in ("codes", "reason", "ended_at", "last_step", "nfev", "njev"):
        np.testing.assert_array_equal(getattr(r_col, name), getattr(r_row, name))
    for a, b in zip(res_col, res_row):
        for field in ("x", "loss", "grad"):
            assert getattr(a, field).tobytes() == getattr(b, field).tobytes()


def test_the_column_major_layout_is_kept_from_step_to_step():
    starts = np.random.default_rng(0).uniform(-2, 2, (200, 2))
    r = Run(cfg(optimizer="adam", starts=starts[:1], epochs=5), starts=starts)
    layouts = [(c.x.flags.f_contiguous, c.grad.flags.f_contiguous) for c in r.chunks()]
    assert layouts == [(True, True)] * 6


def test_a_run_of_many_starts_asks_glibc_to_keep_freed_memory(monkeypatch):
    calls = []
    monkeypatch.setattr(runs_mod, "keep_freed_memory", lambda: calls.append(1))
    Run(cfg())
    assert not calls  # one start: nothing to tune
    Run(cfg(), starts=np.zeros((runs_mod.HEAP_MIN_NUMBERS // 2, 2)))
    assert calls == [1]
