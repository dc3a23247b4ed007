"""Basin maps: one start per grid point, each classified by the critical point it reaches."""

import csv
import io
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdstudio.core.basins import BLOCK, BasinMap, basin_map, classify, grid_points
from gdstudio.core.objectives import CriticalPoint, get_objective
from gdstudio.core.runs import STATUS_CODES, Status

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_himmelblau_with_gd_has_four_basins_ending_at_the_four_minima():
    m = basin_map("himmelblau", "gd", grid=60, epochs=400, hyperparams={"lr": 0.01})
    minima = [c for c in m.critical if c.kind == "minimum"]
    assert len(minima) == 4
    assert sorted(set(m.basin.tolist())) == [m.critical.index(c) for c in minima]
    for j, c in enumerate(m.critical):
        ends = m.x[m.basin == j]
        if c.kind == "minimum":
            assert len(ends) > 500
            assert np.abs(ends - c.x).max() < 1e-3  # every start of the basin ends at its minimum
        else:
            assert len(ends) == 0
    assert (m.status == STATUS_CODES.index(Status.CONVERGED)).mean() > 0.99


def test_newton_reaches_maxima_and_saddles_too():
    m = basin_map("himmelblau", "newton", grid=80, epochs=60)
    kinds = {m.critical[j].kind for j in set(m.basin.tolist()) if j >= 0}
    assert kinds == {"minimum", "maximum", "saddle"}
    counts = m.counts()
    assert all(counts[j] > 0 for j in range(len(m.critical)))  # all nine critical points have a basin
    for j, c in enumerate(m.critical):
        np.testing.assert_allclose(m.x[m.basin == j], np.broadcast_to(c.x, (counts[j], 2)), atol=1e-4)


def test_grid_layout_and_lookup():
    xs, ys, pts = grid_points(((-1.0, 1.0), (0.0, 4.0)), 5)
    assert pts.shape == (25, 2)
    np.testing.assert_array_equal(pts[2 * 5 + 3], [xs[2], ys[3]])
    m = basin_map("sphere", "gd", grid=5, bounds=((-1.0, 1.0), (0.0, 4.0)), epochs=3, hyperparams={"lr": 0.1})
    assert m.index_at(xs[2], ys[3]) == 13 and m.index_at(0.01, 2.9) == 13
    assert m.index_at(5.0, 0.0) is None
    np.testing.assert_array_equal(m.grid(m.x0)[2, 3], [xs[2], ys[3]])
    assert m.colours().shape == (5, 5, 4) and m.colours().dtype == np.uint8


def test_diverged_starts_are_minus_one_and_dark():
    m = basin_map("himmelblau", "gd", grid=20, epochs=100, hyperparams={"lr": 0.2})
    div = m.status == STATUS_CODES.index(Status.DIVERGED)
    assert div.any() and (m.basin[div] == -1).all()
    rgb = m.colours().reshape(-1, 4)[:, :3]
    assert (rgb[div] == (30, 30, 30)).all()
    assert "diverged" in m.describe(int(np.flatnonzero(div)[0]))
    assert (f"diverged: {int(div.sum()):,} starts" in [t for _, t in m.legend()])


def test_starts_still_moving_when_the_epochs_run_out_are_grey_not_diverged():
    """Momentum on Rosenbrock for 100 epochs: many starts are still travelling along the valley. They are
    told apart from diverged starts in the colours, the legend and the summary."""
    m = basin_map("rosenbrock", "momentum", grid=30, epochs=100, hyperparams={"lr": 0.002})
    moving = (m.basin == -1) & (m.status == STATUS_CODES.index(Status.COMPLETED))
    div = m.diverged()
    assert moving.sum() > 100 and div.any()  # both kinds of −1 start are on this map
    rgb = m.colours().reshape(-1, 4)[:, :3]
    assert (rgb[moving] == (105, 105, 105)).all() and (rgb[div] == (30, 30, 30)).all()
    texts = [t for _, t in m.legend()]
    assert f"still moving after 100 epochs: {int(moving.sum()):,} starts" in texts
    assert f"diverged: {int(div.sum()):,} starts" in texts
    assert m.unfinished_counts() == (int(moving.sum()), int((m.basin == -1).sum() - moving.sum() - div.sum()))
    assert f"{int(div.sum()):,} diverged or failed, {int(moving.sum()):,} still moving after 100 epochs" in m.summary()[-1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-3, 3), st.floats(-3, 3)), min_size=1, max_size=30),
       st.floats(0.05, 2.0))
def test_classify_picks_the_nearest_within_the_radius(ends, radius):
    ends = np.array(ends)
    crit = [CriticalPoint((0.0, 0.0), "minimum", 0.0), CriticalPoint((1.0, 1.0), "saddle", 1.0)]
    status = np.zeros(len(ends), dtype=np.int8)
    basin = classify(ends, status, crit, radius)
    d = np.stack([np.hypot(*(ends - c.x).T) for c in crit], axis=1)
    for i in range(len(ends)):
        if d[i].min() <= radius:
            assert d[i, basin[i]] == d[i].min()
        else:
            assert basin[i] == -1
    status[:] = STATUS_CODES.index(Status.FAILED)
    assert (classify(ends, status, crit, radius) == -1).all()


def test_bad_requests_name_the_problem():
    with pytest.raises(ValueError, match="grid"):
        basin_map("sphere", "gd", grid=1)
    with pytest.raises(ValueError, match="bounds"):
        basin_map("sphere", "gd", grid=3, bounds=((1.0, 0.0), (0.0, 1.0)))


def test_progress_and_cancel():
    seen = []
    m = basin_map("sphere", "gd", grid=200, epochs=50, hyperparams={"lr": 0.01}, tol=None,
                  progress=lambda done, total: seen.append((done, total)), should_stop=lambda: len(seen) >= 5)
    assert m.cancelled and seen[-1][1] == -(-40000 // BLOCK) * 50  # one progress scale over all blocks
    assert (m.status == STATUS_CODES.index(Status.CANCELLED)).all()


def test_csv_rows(tmp_path):
    m = basin_map("himmelblau", "gd", grid=4, epochs=50, hyperparams={"lr": 0.01})
    p = tmp_path / "b.csv"
    assert m.write_csv(p) == 16
    rows = list(csv.reader(io.StringIO(p.read_text())))
    assert rows[0][:7] == ["x0", "y0", "x", "y", "status", "steps", "basin"]
    assert float(rows[1][0]) == m.x0[0, 0] and int(rows[1][6]) == m.basin[0] and rows[1][4] == str(
        STATUS_CODES[m.status[0]])


def _cli(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("DISPLAY", None)
    return subprocess.run([sys.executable, "-m", "gdstudio", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)


def test_cli_basins_csv_and_summary(tmp_path):
    out = tmp_path / "him.csv"
    p = _cli("basins", "--objective", "himmelblau", "--optimizer", "gd", "--lr", "0.01", "--grid", "30",
             "--epochs", "300", "--out", str(out))
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 900 and {r["basin"] for r in rows} == {"0", "1", "2", "3"}
    assert "basin 0: minimum (3, 2)" in p.stderr and "basin -1" in p.stderr
    p = _cli("basins", "--objective", "himmelblau", "--optimizer", "gd", "--grid", "3", "--epochs", "2")
    assert p.returncode == 0 and p.stdout.startswith("x0,y0,x,y,status,steps,basin")


def test_cli_basins_png(tmp_path):
    out = tmp_path / "newton.png"
    p = _cli("basins", "--objective", "himmelblau", "--optimizer", "newton", "--grid", "40", "--epochs", "30",
             "--bounds", "-5", "5", "-5", "5", "--out", str(out))
    assert p.returncode == 0, p.stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


@pytest.mark.parametrize("args, message", [
    (["--grid", "1"], "grid"),
    (["--bounds", "1", "0", "0", "1"], "bounds"),
    (["--out", "x.txt"], ".csv or .png"),
    (["--set", "nope=1"], "no hyperparameter"),
])
def test_cli_basins_errors(args, message, tmp_path):
    p = _cli("basins", "--objective", "sphere", "--optimizer", "gd", *args, cwd=tmp_path)
    assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr


def test_basin_map_is_a_frozen_record():
    m = basin_map("sphere", "gd", grid=3, epochs=1)
    assert isinstance(m, BasinMap)
    with pytest.raises(AttributeError):
        m.radius = 1.0  # type: ignore[misc]
    assert get_objective("sphere").critical_points()[0].x == m.critical[0].x


def test_a_typed_formula_gets_its_critical_points_found():
    m = basin_map("expr:x^4 - 2*x^2 + y^2", "gd", grid=40, bounds=((-1.5, 1.5), (-1.5, 1.5)), epochs=300,
                  hyperparams={"lr": 0.02})
    kinds = sorted(c.kind for c in m.critical)
    assert kinds == ["minimum", "minimum", "saddle"]
    used = {m.critical[j].x for j in set(m.basin.tolist())}
    assert used == {(-1.0, 0.0), (1.0, 0.0)} or all(abs(abs(x) - 1) < 1e-6 and abs(y) < 1e-6 for x, y in used)
    assert (m.basin >= 0).mean() > 0.9  # the starts on the line x = 0 go to the saddle's neighbourhood slowly
