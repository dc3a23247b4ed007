"""Custom formula objectives: the parser refuses everything outside the grammar (before evaluating
anything), errors point at the offending text, and the symbolic derivatives match finite differences."""

import builtins
import contextlib
import math
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gdstudio.core.formula import (
    ALIASES,
    CONSTANTS,
    FUNCTIONS,
    HELP,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_NONLINEAR_NESTING,
    MAX_POWER_NESTING,
    FormulaError,
    FormulaObjective,
    compile_formula,
    formula_objective,
    parse,
    unparse,
)
from gdstudio.core.objectives import get_objective
from gdstudio.core.runs import RunConfig, Status, run

EXAMPLE = "sin(x)*cos(y) + 0.1*(x^2 + y^2)"
compile_formula("x")  # import SymPy now, not while a test watches the builtins


def points(seed, shape=(16,), lo=-3.0, hi=3.0):
    return np.random.default_rng(seed).uniform(lo, hi, size=shape + (2,))


# --- watching for evaluation ---------------------------------------------------------------------

class Watch:
    """Counts calls of builtins that would mean typed text is being run (eval, exec, open, imports)."""

    def __init__(self):
        self.calls = []

    @contextlib.contextmanager
    def active(self):
        saved = {n: getattr(builtins, n) for n in ("eval", "exec", "open", "__import__")}

        def spy(name):
            real = saved[name]

            def wrapper(*a, **k):
                self.calls.append((name, a[0] if a and name == "__import__" else None))
                if name in ("eval", "exec") and len(a) == 1 and not k:  # keep the caller's namespace
                    caller = sys._getframe(1)
                    return real(a[0], caller.f_globals, caller.f_locals)
                return real(*a, **k)

            return wrapper

        for n in saved:
            setattr(builtins, n, spy(n))
        try:
            yield self
        finally:
            for n, f in saved.items():
                setattr(builtins, n, f)

    def running_calls(self):
        """Calls other than SymPy's own lazy imports."""
        return [(n, m) for n, m in self.calls
                if not (n == "__import__" and str(m).split(".")[0] in ("sympy", "mpmath", "numpy"))]


def check_outcome(text):
    """``text`` gives an objective or a FormulaError whose span lies inside the text; a refused
    formula ran nothing (no eval/exec/open/imports)."""
    watch = Watch()
    try:
        with watch.active():
            f = formula_objective(text)
    except FormulaError as e:
        assert isinstance(e.position, int) and isinstance(e.length, int)
        assert 0 <= e.position <= len(text) and e.position <= e.end <= len(text), (text, e.position, e.length)
        assert e.message and str(e).endswith(f"at column {e.position + 1}")
        assert watch.running_calls() == [], (text, watch.calls)
        return None
    assert isinstance(f, FormulaObjective)
    assert not any(n in ("eval", "open") for n, _ in watch.calls)
    return f


# --- concrete cases ------------------------------------------------------------------------------

def test_example_formula_values_and_derivatives():
    f = get_objective("expr:" + EXAMPLE)
    p = points(0, (5, 7))
    x, y = p[..., 0], p[..., 1]
    np.testing.assert_allclose(f.value(p), np.sin(x) * np.cos(y) + 0.1 * (x**2 + y**2), rtol=1e-14)
    g = f.gradient(p)
    np.testing.assert_allclose(g[..., 0], np.cos(x) * np.cos(y) + 0.2 * x, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(g[..., 1], -np.sin(x) * np.sin(y) + 0.2 * y, rtol=1e-13, atol=1e-15)
    h = f.hessian(p)
    np.testing.assert_allclose(h[..., 0, 0], -np.sin(x) * np.cos(y) + 0.2, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(h[..., 0, 1], -np.cos(x) * np.sin(y), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(h[..., 1, 0], h[..., 0, 1])
    np.testing.assert_allclose(h[..., 1, 1], -np.sin(x) * np.cos(y) + 0.2, rtol=1e-13, atol=1e-15)
    assert f.name == "expr:" + EXAMPLE and f.title == EXAMPLE and f.formula == EXAMPLE
    assert f.critical_points() == () and f.domain == ((-5.0, 5.0), (-5.0, 5.0))


def test_sphere_formula_equals_builtin_sphere():
    f, s = formula_objective("x^2 + y^2"), get_objective("sphere")
    for shape in [(), (10,), (4, 6)]:
        p = points(1, shape)
        np.testing.assert_array_equal(f.value(p), s.value(p))
        np.testing.assert_array_equal(f.gradient(p), s.gradient(p))
        np.testing.assert_array_equal(f.hessian(p), s.hessian(p))
        assert f.value(p).shape == shape and f.hessian(p).shape == shape + (2, 2)


@pytest.mark.parametrize("text", ["3", "x", "pi*y - e", "2*x + 3*y"])
def test_constant_parts_broadcast_to_the_input_shape(text):
    f = formula_objective(text)
    p = points(2, (3, 4))
    assert f.value(p).shape == (3, 4)
    assert f.gradient(p).shape == (3, 4, 2) and f.hessian(p).shape == (3, 4, 2, 2)
    np.testing.assert_array_equal(f.hessian(p), 0.0)


def test_results_do_not_share_memory_with_the_input():
    f = formula_objective("x")
    p = points(5)
    v, g = f.value(p), f.gradient(p)
    expected = p[:, 0].copy()
    p[:] = 7.0
    np.testing.assert_array_equal(v, expected)
    np.testing.assert_array_equal(g, np.tile([1.0, 0.0], (16, 1)))


@pytest.mark.parametrize("text, value", [
    ("-x^2", -4.0), ("2^3^2", 512.0), ("x - y - 3", -2.0), ("x/y/8", 0.25), ("2*-x", -4.0), ("x**-1", 0.5),
    ("+x", 2.0), ("-(-x)", 2.0), (".5*x", 1.0), ("2.*x", 4.0), ("1e-3*x", 0.002), ("1E3*x", 2000.0),
    ("e^0 + pi - pi", 1.0), ("atan(y - 1)", 0.0), ("arctan(0*x)", 0.0), ("abs(-x)", 2.0), ("sqrt(x^2)", 2.0),
    ("  x   ^ 2  ", 4.0), ("x**2", 4.0), ("log(e*x) - log(x)", 1.0),
])
def test_precedence_numbers_and_functions(text, value):
    assert float(formula_objective(text).value([2.0, 1.0])) == pytest.approx(value, rel=1e-15)


def test_constants_keep_full_double_precision():
    f = formula_objective("0.1*x + y/3")
    assert float(f.value([1.0, 0.0])) == 0.1
    assert float(f.value([0.0, 1.0])) == 1 / 3


@pytest.mark.parametrize("text, pos, length, words", [
    ("x + foo", 4, 3, "unknown name 'foo'"),
    ("2*xy", 2, 2, "unknown name 'xy' (write x*y)"),
    ("sin(x) + cosx(y)", 9, 4, "unknown name 'cosx'"),
    ("open('x')", 0, 4, "unknown name 'open'"),
    ("x + 'a'", 4, 1, "unexpected character"),
    ("x.real", 1, 1, "unexpected character '.'"),
    ("2x", 1, 1, "missing operator"),
    ("x y", 2, 1, "missing operator"),
    ("x(y)", 1, 1, "missing operator"),
    ("sin x", 0, 3, "needs its argument in parentheses"),
    ("x +", 3, 0, "ends too early"),
    ("(x + y", 0, 1, "never closed"),
    ("x + y)", 5, 1, "without a matching"),
    ("x * * y", 4, 1, "unexpected '*'"),
    ("x // y", 3, 1, "unexpected '/'"),
    ("sin()", 3, 2, "empty parentheses"),
    ("sin(x, y)", 0, 9, "exactly one argument"),
    ("x, y", 1, 1, "comma"),
    ("", 0, 0, "empty"),
    ("   ", 0, 3, "empty"),
    ("log(0) + x", 0, 6, "undefined"),
    ("x + 1/0", 4, 3, "undefined"),
    ("y + x/0", 4, 3, "undefined"),
    ("x + log(y - y)", 4, 10, "undefined"),
    ("(x - x)^-1 + y", 0, 10, "undefined"),
    ("x + 10^1000000", 4, 10, "too large"),
    ("x^2000", 2, 4, "exponent"),
    ("x = 1", 2, 1, "unexpected character '='"),
    ("x^" + "y^" * 11 + "x", 22, 3, "nested too deeply"),
])
def test_errors_point_at_the_offending_text(text, pos, length, words):
    with pytest.raises(FormulaError) as info:
        formula_objective(text)
    e = info.value
    assert words in e.message and (e.position, e.length) == (pos, length), (e.message, e.position, e.length)
    assert str(e) == f"{e.message} at column {pos + 1}"
    assert isinstance(e, ValueError)


def test_length_and_depth_are_checked_before_parsing():
    with pytest.raises(FormulaError, match="too long") as info:
        formula_objective("x+" * 300 + "x")
    assert info.value.position == MAX_LENGTH
    for deep in ["(" * 200 + "x" + ")" * 200, "-" * 200 + "x", "sin(" * 60 + "x" + ")" * 60]:
        with pytest.raises(FormulaError, match="nested too deeply"):
            formula_objective(deep)
    ok = "(" * (MAX_DEPTH - 1) + "x" + ")" * (MAX_DEPTH - 1)
    assert float(formula_objective(ok).value([3.0, 0.0])) == 3.0


@pytest.mark.parametrize("text", [
    "9**9**9**9", "10^1000000", "x^9^9^9", "9^9^9*x", "exp(exp(exp(100)))*x", "1" * 400 + "*x", "1e400*x",
    "(2*x)^1000", "(3*x)^1000", "x^1000 + y^-1000", "2^x^x", "exp(1000)*0 + x", "1e308*1e308*x",
    "((2*x)^1000)^1000", "((((3*x*y)^1000)^-1000)^1000)^1000", "((pi*x)^1000)^1000", "(e*y)^1000*x^999",
])
def test_huge_numbers_give_an_error_or_a_finite_object(text):
    try:
        f = formula_objective(text)
    except FormulaError as e:
        assert e.message
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = f.value(points(3))
        f.gradient(points(3))
        f.hessian(points(3))
    assert v.shape == (16,)


def test_undefined_points_are_nan_or_inf_without_warnings():
    f = formula_objective("log(x) + sqrt(y) + 1/(x - 1)")
    p = np.array([[-1.0, 1.0], [1.0, 1.0], [2.0, -1.0], [2.0, 4.0]])
    with np.errstate(all="raise"):  # the objective must silence NumPy itself
        v, g, h = f.value(p), f.gradient(p), f.hessian(p)
    assert np.isnan(v[0]) and np.isinf(v[1]) and np.isnan(v[2]) and np.isfinite(v[3])
    assert not np.all(np.isfinite(g[:3])) and np.all(np.isfinite(g[3])) and np.all(np.isfinite(h[3]))
    _, _, z = f.grid(9, ((-1, 3), (-1, 3)))
    assert np.isnan(z).any() and np.isfinite(z).any()


def test_zero_to_the_power_x_is_defined_and_its_gradient_is_nan():
    f = formula_objective("0^x + y")
    p = np.array([[1.0, 2.0], [0.0, 0.0]])
    np.testing.assert_array_equal(f.value(p), [2.0, 1.0])
    assert np.isnan(f.gradient(p)[:, 0]).all() and np.all(f.gradient(p)[:, 1] == 1.0)


def test_negative_base_to_the_power_x_gives_nan_not_complex():
    f = formula_objective("(-2)^x + y")
    p = np.array([[2.0, 0.0], [0.5, 0.0]])
    np.testing.assert_array_equal(f.value(p)[0], 4.0)
    assert np.isnan(f.value(p)[1])
    g, h = f.gradient(p), f.hessian(p)  # d/dx = (-2)^x log(-2) is not real: NaN, and no ComplexWarning
    assert g.dtype == float and np.isnan(g[:, 0]).all() and np.all(g[:, 1] == 1.0)
    assert np.isnan(h[:, 0, 0]).all()


def test_abs_second_derivative_is_zero_away_from_the_kink():
    assert float(formula_objective("abs(x/y)").hessian([1.0, 2.0])[1, 1]) == 0.25  # d²/dy² x/y = 2x/y³
    f = formula_objective("abs(x*y)")
    np.testing.assert_array_equal(f.gradient([[2.0, 3.0], [-2.0, 3.0]]), [[3.0, 2.0], [-3.0, 2.0]])
    np.testing.assert_array_equal(f.hessian([2.0, 3.0]), [[0.0, 1.0], [1.0, 0.0]])


def test_spec_round_trip_domain_params_and_title():
    f = get_objective("expr:sin(x) *cos( y)", {"xmin": -3, "xmax": 3, "ymin": -1})
    assert f.spec() == "expr:sin(x) *cos( y)" and f.name == "expr:sin(x)*cos(y)"
    assert f.domain == ((-3.0, 3.0), (-1.0, 5.0))
    g = get_objective(f.spec(), dict(f.params))
    assert g.name == f.name and g.domain == f.domain and g.spec() == f.spec()
    p = points(4)
    np.testing.assert_array_equal(g.value(p), f.value(p))
    assert formula_objective("x^2", title=" Bowl ").title == "Bowl"
    assert formula_objective("x^2").title == "x^2"
    with pytest.raises(ValueError, match="xmin < xmax"):
        formula_objective("x", xmin=2, xmax=1)
    with pytest.raises(ValueError, match="no parameter 'zmin'"):
        get_objective("expr:x", {"zmin": 0})
    with pytest.raises(FormulaError):
        get_objective("expr:import os")


def test_compile_is_cached():
    assert compile_formula("x*y + 1") is compile_formula("x*y + 1")
    assert formula_objective("x*y + 1").compiled is formula_objective("x*y + 1", xmin=-1).compiled


def test_help_lists_every_function_and_constant_and_each_parses():
    names = {w.name for w in HELP}
    assert set(FUNCTIONS) | set(ALIASES) | set(CONSTANTS) | {"x", "y"} <= names
    assert all(w.help and w.kind and w.example for w in HELP)
    for w in HELP:
        if w.kind in ("function", "constant", "variable"):
            formula_objective(w.example.replace("(u)", "(x)") + " + x")


def test_refused_input_never_calls_open():
    def trap(*a, **k):
        raise AssertionError("open was called")

    saved = builtins.open
    builtins.open = trap
    try:
        for text in ["open('x')", "__import__('os').system('true')", "().__class__.__bases__", "x.__class__"]:
            with pytest.raises(FormulaError):
                formula_objective(text)
    finally:
        builtins.open = saved


def test_run_into_undefined_region_ends_as_diverged():
    cfg = RunConfig.create(objective="expr:log(x)", optimizer="gd", starts=[(1.0, 0.0)], epochs=50,
                           hyperparams={"lr": 0.3})
    t = run(cfg)[0]
    assert t.status is Status.DIVERGED
    assert "undefined or infinite" in t.message
    assert t.x[-1, 0] > 0 and np.all(np.isfinite(t.loss))  # the step into x < 0 is not kept


# --- hypothesis: anything typed ------------------------------------------------------------------

_FORMULA_CHARS = "xy0123456789.eE+-*/^()  ,pisnqrtlogabcxh_[]'\"=:;.@!{}#\\\n\t"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=60), st.text(alphabet=_FORMULA_CHARS, max_size=40)))
def test_random_text_gives_an_objective_or_a_formula_error(text):
    check_outcome(text)


DANGEROUS = [
    "__import__('os')", "__import__(\"os\").system(\"true\")", "().__class__", "().__class__.__bases__[0]",
    "open('x')", "open", "lambda: 1", "lambda x: x", "[i for i in x]", "{i for i in x}", "(i for i in x)",
    "x.real", "x.__class__", '"s"', "'s'", "b'x'", "f'{x}'", "x if y else 1", "x < y", "x == y", "not x",
    "x and y", "(x := 1)", "x[0]", "x[::-1]", "{}", "{'a': 1}", "*x", "**x", "x @ y", "x % y", "x // y",
    "x << 1", "~x", "await x", "yield x", "exec('1')", "eval('1')", "globals()", "sin.__globals__",
    "sin(x=1)", "sin(*[x])", "sin(x, y)", "1j", "0x10", "1_000", "True", "None", "...", "\\", "#", ";",
    "\n", "\x00", "\u00b2", "x²", "(" * 60, ")" * 60, "-" * 60, "x" * 600, "9**9**9**9", "10^1000000",
    "x^x^x^x^x^x^x^x^x^x^x^x^x", "exp(exp(exp(exp(x))))", "1e999", "1" * 400,
]
SAFE = ["x", "y", "+", "-", "*", "/", "^", "**", "(", ")", "sin(", "2", ".5", "pi", "e", " ", ","]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(DANGEROUS + SAFE), min_size=1, max_size=8).map("".join))
def test_adversarial_text_is_refused_without_running_anything(text):
    f = check_outcome(text)
    if f is not None:  # only harmless formula text survives (e.g. "-"*60 + "x" or "x^x^x")
        assert set(text) <= set("xy0123456789.eE+-*/^() \n\tpisnqrtlogabch,")


# --- hypothesis: formulas from the grammar -------------------------------------------------------

_REF_FUNCS = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "abs": np.abs,
    "tanh": np.tanh, "sinh": np.sinh, "cosh": np.cosh, "arctan": np.arctan, "atan": np.arctan,
}


def _leaf():
    numbers = st.sampled_from(["0", "2", "0.5", ".5", "1e-1", "1E0", "3.", "1.25", "pi", "e"])
    return st.one_of(
        st.sampled_from(["x", "y"]).map(lambda v: (v, (lambda x, y, v=v: x if v == "x" else y))),
        numbers.map(lambda n: (n, (lambda x, y, n=n: np.full(np.shape(x), {"pi": math.pi, "e": math.e}.get(n)
                                                             or float(n))))),
    )


def _extend(children):
    def binary(op, a, b):
        (ta, fa), (tb, fb) = a, b
        fn = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "^": np.power,
              "**": np.power}[op]
        return f"({ta}){op}({tb})", (lambda x, y: fn(fa(x, y), fb(x, y)))

    def call(name, a):
        ta, fa = a
        return f"{name}({ta})", (lambda x, y: _REF_FUNCS[name](fa(x, y)))

    def neg(a):
        ta, fa = a
        return f"-({ta})", (lambda x, y: -fa(x, y))

    return st.one_of(
        st.builds(binary, st.sampled_from(["+", "-", "*", "/", "^", "**"]), children, children),
        st.builds(call, st.sampled_from(sorted(_REF_FUNCS)), children),
        st.builds(neg, children),
    )


grammar_formulas = st.recursive(_leaf(), _extend, max_leaves=6)


def _smooth_rows(*arrays, limit=1e6):
    ok = np.ones(len(arrays[0]), dtype=bool)
    for a in arrays:
        a = a.reshape(len(a), -1)
        ok &= np.all(np.isfinite(a), axis=1) & np.all(np.abs(a) < limit, axis=1)
    return ok


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grammar_formulas, st.integers(0, 2**32 - 1))
def test_grammar_formulas_parse_and_derivatives_match_finite_differences(formula, seed):
    text, ref = formula
    try:
        f = formula_objective(text)
    except FormulaError as e:  # only a constant part that is undefined or too large may be refused
        assert ("undefined" in e.message or "too large" in e.message), (text, e)
        return
    # normalisation is stable and means the same formula
    norm = unparse(parse(text))
    assert unparse(parse(norm)) == norm and formula_objective(norm).name == f.name

    p = points(seed, (24,), -2.5, 2.5)
    with np.errstate(all="ignore"):
        expected = ref(p[:, 0], p[:, 1])
    v = f.value(p)
    with np.errstate(all="ignore"):  # condition number |∇f|·|p| / max(|f|, 1): SymPy may regroup a power
        # ((x+x)^e³ as 2^e³·x^e³), and an ill-conditioned f (tan of a huge argument) magnifies that rounding
        # beyond any tolerance, so such points say nothing about the parse
        cond = np.linalg.norm(f.gradient(p), axis=-1) * np.linalg.norm(p, axis=-1) / np.maximum(np.abs(v), 1)
    both = np.isfinite(v) & np.isfinite(expected) & (np.abs(expected) < 1e6) & (cond < 1e8)
    np.testing.assert_allclose(v[both], expected[both], rtol=1e-6, atol=1e-6)

    with np.errstate(all="ignore"):  # finite differences of inf or nan values are dropped below
        check_derivatives(f, p, v, text)


def check_derivatives(f, p, v, text):
    g, hess = f.gradient(p), f.hessian(p)
    h = 1e-5
    fd_g, fd_g2 = np.empty_like(p), np.empty_like(p)
    fd_h, fd_h2 = np.empty_like(hess), np.empty_like(hess)
    stencil = [v]
    for i in range(2):
        e = np.zeros(2)
        e[i] = h
        fp, fm, fp2, fm2 = (f.value(p + s * e) for s in (1, -1, 2, -2))
        stencil += [fp, fm, fp2, fm2]
        fd_g[:, i] = (fp - fm) / (2 * h)
        fd_g2[:, i] = (fp2 - fm2) / (4 * h)
        gp, gm, gp2, gm2 = (f.gradient(p + s * e) for s in (1, -1, 2, -2))
        stencil += [gp, gm, gp2, gm2]
        fd_h[:, i, :] = (gp - gm) / (2 * h)
        fd_h2[:, i, :] = (gp2 - gm2) / (4 * h)
    ok = _smooth_rows(g, hess, fd_g, fd_g2, fd_h, fd_h2, *stencil)
    # smooth near p: the two step sizes agree (a kink, pole or branch cut nearby makes them differ)
    scale_g = 1 + np.abs(g).max(axis=1) + np.abs(v)
    scale_h = 1 + np.abs(hess).reshape(len(p), -1).max(axis=1) + np.abs(g).max(axis=1)
    ok &= np.abs(fd_g - fd_g2).max(axis=1) <= 1e-6 * scale_g
    ok &= np.abs(fd_h - fd_h2).reshape(len(p), -1).max(axis=1) <= 1e-6 * scale_h
    err_g = np.abs(g - fd_g).max(axis=1) / scale_g
    err_h = np.abs(hess - fd_h).reshape(len(p), -1).max(axis=1) / scale_h
    assert np.all(err_g[ok] <= 1e-5), (text, p[ok][np.argmax(err_g[ok])], err_g[ok].max())
    assert np.all(err_h[ok] <= 1e-5), (text, p[ok][np.argmax(err_h[ok])], err_h[ok].max())


def test_power_nesting_limit_is_the_documented_one():
    ok = "^".join(["x"] * (MAX_POWER_NESTING + 1))
    formula_objective(ok)
    with pytest.raises(FormulaError, match="nested too deeply"):
        formula_objective("^".join(["x"] * (MAX_POWER_NESTING + 2)))


def test_nonlinear_nesting_limit_bounds_the_symbolic_work():
    n = MAX_NONLINEAR_NESTING
    formula_objective("sin(" * n + "x" + ")" * n)
    text = "sin(" * (n + 1) + "x" + ")" * (n + 1)
    with pytest.raises(FormulaError, match="nested too deeply for symbolic derivatives") as info:
        formula_objective(text)
    assert (info.value.position, info.value.length) == (4 * n, 6)  # the innermost sin(x), one level too deep
    # chains of products and sums count once: long flat formulas are fine
    formula_objective("*".join(["x", "y", "sin(x)", "cos(y)"] * 20))
    formula_objective(" + ".join(["x*y", "sin(x)*y"] * 25))
