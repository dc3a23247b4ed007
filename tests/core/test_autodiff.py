"""Reverse-mode autodiff: every built-in's formula equals its hand-written f, the backward pass equals the
hand-written gradient, `--gradient autodiff` retraces the analytic run, and the graph is there to show."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gdstudio.cli import main
from gdstudio.core.autodiff import Graph, autodiff_gradient, objective_graph
from gdstudio.core.gradients import GRADIENT_METHODS, Problem, gradient_check
from gdstudio.core.objectives import Objective, get_objective, objective_names
from gdstudio.core.runs import RunConfig, run


def sample(objective, n=4000, seed=0):
    (x0, x1), (y0, y1) = objective.domain
    rng = np.random.default_rng(seed)
    return np.stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)], axis=-1)


@pytest.mark.parametrize("name", objective_names())
def test_each_builtin_expression_equals_its_hand_written_value(name):
    f = get_objective(name)
    assert f.expression, f"{name} has no expression"
    p = sample(f)
    np.testing.assert_allclose(objective_graph(f).run(p).value, f.value(p), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("name", objective_names())
def test_autodiff_gradient_equals_the_analytic_one(name):
    f = get_objective(name)
    p = sample(f, seed=1)
    g, ga = f.gradient(p), autodiff_gradient(f, p)
    scale = np.maximum(1.0, np.abs(g))
    assert np.max(np.abs(ga - g) / scale) < 1e-11
    # shapes as objectives take them: one point, a grid
    assert autodiff_gradient(f, p[0]).shape == (2,)
    assert autodiff_gradient(f, p.reshape(40, 100, 2)).shape == (40, 100, 2)


def test_parameters_enter_as_named_constants():
    f = get_objective("quadratic", {"kappa": 50.0})
    g = objective_graph(f)
    assert any(n.op == "const" and n.label == "kappa" for n in g.nodes)
    np.testing.assert_allclose(autodiff_gradient(f, [[1.0, 2.0]]), [[1.0, 100.0]])
    assert objective_graph(get_objective("quadratic")) is not g


def test_ackley_cone_tip_and_abs_kink_use_the_documented_conventions():
    a = get_objective("ackley")
    np.testing.assert_array_equal(autodiff_gradient(a, [0.0, 0.0]), a.gradient([0.0, 0.0]))
    np.testing.assert_array_equal(autodiff_gradient(get_objective("expr:abs(x) + y"), [0.0, 1.0]), [0.0, 1.0])


@pytest.mark.parametrize("name", objective_names())
def test_run_with_autodiff_gives_the_analytic_trajectory(name):
    f = get_objective(name)
    (x0, x1), (y0, y1) = f.domain
    starts = [(x0 + 0.3 * (x1 - x0), y0 + 0.6 * (y1 - y0)), (x0 + 0.55 * (x1 - x0), y0 + 0.45 * (y1 - y0))]
    # a step small enough for each surface's curvature that the runs stay on the map
    lr = {"goldstein-price": 1e-5, "beale": 1e-4, "rosenbrock": 1e-4}.get(name, 1e-3)
    cfg = RunConfig.create(objective=name, optimizer="gd", starts=starts, epochs=200, hyperparams={"lr": lr})
    a, b = run(cfg), run(cfg.replace(gradient="autodiff"))
    for ta, tb in zip(a, b):
        assert ta.status == tb.status and ta.steps == tb.steps > 0
        np.testing.assert_allclose(tb.x, ta.x, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(tb.grad, ta.grad, rtol=1e-11, atol=1e-11)


def test_cli_run_autodiff_equals_analytic(capsys):
    from io import StringIO

    from gdstudio.core.export import read_csv

    args = ["run", "--objective", "himmelblau", "--optimizer", "adam", "--lr", "0.05", "--epochs", "50",
            "--start", "-1", "1"]
    assert main(args) == 0
    ref = read_csv(StringIO(capsys.readouterr().out))
    assert main(args + ["--gradient", "autodiff"]) == 0
    ad = read_csv(StringIO(capsys.readouterr().out))
    assert set(ad["gradient"]) == {"autodiff"}
    np.testing.assert_allclose(ad["x"], ref["x"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ad["y"], ref["y"], rtol=1e-12, atol=1e-12)


def test_check_shows_autodiff_beside_the_others(capsys):
    assert "autodiff" in GRADIENT_METHODS
    assert main(["check", "--objective", "rosenbrock", "--at", "-1.5", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in lines[1:]] == ["analytic", "central", "forward", "autodiff"]
    assert "(-155, -50)" in lines[4] and lines[4].endswith("relative error 0")
    r = gradient_check(get_objective("expr:sin(x)*exp(y)"), [0.3, 0.2])
    assert r.error_autodiff < 1e-15


def test_an_objective_without_formula_refuses_autodiff_clearly():
    class Bare(Objective):
        name = "bare"

        def value(self, p):
            return np.sum(np.asarray(p) ** 2, axis=-1)

        def gradient(self, p):
            return 2 * np.asarray(p)

    with pytest.raises(ValueError, match="has no formula, so autodiff cannot"):
        Problem(Bare(), "autodiff")
    assert gradient_check(Bare(), [1.0, 2.0]).autodiff is None


def test_graph_exposes_nodes_values_and_adjoints():
    g = Graph("(1 - x)^2 + 100*(y - x^2)^2")
    ops = [n.op for n in g.nodes]
    assert ops.count("var") == 2  # x is one leaf however often it appears
    out = g.nodes[g.output]
    assert out.op == "add" and out.layer == max(n.layer for n in g.nodes)
    assert all(j < n.id for n in g.nodes for j in n.inputs)
    tr = g.run(np.array([[-1.5, 2.0]]))
    assert tr.values[g.output][0] == pytest.approx(2.5**2 + 100 * 0.25**2)
    assert tr.adjoints[g.output][0] == 1.0
    assert tr.adjoints[g.leaves["x"]][0] == -155.0 and tr.adjoints[g.leaves["y"]][0] == -50.0
    # the node y - x² has adjoint ∂f/∂(y − x²) = 200 (y − x²) = −50
    (v,) = [n for n in g.nodes if n.text == "y - x^2"]
    assert tr.values[v.id][0] == pytest.approx(-0.25) and tr.adjoints[v.id][0] == pytest.approx(-50.0)
    # the chain rule edge by edge: each input's adjoint is the sum of its users' contributions
    for n in g.nodes:
        if n.active and n.id != g.output:
            parts = [c for (u, k), (_, c) in tr.edges.items() if g.nodes[u].inputs[k] == n.id]
            np.testing.assert_allclose(sum(parts), tr.adjoints[n.id], rtol=1e-15)
    # the edge from x² into y − x²: local derivative −1, contribution −1 × (−50) = 50
    (sq,) = [n for n in g.nodes if n.text == "x^2"]
    local, contribution = tr.edges[(v.id, v.inputs.index(sq.id))]
    assert local[0] == -1.0 and contribution[0] == pytest.approx(50.0)
    const = [n for n in g.nodes if n.op == "num"]
    assert const and all(tr.adjoints[n.id] is None and not n.active for n in const)


_FUNCS = ["sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "sinh", "cosh", "arctan", "atan"]


def _expr():
    leaf = st.sampled_from(["x", "y", "2", "0.5", "pi", "e", "3"])
    return st.recursive(leaf, lambda c: st.one_of(
        st.builds(lambda o, a, b: f"({a}){o}({b})", st.sampled_from(["+", "-", "*", "/", "^"]), c, c),
        st.builds(lambda f, a: f"{f}({a})", st.sampled_from(_FUNCS), c),
        st.builds(lambda a: f"-({a})", c)), max_leaves=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_expr(), st.integers(0, 2**32 - 1))
def test_autodiff_equals_symbolic_derivatives_of_formulas(text, seed):
    try:
        f = get_objective("expr:" + text)
    except ValueError:
        return  # refused as a formula (e.g. a constant part that is undefined): nothing to compare
    p = np.random.default_rng(seed).uniform(0.2, 2.0, size=(50, 2))
    with np.errstate(all="ignore"):
        g, ga = f.gradient(p), autodiff_gradient(f, p)
        v, va = f.value(p), objective_graph(f).run(p).value
    ok = np.isfinite(g) & np.isfinite(ga) & (np.abs(g) < 1e8)
    np.testing.assert_allclose(ga[ok], g[ok], rtol=1e-7, atol=1e-9)
    okv = np.isfinite(v) & np.isfinite(va)
    np.testing.assert_allclose(va[okv], v[okv], rtol=1e-9, atol=1e-12)
