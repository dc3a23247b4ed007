"""Objectives and optimizers that are not in the registries run, explain and draw like the built-ins.

A 1,000-parameter quadratic defined here (not registered) runs through :class:`Run` with every
optimizer and has its steps explained; an optimizer class defined here gets its derived arrows,
curvature model and line-search chart without any change to ``gdstudio.core.analysis`` or the window.
"""

import numpy as np
import pytest

from gdstudio.core import analysis as an
from gdstudio.core.objectives import Objective
from gdstudio.core.optimizers import OPTIMIZERS, Curvature, Optimizer, Shown, Update, optimizer_names
from gdstudio.core.optimizers.base import lr_param
from gdstudio.core.runs import Run, RunConfig, Status, run
from gdstudio.core.session import Session, SessionError, SessionRun, dumps
from gdstudio.gui.step_picture import make_arrows

D = 1000


class WideQuadratic(Objective):
    r"""f(x) = ½ Σ aᵢ xᵢ² with curvatures aᵢ spread over [1, 10]: a stand-in for a model with many parameters."""

    name = "wide-quadratic"
    title = "Wide quadratic"
    formula = "½ Σ aᵢ xᵢ²"
    domain = ((-2.0, 2.0), (-2.0, 2.0))

    def __init__(self, d: int = D):
        super().__init__()
        self.dim = d
        self.a = np.linspace(1.0, 10.0, d)

    def value(self, p):
        p = np.asarray(p, dtype=float)
        return 0.5 * np.sum(self.a * p * p, axis=-1)

    def gradient(self, p):
        return self.a * np.asarray(p, dtype=float)

    def hessian(self, p):
        p = np.asarray(p, dtype=float)
        return np.broadcast_to(np.diag(self.a), p.shape[:-1] + (self.dim, self.dim)).copy()


START = np.random.default_rng(0).uniform(-1.0, 1.0, D)
SETTINGS = {"gd": {"lr": 0.1}, "sign-gd": {"lr": 0.02}, "momentum": {"lr": 0.05}, "nesterov": {"lr": 0.05},
            "adagrad": {"lr": 0.1}, "rmsprop": {"lr": 0.01}, "adam": {"lr": 0.01}, "adamw": {"lr": 0.01}}


@pytest.mark.parametrize("name", optimizer_names())
def test_every_optimizer_runs_and_explains_an_unregistered_1000_parameter_objective(name):
    f = WideQuadratic()
    cfg = RunConfig.create(f, name, starts=[START], epochs=12, hyperparams=SETTINGS.get(name, {}))
    assert cfg.build_objective() is f and cfg.starts.shape == (1, D) and not cfg.starts.flags.writeable
    t = run(cfg)[0]
    assert t.status is Status.COMPLETED, t.message
    assert t.x.shape == (13, D) and np.all(np.isfinite(t.loss))
    if name.startswith("random"):
        assert t.loss[-1] <= t.loss[0]  # it keeps the best point: never worse
    else:
        assert t.loss[-1] < 0.9 * t.loss[0], f"{name} did not descend: {t.loss[0]} → {t.loss[-1]}"
    if name == "newton":
        np.testing.assert_allclose(t.x[1], 0.0, atol=1e-12)  # a quadratic: one Newton step to the minimum

    e = an.explain_step(cfg, 3)
    np.testing.assert_array_equal(e.x, t.x[3])
    np.testing.assert_array_equal(e.update, t.x[4] - t.x[3])
    assert e.vectors()["∇f"].shape == (D,)
    if name == "bfgs":
        assert e.inverse_hessian.shape == (D, D)
        ls = an.step_line_search(f, e)
        assert ls.searched and ls.direction_label.startswith("−B∇f")
    if name == "adam":
        np.testing.assert_allclose(e.update, -e.derived["m_hat"] * e.derived["step_size"], rtol=1e-10)


def test_n_starts_of_an_unregistered_objective_match_single_runs():
    f = WideQuadratic(50)
    starts = np.random.default_rng(1).normal(size=(3, 50))
    many = run(RunConfig.create(f, "adam", starts=starts, epochs=20, hyperparams={"lr": 0.05}))
    for i in range(3):
        one = run(RunConfig.create(f, "adam", starts=starts[i:i + 1], epochs=20, hyperparams={"lr": 0.05}))[0]
        np.testing.assert_array_equal(many[i].x, one.x)


def test_an_unregistered_objective_cannot_be_saved_by_name_and_says_so():
    cfg = RunConfig.create(WideQuadratic(20), "gd", starts=[np.zeros(20)], epochs=2)
    with pytest.raises(ValueError, match="cannot be saved by name"):
        cfg.to_dict()
    with pytest.raises(SessionError, match="cannot be saved by name"):
        dumps(Session(WideQuadratic(20), runs=(SessionRun(cfg),)))
    with pytest.raises(ValueError, match="carries its own parameters"):
        RunConfig.create(WideQuadratic(20), "gd", starts=[np.zeros(20)], objective_params={"kappa": 3.0})


def test_a_builtin_instance_saves_as_its_spec_and_equals_the_named_config():
    from gdstudio.core.objectives import get_objective

    inst = RunConfig.create(get_objective("quadratic", {"kappa": 5.0}), "gd", starts=[(1.0, 2.0)], epochs=3)
    named = RunConfig.create("quadratic", "gd", starts=[(1.0, 2.0)], epochs=3, objective_params={"kappa": 5.0})
    assert inst.to_dict() == named.to_dict()
    assert RunConfig.from_dict(inst.to_dict()) == named
    np.testing.assert_array_equal(run(inst)[0].x, run(named)[0].x)


def test_starts_are_owned_and_read_only():
    pts = np.array([[1.0, 2.0], [3.0, 4.0]])
    cfg = RunConfig.create("booth", "gd", starts=pts, epochs=1)
    pts[0, 0] = 99.0  # the caller's array changes; the config's does not
    assert cfg.starts[0, 0] == 1.0
    with pytest.raises(ValueError):
        cfg.starts[0, 0] = 5.0
    same = RunConfig.create("booth", "gd", starts=[(1.0, 2.0), (3.0, 4.0)], epochs=1)
    assert same == cfg and hash(same) == hash(cfg)
    assert cfg != cfg.replace(starts=[(1.0, 2.0), (3.0, 4.5)])


# --- an optimizer class that lives only in this file ----------------------------------------------
class HalfHeavyBall(Optimizer):
    """b ← b/2 + ∇f; x ← x − εb, with a made-up derived vector and curvature model, to test the hooks."""

    name = "test-half-heavy-ball"
    title = "Half heavy ball (test)"
    hyperparams = (lr_param(0.1),)
    shown = (
        Shown("buf", "buffer b", arrow=True, from_state=True),
        Shown("pull", "pull −b/2 (test only)", arrow=True),
        Shown("size", "‖b‖ (not an arrow)"),
    )

    def init(self, x, g, problem, rng):
        return {"buf": np.zeros_like(x)}

    def update(self, x, g, state, problem, rng):
        buf = 0.5 * state["buf"] + g
        return Update(x - self.hp["lr"] * buf, {"buf": buf}, info={"t": np.full(len(x), self.hp["lr"])})

    def derived(self, state):
        b = np.asarray(state["buf"], dtype=float)
        return {"pull": -0.5 * b, "size": np.linalg.norm(b)}

    def curvature(self, state, x, problem):
        return Curvature(2.0 * np.eye(len(x)), True, "2I")


class SearchingHalfHeavyBall(HalfHeavyBall):
    name = "test-searching"
    searches_line = True
    search_direction = "−b (the buffer)"


@pytest.fixture
def registered(monkeypatch):
    """Register the test optimizers the way a plugin would (the registry is restored afterwards)."""
    for cls in (HalfHeavyBall, SearchingHalfHeavyBall):
        monkeypatch.setitem(OPTIMIZERS, cls.name, cls)


def test_an_optimizer_defined_here_gets_its_arrows_in_the_explanation_and_the_picture(registered):
    cfg = RunConfig.create("booth", HalfHeavyBall.name, starts=[(0.0, 0.0)], epochs=5)
    e = an.explain_step(cfg, 2)
    buf = e.state_after["buf"]
    np.testing.assert_allclose(e.derived["pull"], -0.5 * buf)
    vectors = e.vectors()
    np.testing.assert_allclose(vectors["derived:pull"], -0.5 * buf)
    assert dict(e.arrows) == {"state:buf": "buffer b", "derived:pull": "pull −b/2 (test only)"}
    assert ("pull −b/2 (test only)", ) == tuple(r[0] for r in e.summary() if r[0].startswith("pull"))
    assert any(r[0] == "‖b‖ (not an arrow)" for r in e.summary())
    np.testing.assert_array_equal(e.inverse_hessian, 2.0 * np.eye(2))
    arrows = {a.key: a for a in make_arrows(e, side=10.0)}
    assert set(arrows) == {"∇f", "−∇f", "update", "state:buf", "derived:pull"}
    assert arrows["derived:pull"].label.startswith("pull −b/2 (test only)")
    np.testing.assert_allclose(arrows["derived:pull"].vector, -0.5 * buf)
    assert not an.step_line_search(Run(cfg).objective, e).searched  # it does not search a line


def test_an_optimizer_that_says_it_searches_a_line_gets_the_line_search_chart(registered):
    cfg = RunConfig.create("booth", SearchingHalfHeavyBall.name, starts=[(0.0, 0.0)], epochs=5)
    e = an.explain_step(cfg, 1)
    ls = an.step_line_search(Run(cfg).objective, e)
    assert ls.searched and ls.direction_label == "−b (the buffer)" and ls.chosen_t == 0.1
    np.testing.assert_allclose(ls.direction, e.update / 0.1)


def test_a_session_takes_an_objective_instance_and_saves_its_spec():
    from gdstudio.core.objectives import get_objective
    from gdstudio.core.session import loads

    f = get_objective("quadratic", {"kappa": 4.0})
    cfg = RunConfig.create(f, "gd", starts=[(1.0, 1.0)], epochs=3)
    back = loads(dumps(Session(f, runs=(SessionRun(cfg),))))
    assert back.objective == "quadratic" and back.params == {"kappa": 4.0}
    again = back.runs[0].config
    assert again.objective == "quadratic" and dict(again.objective_params) == {"kappa": 4.0}
    np.testing.assert_array_equal(run(again)[0].x, run(cfg)[0].x)


@pytest.mark.parametrize("name", ["newton", "bfgs"])
def test_second_order_methods_refuse_a_problem_whose_matrices_would_not_fit(name):
    big = WideQuadratic(20_000)  # a 20,000 × 20,000 Hessian is 3 GB
    with pytest.raises(ValueError, match=rf"{name} holds 1 matrix of 20,000 × 20,000 numbers per start: "
                                         r"3,052 MB for 1 start, more than its 512 MB limit; use a first-order"):
        RunConfig.create(big, name, starts=[np.zeros(20_000)], epochs=1)
    RunConfig.create(big, "adam", starts=[np.zeros(20_000)], epochs=1)  # first-order methods take it
    RunConfig.create(WideQuadratic(2_000), name, starts=[np.zeros(2_000)], epochs=1)  # 31 MB: fine
