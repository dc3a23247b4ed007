"""Update rules typed by the user: the momentum and Adam rules retrace the built-ins, rules run wherever a
built-in does (runs, CLI, sessions, CSV), and hostile text is refused before anything runs."""

import ast
import builtins
import contextlib
import io
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gdstudio.cli import main
from gdstudio.core import session
from gdstudio.core.export import read_csv
from gdstudio.core.optimizers import get_optimizer, optimizer_class
from gdstudio.core.rules import (
    EXAMPLES,
    MAX_LINES,
    MAX_STATEMENTS,
    RuleError,
    RuleOptimizer,
    compile_rule,
    rule_optimizer_class,
)
from gdstudio.core.runs import RunConfig, Status, run

MOMENTUM = "rule:v = mu*v + g; x = x - lr*v"
STARTS = ((-1.5, 2.0), (0.5, -0.5), (1.2, 1.2), (-0.3, 0.8))


def both(builtin, rule, hp, epochs):
    a = run(RunConfig.create(objective="rosenbrock", optimizer=builtin, starts=STARTS, epochs=epochs, hyperparams=hp))
    b = run(RunConfig.create(objective="rosenbrock", optimizer=rule, starts=STARTS, epochs=epochs, hyperparams=hp))
    return a, b


# --- the built-ins written as rules ----------------------------------------------------------------

def test_momentum_rule_equals_builtin_momentum_on_rosenbrock():
    rule = "rule:param lr = 0.01\nparam mu = 0.9\n" + MOMENTUM[len("rule:"):]
    for lr, mu in ((5e-4, 0.9), (1e-4, 0.5)):
        cfg = dict(objective="rosenbrock", starts=STARTS, epochs=400)
        a = run(RunConfig.create(optimizer="momentum", hyperparams={"lr": lr, "momentum": mu, "dampening": 0.0},
                                 **cfg))
        b = run(RunConfig.create(optimizer=rule, hyperparams={"lr": lr, "mu": mu}, **cfg))
        for ta, tb in zip(a, b):
            assert ta.steps == tb.steps == 400 and ta.status == tb.status == Status.COMPLETED
            np.testing.assert_allclose(tb.x, ta.x, rtol=0, atol=1e-12)
            np.testing.assert_allclose(tb.loss, ta.loss, rtol=1e-12, atol=1e-12)
        assert np.ptp(a[0].x[:, 0]) > 0.1  # the runs did move


def test_adam_rule_equals_builtin_adam_on_rosenbrock():
    a, b = both("adam", "rule:" + EXAMPLES["adam"][1], {"lr": 0.01}, 500)
    for ta, tb in zip(a, b):
        assert ta.steps == tb.steps == 500
        np.testing.assert_allclose(tb.x, ta.x, rtol=0, atol=1e-12)
    assert np.linalg.norm(a[0].x[-1] - a[0].x[0]) > 0.5


@pytest.mark.parametrize("name", ["gd", "sign-gd"])
def test_other_examples_equal_their_builtins(name):
    a, b = both(name, "rule:" + EXAMPLES[name][1], {"lr": 1e-3}, 100)
    for ta, tb in zip(a, b):
        np.testing.assert_allclose(tb.x, ta.x, rtol=0, atol=1e-12)


def test_params_are_hyperparam_specs_like_a_builtins():
    cls = optimizer_class("rule:" + EXAMPLES["adam"][1])
    assert issubclass(cls, RuleOptimizer)
    assert [h.name for h in cls.hyperparams] == ["lr", "beta1", "beta2", "eps"]
    assert cls.spec("beta2").default == 0.999 and cls.spec("lr").log
    assert get_optimizer("rule:" + EXAMPLES["adam"][1], beta1="0.5").hp["beta1"] == 0.5
    with pytest.raises(ValueError, match="no hyperparameter 'momentum'"):
        get_optimizer(MOMENTUM, momentum=0.9)
    # the usual names need no declaration: lr and mu get torch-like defaults
    assert [(h.name, h.default) for h in optimizer_class(MOMENTUM).hyperparams] == [("mu", 0.9), ("lr", 0.01)]
    assert optimizer_class(MOMENTUM) is optimizer_class(MOMENTUM)  # cached by text
    assert cls.rule.startswith("m = beta1*m + (1 - beta1)*g;")


def test_state_init_t_f_and_local_g():
    # init, t from 1, f the loss, g reassigned for the step only (weight decay), min/max/clip/abs/sign/exp/log
    rule = ("param lr = 0.1\ninit s = 2*x  # a start from x\ns = s + 1; n = t\n"
            "g = g + 0*x\nx = x - lr*clip(g, -1, 1)*min(1, max(0, abs(sign(f)))) + 0*exp(log(1))")
    opt = rule_optimizer_class(rule)()
    x, g = np.array([[1.0, 2.0], [3.0, -4.0]]), np.array([[5.0, 0.5], [-0.2, 0.0]])

    class P:
        def value(self, x):
            return np.array([1.0, 0.0])

    st0 = opt.init(x, g, P(), None)
    np.testing.assert_array_equal(st0["s"], 2 * x)
    up = opt.update(x, g, st0, P(), None)
    np.testing.assert_array_equal(up.state["s"], 2 * x + 1)
    np.testing.assert_array_equal(up.state["n"], np.ones_like(x))
    np.testing.assert_allclose(up.x, [[0.9, 1.95], [3.0, -4.0]])  # f = 0 on the second row: no step
    assert set(up.state) == {"t", "s", "n"}  # g is not state
    up2 = opt.update(up.x, g, up.state, P(), None)
    np.testing.assert_array_equal(up2.state["n"], np.full_like(x, 2.0))


def test_a_rule_that_blows_up_is_a_diverged_run_not_a_crash():
    for rule in ("rule:x = x - 1e6*g*exp(t)", "rule:x = x/0", "rule:x = sqrt(-1 - x*x)", "rule:x = log(x - x)"):
        r = run(RunConfig.create(objective="rosenbrock", optimizer=rule, starts=STARTS, epochs=20))
        assert all(t.status == Status.DIVERGED for t in r), rule
        assert all(np.all(np.isfinite(t.x)) for t in r)


# --- everywhere a built-in runs ----------------------------------------------------------------------

def test_cli_runs_a_rule_inline_and_from_a_file(tmp_path, capsys):
    # the example as it stands: lr and mu are implicit params
    assert main(["run", "--objective", "rosenbrock", "--optimizer", MOMENTUM, "--set", "mu=0.9", "--lr", "1e-3",
                 "--epochs", "5", "--start", "-1.5", "2"]) == 0
    inline = read_csv(io.StringIO(capsys.readouterr().out))
    assert main(["run", "--objective", "rosenbrock", "--optimizer", MOMENTUM, "--set", "beta=0.9", "--start",
                 "-1.5", "2"]) == 2
    assert "has no hyperparameter 'beta' (valid: mu, lr)" in capsys.readouterr().err
    path = tmp_path / "momentum.gdrule"
    path.write_text(EXAMPLES["momentum"][1], encoding="utf-8")
    out = tmp_path / "m.csv"
    assert main(["run", "--objective", "rosenbrock", "--optimizer", f"rule:{path}", "--set", "mu=0.9",
                 "--lr", "1e-3", "--epochs", "5", "--start", "-1.5", "2", "--out", str(out)]) == 0
    csv = read_csv(out)
    ref = run(RunConfig.create(objective="rosenbrock", optimizer="momentum", epochs=5,
                               hyperparams={"lr": 1e-3, "momentum": 0.9}))
    np.testing.assert_allclose(np.c_[csv["x"], csv["y"]], ref[0].x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.c_[inline["x"], inline["y"]], ref[0].x, rtol=0, atol=1e-12)
    assert csv["optimizer"][0] == "rule:" + EXAMPLES["momentum"][1]  # the CSV keeps the rule itself
    assert csv["lr"][0] == 1e-3
    assert main(["run", "--objective", "booth", "--optimizer", "rule:v = 0.9*v + g; x = x - lr*q", "--start",
                 "0", "0"]) == 2
    assert "line 1, column 27: unknown name 'q'" in capsys.readouterr().err
    assert main(["run", "--objective", "booth", "--optimizer", f"rule:{tmp_path / 'missing.gdrule'}",
                 "--start", "0", "0"]) == 2
    assert "cannot read the rule file" in capsys.readouterr().err


def test_sessions_keep_the_rule_text(tmp_path):
    cfg = RunConfig.create(objective="rosenbrock", optimizer="rule:" + EXAMPLES["momentum"][1], epochs=3,
                           hyperparams={"lr": 2e-3}, name="mine")
    d = json.loads(json.dumps(cfg.to_dict()))
    assert d["optimizer"] == "rule:" + EXAMPLES["momentum"][1]
    again = RunConfig.from_dict(d)
    assert again == cfg
    np.testing.assert_array_equal(run(again)[0].x, run(cfg)[0].x)
    path = session.save(tmp_path / "s.gdsession", session.Session("rosenbrock", runs=[session.SessionRun(cfg)]))
    assert "v = mu*v + g" in path.read_text(encoding="utf-8")
    assert session.load(path).runs[0].config == cfg
    # a session whose rule is hostile is refused with the rule's message, like an unknown optimizer
    bad = path.read_text(encoding="utf-8").replace("v = mu*v + g", "v = v.__class__")
    with pytest.raises(session.SessionError, match="line 3, column 6"):
        session.loads(bad)


def test_vectorised_over_many_starts_and_dimensions():
    opt = get_optimizer("rule:" + EXAMPLES["adam"][1])
    x = np.random.default_rng(0).normal(size=(1000, 7))
    st = opt.init(x, x, None, None)
    up = opt.update(x, 2 * x, st, None, None)
    assert up.x.shape == (1000, 7) and all(v.shape[0] == 1000 for v in up.state.values())


# --- refusals -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, line, column, words", [
    ("x = x.__class__", 1, 6, "unexpected character '.'"),
    ("__class__ = 1\nx = x", 1, 1, "may not start with '_'"),
    ("x = __import__('os')", 1, 5, "unknown name '__import__'"),
    ("x = open(g)", 1, 5, "unknown name 'open'"),
    ("x = x^100000", 1, 7, "exponent '100000' is too large"),
    ("x = x - 10^1000*g", 1, 9, "'10^1000' is too large"),
    ("v = nu*v + g\nx = x - lr*v", 1, 5, "unknown name 'nu': declare it (param nu = 0.1) or assign it"),
    ("param lr = 0.1\nv = g\n  x = x - lr*q", 3, 14, "unknown name 'q'"),
    ("x = min(x)", 1, 5, "min takes exactly two arguments, got 1"),
    ("x = clip(x, 0)", 1, 5, "clip takes exactly three arguments"),
    ("x = sin(x)", 1, 5, "unknown name 'sin'"),
    ("t = 1; x = x", 1, 1, "'t' is given to the rule"),
    ("param lr = 1; lr = 2; x = x", 1, 15, "'lr' is a param"),
    ("param lr = 1; param lr = 2; x = x", 1, 21, "declared twice"),
    ("param lr = x; x = x", 1, 12, "unknown name 'x'"),
    ("lambda = 1; x = x", 1, 1, "reserved word"),
    ("sqrt = 1; x = x", 1, 1, "is a function"),
    ("x == 1", 1, 1, "expected an assignment"),
    ("v = g", 1, 6, "never moves the point"),
    ("", 1, 1, "empty"),
    ("# only a comment", 1, 1, "empty"),
    ("x = (x", 1, 5, "'(' is never closed"),
    ("x = [x]", 1, 5, "unexpected character '['"),
    ("x = x if g else g", 1, 7, "unknown name 'if'"),
    ("init v = t; x = x - v", 1, 10, "init cannot use t"),
])
def test_refused_with_line_and_column(text, line, column, words):
    with pytest.raises(RuleError) as info:
        compile_rule(text)
    e = info.value
    assert words in e.message and (e.line, e.column) == (line, column), str(e)
    assert str(e).startswith(f"line {line}, column {column}: ")
    with pytest.raises(ValueError, match="line"):
        optimizer_class("rule:" + text)


def test_thousands_of_lines_and_huge_rules_are_refused():
    with pytest.raises(RuleError, match=f"too many lines .3000, at most {MAX_LINES}"):
        compile_rule("\n".join(["v = 1"] * 2999 + ["x = x"]))
    with pytest.raises(RuleError, match=f"too many statements .*at most {MAX_STATEMENTS}"):
        compile_rule("; ".join(["v = 1"] * 100 + ["x = x"]))
    with pytest.raises(RuleError, match="too long"):
        compile_rule("x = x" + " + 1" * 2000)
    with pytest.raises(RuleError, match="nested too deeply"):
        compile_rule("x = " + "(" * 60 + "x" + ")" * 60)


# --- hypothesis ---------------------------------------------------------------------------------------

@contextlib.contextmanager
def no_python_running():
    """Records calls of builtins that would run typed text: eval, exec, open, imports (other than numpy's own
    lazy ones) and compile to code (ast.parse's compile to a tree, the parser, is allowed)."""
    calls = []
    saved = {n: getattr(builtins, n) for n in ("eval", "exec", "open", "__import__", "compile")}

    def spy(name):
        def wrapper(*a, **k):
            flags = k.get("flags", a[3] if len(a) > 3 else 0)
            if name == "compile" and flags & ast.PyCF_ONLY_AST:
                pass
            elif name == "__import__" and str(a[0]).split(".")[0] in ("numpy", "hypothesis"):
                pass
            else:
                calls.append((name, str(a[0])[:40] if a else ""))
            return saved[name](*a, **k)
        return wrapper

    for n in saved:
        setattr(builtins, n, spy(n))
    try:
        yield calls
    finally:
        for n, f in saved.items():
            setattr(builtins, n, f)


def check_rule(text):
    compile_rule.cache_clear()
    with no_python_running() as calls:
        try:
            prog = compile_rule(text)
        except RuleError as e:
            assert 0 <= e.position <= len(text) and e.position + e.length <= len(text) + 1, (text, e.position)
            assert e.line >= 1 and e.column >= 1 and e.message
            assert calls == [], (text, calls)
            return None
    assert calls == []
    opt = rule_optimizer_class(text)()
    x = np.array([[1.0, -2.0], [0.0, 3.0]])
    up = opt.update(x, x, opt.init(x, x, _P(), None), _P(), None)  # never raises, whatever it computes
    assert up.x.shape == x.shape
    return prog


class _P:
    def value(self, x):
        return np.sum(x * x, axis=-1)


_CHARS = "xgtfvmlr0123456789.eE+-*/^()  ,=;\n#_[]'\"@:{}!\\sqrtabsignexplogminmaxclippiparaminit"
HOSTILE = [
    "__class__", "x.__class__", "().__class__.__bases__", "__import__('os')", "open('f')", "eval('1')",
    "exec('1')", "lambda: 1", "[i for i in x]", "x[0]", "x if g else t", "x and g", "not x", "x == g",
    "'s'", "f'{x}'", "x @ g", "x % g", "x // g", "~x", "import os", "del x", "x := 1", "globals()",
    "9^9^9^9", "10^1000000", "x^1e9", "1e999", "(" * 80, "min(x, g, t)", "sqrt(x, g)", "param", "init",
]
SAFE = ["x", "g", "t", "f", "v", "lr", "=", " = ", "+", "-", "*", "/", "^", "(", ")", "sqrt(", "max(", ",",
        "; ", "\n", "param lr = 0.1\n", "init v = 1\n", "2", ".5", "1e-3", "x = x - ", "v = v + "]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=80), st.text(alphabet=_CHARS, max_size=60)))
def test_random_text_gives_a_rule_or_a_rule_error(text):
    check_rule(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(HOSTILE + SAFE), min_size=1, max_size=10).map("".join))
@example("x = x - 9^9^9^9")
@example("x = x - x^1e9")
@example("param lr = 0.1\nx = x - lr*g")
@example("init v = 1\nv = v + g; x = x - sqrt(v)")
def test_adversarial_rules_are_refused_without_running_anything(text):
    prog = check_rule(text)
    if prog is not None:
        assert not any(h in text for h in ("__", ".__", "import", "eval", "exec", "open", "lambda", "'", '"'))
