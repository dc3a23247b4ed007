"""Loss landscapes: slices, directions, projections."""

import numpy as np
import pytest

from gdstudio.core.data import load_dataset
from gdstudio.core.landscape import (filter_directions, grid_slice, make_plane, pca_directions, project,
                                     random_directions, slice_csv)
from gdstudio.core.models import ModelObjective
from gdstudio.core.training import TrainConfig, train


@pytest.fixture(scope="module")
def trained():
    return {m: train(TrainConfig.create(dataset="digits", model=m, optimizer="gd", hyperparams={"lr": 0.3},
                                        model_params={"hidden": 8} if m == "mlp" else {}, epochs=6, seed=1))
            for m in ("svm", "softmax", "mlp")}


@pytest.mark.parametrize("model", ["svm", "softmax", "mlp"])
@pytest.mark.parametrize("kind", ["random", "filter", "pca"])
def test_slice_centre_is_the_loss_at_the_centre(trained, model, kind):
    r = trained[model]
    plane = make_plane(r.model, r.final, kind, seed=2, thetas=r.thetas)
    sl = grid_slice(r.model, plane, grid=11, span=0.5)
    centre = float(r.model.full_loss(r.final))
    assert sl.a[5] == 0 and sl.b[5] == 0
    assert sl.loss[5, 5] == pytest.approx(centre, rel=1e-13)
    assert sl.loss[5, 5] == pytest.approx(r.curve.array("train_loss")[-1], rel=1e-13)


@pytest.mark.parametrize("model", ["svm", "softmax"])
def test_linear_slices_equal_pointwise_evaluation(trained, model):
    r = trained[model]
    plane = make_plane(r.model, r.final, "random", seed=3)
    sl = grid_slice(r.model, plane, grid=7, span=2.0)
    aa, bb = np.meshgrid(sl.a, sl.b, indexing="ij")
    pts = r.final + aa[..., None] * plane.directions[0] + bb[..., None] * plane.directions[1]
    direct = r.model.full_loss(pts.reshape(-1, r.model.dim)).reshape(aa.shape)
    np.testing.assert_allclose(sl.loss, direct, rtol=1e-12)


def test_svm_1d_slice_is_convex_and_piecewise_linear(trained):
    """Without the penalty, L(θ + aδ) is a mean of hinges max(0, α + βa): convex, and linear between the kinks
    a = −α/β (computed here from the scores; 8 samples keep the kinks few)."""
    r = trained["svm"]
    full = r.model.dataset
    from gdstudio.core.data import Dataset

    ds = Dataset("digits[:8]", full.X_train[:8], full.y_train[:8], full.X_val, full.y_val, full.classes)
    m = ModelObjective(ds, "svm", {"reg": 0.0})
    plane = make_plane(m, r.final, "random", seed=4)
    sl = grid_slice(m, plane, grid=401, span=3.0, dims=1)
    assert sl.loss.shape == (401, 1)
    f = sl.loss[:, 0]
    assert np.all(f[:-2] - 2 * f[1:-1] + f[2:] >= -1e-12)  # convex on the grid
    X, y, rows = ds.X_train, ds.y_train, np.arange(8)
    s0, s1 = m.scores(r.final, X), m.scores(plane.directions[0], X)
    alpha = s0 - s0[rows, y][:, None] + 1
    beta = s1 - s1[rows, y][:, None]
    other = np.ones_like(alpha, dtype=bool)
    other[rows, y] = False
    keep = other & (beta != 0)
    kinks = np.sort(-alpha[keep] / beta[keep])
    kinks = kinks[np.abs(kinks) < 3.0]
    assert len(kinks) > 5
    pieces = 0
    for lo, hi in zip(kinks[:-1], kinks[1:]):
        if hi - lo < 1e-6:
            continue
        a = np.linspace(lo, hi, 7)[1:-1]
        v = m.plane_loss(r.final, plane.directions[:1], a[:, None])
        np.testing.assert_allclose(np.diff(v, 2), 0, atol=1e-12)  # linear on each piece
        pieces += 1
    assert pieces > 5
    # the slope changes at the kinks: the function is not linear across one
    mid = kinks[len(kinks) // 2]
    v = m.plane_loss(r.final, plane.directions[:1], np.array([[mid - 1e-3], [mid], [mid + 1e-3]]))
    assert v[0] - 2 * v[1] + v[2] > 1e-6
    # with the penalty: still convex (a positive quadratic added)
    sl2 = grid_slice(r.model, make_plane(r.model, r.final, "random", seed=4), grid=101, span=3.0, dims=1)
    assert np.all(np.diff(sl2.loss[:, 0], 2) >= -1e-12)


def test_pca_of_a_straight_path_explains_everything():
    rng = np.random.default_rng(0)
    start, end = rng.standard_normal(50), rng.standard_normal(50)
    t = np.linspace(0, 1, 20) ** 2
    thetas = start + t[:, None] * (end - start)
    dirs, explained = pca_directions(thetas)
    assert explained[0] == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(np.abs(dirs[0]), np.abs(end - start) / np.linalg.norm(end - start), atol=1e-12)
    ds = load_dataset("iris")
    m = ModelObjective(ds, "softmax")
    plane = make_plane(m, np.zeros(m.dim), "pca", thetas=rng.standard_normal((5, m.dim)))
    assert "PCA plane" in plane.caption()


def test_pca_plane_of_a_training_path(trained):
    r = trained["softmax"]
    plane = make_plane(r.model, r.final, "pca", thetas=r.thetas)
    proj = project(plane, r.thetas)
    assert sum(plane.explained[:2]) > 0.99
    np.testing.assert_allclose(proj.ab[-1], 0, atol=1e-12)
    assert proj.mean_miss < 0.05
    np.testing.assert_allclose(plane.directions @ plane.directions.T, np.eye(2), atol=1e-12)


def test_projection_of_points_in_the_plane_is_exact():
    rng = np.random.default_rng(1)
    centre = rng.standard_normal(30)
    D = rng.standard_normal((2, 30))  # not orthogonal
    from gdstudio.core.landscape import Plane

    plane = Plane(centre, D, "random")
    ab = rng.standard_normal((6, 2))
    pts = centre + ab @ D
    proj = project(plane, pts)
    np.testing.assert_allclose(proj.ab, ab, atol=1e-12)
    np.testing.assert_allclose(proj.miss, 0, atol=1e-10)
    perp = np.linalg.svd(D)[2][2]  # orthogonal to both directions
    off = project(plane, np.vstack([centre, centre + perp]))
    assert off.miss[0] == pytest.approx(1.0)


def test_filter_directions_match_filter_norms(trained):
    r = trained["mlp"]
    d = filter_directions(r.model, r.final, seed=0, count=2)
    for name, shape in r.model.layout:
        db, cb = r.model.blocks(d)[name], r.model.blocks(r.final)[name]
        if len(shape) == 1:
            assert not np.any(db)
        else:
            np.testing.assert_allclose(np.linalg.norm(db, axis=1), np.broadcast_to(np.linalg.norm(cb, axis=0),
                                                                                    (2, shape[1])), rtol=1e-12)
    rd = random_directions(r.final, seed=0)
    np.testing.assert_allclose(np.linalg.norm(rd, axis=1), np.linalg.norm(r.final), rtol=1e-12)


def test_slice_csv_rows(trained):
    r = trained["svm"]
    sl = grid_slice(r.model, make_plane(r.model, r.final, "filter"), grid=3, span=1.0)
    lines = slice_csv(sl).splitlines()
    assert lines[0] == "a,b,loss" and len(lines) == 10
    assert lines[5].startswith("0.0,0.0,")


def test_bad_slice_options(trained):
    r = trained["svm"]
    plane = make_plane(r.model, r.final, "filter")
    with pytest.raises(ValueError, match="at least 2"):
        grid_slice(r.model, plane, grid=1)
    with pytest.raises(ValueError, match="span"):
        grid_slice(r.model, plane, span=0)
    with pytest.raises(ValueError, match="unknown directions"):
        make_plane(r.model, r.final, "sideways")
