"""Model objectives: shapes, analytic gradients against central differences, batches, training through Run."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdstudio.core.data import Dataset, load_dataset
from gdstudio.core.gradients import finite_difference
from gdstudio.core.models import ModelObjective, head_loss
from gdstudio.core.runs import Run
from gdstudio.core.training import TrainConfig, build, train

REFERENCE = json.loads((Path(__file__).parent / "data" / "model_reference.json").read_text())


def tiny(seed=0, n=13, D=4, C=3, val=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, D))
    y = rng.integers(0, C, n)
    y[:C] = np.arange(C)
    return Dataset("tiny", X, y, X[:val], y[:val], tuple(map(str, range(C))))


MODELS = [("svm", {}), ("softmax", {}), ("mlp", {"hidden": 5}), ("mlp", {"hidden": 4, "activation": "tanh"})]


@pytest.mark.parametrize("kind, params", MODELS)
def test_layout_and_shapes(kind, params):
    m = ModelObjective(tiny(), kind, params, seed=1)
    assert m.dim == sum(int(np.prod(s)) for _, s in m.layout)
    if kind != "mlp":
        assert m.layout_text() == "W (4, 3), b (3,)"
        assert not np.any(m.initial_theta())
    th = m.initial_theta() + 0.1
    batch = np.stack([th, 2 * th, -th])
    assert m.value(th).shape == () and m.gradient(th).shape == (m.dim,)
    assert m.value(batch).shape == (3,) and m.gradient(batch).shape == (3, m.dim)
    for i in range(3):  # rows of a batch = single evaluations
        np.testing.assert_allclose(m.value(batch)[i], m.value(batch[i]), rtol=1e-14)
        np.testing.assert_allclose(m.gradient(batch)[i], m.gradient(batch[i]), rtol=1e-13, atol=1e-15)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(range(len(MODELS))), st.floats(0, 0.5))
def test_gradient_matches_central_differences(seed, which, reg):
    kind, params = MODELS[which]
    m = ModelObjective(tiny(seed), kind, dict(params, reg=reg), seed=seed)
    th = np.random.default_rng(seed).standard_normal(m.dim)
    # hinge and relu have kinks; a random point is almost surely away from them by more than h
    g = m.gradient(th)
    fd = finite_difference(m.value, th, 1e-6)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6)


def test_svm_value_by_hand():
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([0, 1])
    m = ModelObjective(Dataset("h", X, y, X[:0], y[:0], ("a", "b")), "svm", {"reg": 0.5})
    W = np.array([[2.0, 1.5], [0.0, 3.0]])
    b = np.array([0.0, 0.25])
    # sample 0: s = (2, 1.75): margin 1.75 − 2 + 1 = 0.75; sample 1: s = (0, 3.25): margin 0 − 3.25 + 1 < 0
    expected = (0.75 + 0) / 2 + 0.5 * (W ** 2).sum()
    assert m.value(np.concatenate([W.ravel(), b])) == pytest.approx(expected, rel=1e-15)


def test_softmax_at_zero_is_log_c():
    m = ModelObjective(load_dataset(), "softmax")
    assert float(m.value(m.initial_theta())) == pytest.approx(np.log(10), rel=1e-15)
    s = np.zeros((4, 10))
    assert head_loss("svm", s, np.arange(4))[0] == 9.0


def test_minibatches_cover_each_epoch_once_and_reshuffle():
    m = ModelObjective(tiny(n=10), "softmax", batch_size=4, seed=5)
    assert m.batches_per_epoch == 3
    e0 = np.concatenate([m.batch_indices(k) for k in range(3)])
    e1 = np.concatenate([m.batch_indices(k) for k in range(3, 6)])
    assert sorted(e0) == list(range(10)) and sorted(e1) == list(range(10))
    assert not np.array_equal(e0, e1)
    assert len(m.batch_indices(2)) == 2


def test_run_asks_the_batch_of_each_step():
    """The loss a Run records at step k is the loss of batch k at θ_k."""
    cfg = TrainConfig.create(dataset="iris", model="softmax", optimizer="gd", hyperparams={"lr": 0.3},
                             batch_size=32, epochs=2, seed=2)
    model, run_cfg = build(cfg)
    steps = list(Run(run_cfg, objective=model))
    assert len(steps) == 1 + 2 * 5
    ref = model.copy()
    for s in steps:
        idx = ref.batch_indices(s.k)
        X, y = ref.dataset.X_train[idx], ref.dataset.y_train[idx]
        assert s.loss[0] == pytest.approx(float(ref.loss_grad(s.x[0], X, y, False)[0]), rel=1e-13)


def test_curve_epoch_rows_and_validation():
    r = train(TrainConfig.create(dataset="digits", model="softmax", optimizer="adam", hyperparams={"lr": 0.01},
                                 batch_size=100, val=0.25, epochs=2, seed=1))
    c = r.curve
    nb = r.model.batches_per_epoch
    assert nb == 14 and len(c) == 1 + 2 * nb
    ends = c.epoch_rows()
    np.testing.assert_array_equal(ends, [0, nb, 2 * nb])
    tl = c.array("train_loss")
    assert np.all(np.isfinite(tl[ends])) and np.all(np.isnan(np.delete(tl, ends)))
    assert tl[-1] == pytest.approx(float(r.model.full_loss(r.final)), rel=1e-14)
    assert c.array("val_acc")[-1] > 0.8 and c.array("val_loss")[-1] < c.array("val_loss")[0]
    assert r.message == "completed 2 epochs"
    assert c.to_csv().splitlines()[0] == "step,epoch,batch_loss,train_loss,val_loss,train_acc,val_acc"


def test_dense_methods_refused_on_large_models_allowed_on_small():
    with pytest.raises(ValueError, match="d = 650 parameters: Newton and BFGS"):
        build(TrainConfig.create(model="softmax", optimizer="newton"))
    r = train(TrainConfig.create(dataset="iris", model="softmax", optimizer="bfgs", epochs=5))
    assert r.curve.array("train_loss")[-1] < r.curve.array("train_loss")[0]


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=lambda c: f"{c['model']}-{c['optimizer']}")
def test_train_loss_curve_matches_torch(case):
    """Zero init, full batch, digits, --val 0: gdstudio's curve equals torch.optim's in float64."""
    cfg = TrainConfig.create(dataset="digits", model=case["model"], optimizer=case["optimizer"],
                             hyperparams=case["hyperparams"], model_params={"reg": case["reg"]},
                             epochs=REFERENCE["steps"])
    got = train(cfg).curve.array("train_loss")
    ref = np.array(case["loss"])
    assert len(got) == len(ref)
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=0)  # measured: at most 3.3e-14
