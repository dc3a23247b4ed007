"""Custom objectives typed by the user: ``f(x, y) = sin(x)*cos(y) + 0.1*(x^2 + y^2)``.

The grammar
-----------
A formula is an expression in ``x`` and ``y`` built from

* numbers in any usual notation: ``1``, ``1.5``, ``.5``, ``2.``, ``1e-3``, ``1E3``;
* the constants ``pi`` and ``e``;
* the operators ``+ - * /``, ``^`` and ``**`` (both mean power, right-associative, binding tighter than a
  leading minus: ``-x^2 = -(x^2)``, ``2^3^2 = 2^9``), unary ``-`` and ``+``, and parentheses;
* the functions of :data:`FUNCTIONS`, each applied to exactly one argument in parentheses
  (``atan`` is accepted as another name for ``arctan``).

:data:`HELP` lists every allowed word and operator with a one-line explanation (the window's help popup
shows it). Anything else is refused with a :class:`FormulaError` that says what is wrong and where.

Safety
------
Nothing typed is ever evaluated as Python. The text is first split into tokens (by the parser shared
with typed update rules, :mod:`gdstudio.core.expr_syntax`: numbers,
the allowed names, the operators above, parentheses and commas; any other character or word is refused
there, so quotes, dots outside numbers, brackets, keywords and unknown names never get further). Length
(:data:`MAX_LENGTH`) and nesting (:data:`MAX_DEPTH`) are checked on the tokens *before* ``ast.parse``
sees anything, because the parser itself can exhaust the stack on deep nesting. The tokens, with ``^``
written as ``**``, are parsed with :func:`ast.parse` and the tree is walked against a whitelist
(``BinOp`` with ``Add Sub Mult Div Pow``, ``UnaryOp`` with ``USub UAdd``, numeric ``Constant``, ``Name``
in ``x y pi e``, ``Call`` of an allowed function with one positional argument). The SymPy expression is
built node by node from that tree (never ``sympify`` of the text). Sub-expressions without ``x`` and ``y``
are folded to one float with :mod:`math` (so ``9^9^9^9`` or ``10^1000000`` is refused at once as "too
large" instead of SymPy computing a huge integer), numbers enter SymPy as fixed-precision Floats, and a
constant exponent may not exceed :data:`MAX_EXPONENT` in size. Symbolic derivatives grow steeply with
nesting, so nested non-linear steps (:data:`MAX_NONLINEAR_NESTING`) and powers with x or y in the
exponent (:data:`MAX_POWER_NESTING`) are bounded too: the slowest formulas found within these limits
compile in about a second. Only the code SymPy's printer generates for the value, gradient and Hessian
is compiled (:func:`sympy.lambdify` with ``modules="numpy"``); :func:`compile_formula` caches it by the
normalised formula. The size of the gradient is bounded too (:data:`MAX_DERIVATIVE_OPS`, the Hessian grows
with it), and a time budget (:data:`COMPILE_BUDGET_S`) is a last guard.

Derivatives
-----------
With :math:`f` the built SymPy expression, the gradient and Hessian are derived symbolically,

.. math::

    \\nabla f = \\left(\\frac{\\partial f}{\\partial x}, \\frac{\\partial f}{\\partial y}\\right), \\qquad
    H = \\begin{pmatrix} f_{xx} & f_{xy} \\\\ f_{xy} & f_{yy} \\end{pmatrix},

with ``x`` and ``y`` real. ``abs`` differentiates to ``sign`` and its second derivative (a Dirac delta at
the kink) is taken as 0, its value almost everywhere.

Where the function is undefined or infinite (``log(x)`` for x ≤ 0, ``1/x`` at 0, ``sqrt`` of a negative)
the value, gradient and Hessian are NaN or ±inf, with no warning: views show a gap and a run stepping
there ends as diverged.

Domain and the command line
---------------------------
The view domain defaults to [−5, 5]². It is set by the objective parameters ``xmin``, ``xmax``, ``ymin``
and ``ymax`` (any subset), which travel like every objective's parameters::

    get_objective("expr:sin(x)*cos(y)", {"xmin": -3, "xmax": 3})
    RunConfig.create(objective="expr:x^2 + y^2", objective_params={"ymin": -2, "ymax": 2})
    gdstudio run --objective "expr:sin(x)*cos(y)" --param xmin=-3 --param xmax=3   # CLI parameters

A display name can be given with the keyword ``title="..."`` (not a number, so not a parameter).

>>> f = formula_objective("sin(x)*cos(y) + 0.1*(x^2 + y^2)")
>>> f.name
'expr:sin(x)*cos(y) + 0.1*(x^2 + y^2)'
>>> float(f.value([0.0, 0.0]))
0.0
>>> f.gradient([0.0, 0.0]).tolist()
[1.0, 0.0]
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from gdstudio.core import expr_syntax as _syntax
from gdstudio.core.expr_syntax import FormulaError, Grammar, Node, Token
from gdstudio.core.objectives.base import EXPR_PREFIX, Objective2D
from gdstudio.core.specs import HyperParam

#: Longest formula accepted, in characters.
MAX_LENGTH = _syntax.MAX_LENGTH
#: Deepest nesting accepted: open parentheses plus consecutive signs at any point of the formula.
MAX_DEPTH = _syntax.MAX_DEPTH
#: Largest size of a constant exponent (``x^1000`` is accepted, ``x^1001`` is not).
MAX_EXPONENT = 1000
#: Deepest nesting of powers whose exponent contains x or y (``x^x^x`` has 2): the size of the symbolic
#: derivatives grows steeply with it (a tower of 40 x's takes seconds to differentiate).
MAX_POWER_NESTING = 10
#: Deepest nesting of non-linear steps (a function call, a power of x or y, a product of two parts with
#: x or y, a division by a part with x or y; a chain like ``x*y/sin(x)`` counts once): symbolic
#: derivatives grow steeply with it. At 20, the worst formulas measured take about a second.
MAX_NONLINEAR_NESTING = 20
#: Largest size of the gradient, in SymPy operations (``count_ops`` of both partial derivatives): the
#: Hessian and its code grow with it. Three chains ``x*y/(x*y/(…+1)+1)`` nested 20 deep took 17–20 s to
#: compile before this bound; at 1,500 the slowest formulas measured take about 1.5 s.
MAX_DERIVATIVE_OPS = 1500
#: A last guard on compile time, in seconds, checked between the steps of a compile (parse, build,
#: gradient, Hessian, code): a compile that runs past it is refused. The size bounds above keep every
#: formula measured far below it, so acceptance does not depend on the machine in practice.
COMPILE_BUDGET_S = 10.0
#: The default view domain of a formula objective, per axis.
DEFAULT_DOMAIN = (-5.0, 5.0)

#: The variables of a formula.
VARIABLES = ("x", "y")


@dataclass(frozen=True)
class FormulaWord:
    """One entry of the formula help: ``name`` as typed, ``kind`` (variable, constant, function,
    operator), a usage ``example`` and one line of ``help``."""

    name: str
    kind: str
    example: str
    help: str


#: Allowed functions: name -> one-line help. Each takes exactly one argument.
FUNCTIONS: dict[str, str] = {
    "sin": "sine (radians)",
    "cos": "cosine (radians)",
    "tan": "tangent (radians); infinite at odd multiples of pi/2",
    "exp": "exponential e^u",
    "log": "natural logarithm; undefined for u ≤ 0",
    "sqrt": "square root; undefined for u < 0",
    "abs": "absolute value |u|; not differentiable at 0",
    "tanh": "hyperbolic tangent",
    "sinh": "hyperbolic sine",
    "cosh": "hyperbolic cosine",
    "arctan": "inverse tangent, in (−pi/2, pi/2)",
}
#: Other accepted spellings of functions.
ALIASES: dict[str, str] = {"atan": "arctan"}
#: Allowed constants: name -> (value, one-line help).
CONSTANTS: dict[str, tuple[float, str]] = {
    "pi": (math.pi, "π = 3.14159…"),
    "e": (math.e, "Euler's number e = 2.71828…"),
}

#: Everything a formula may contain, with one line of help each (for the GUI's help popup).
HELP: tuple[FormulaWord, ...] = (
    FormulaWord("x", "variable", "x", "the first coordinate"),
    FormulaWord("y", "variable", "y", "the second coordinate"),
    *(FormulaWord(n, "constant", n, h) for n, (_, h) in CONSTANTS.items()),
    *(FormulaWord(n, "function", f"{n}(u)", h) for n, h in FUNCTIONS.items()),
    *(FormulaWord(a, "function", f"{a}(u)", f"same as {n}") for a, n in ALIASES.items()),
    FormulaWord("+ -", "operator", "x + y, x - y, -x", "addition, subtraction, sign"),
    FormulaWord("* /", "operator", "2*x, x/y", "multiplication, division (write 2*x, not 2x)"),
    FormulaWord("^ **", "operator", "x^2, x**2",
                "power; right to left (2^3^2 = 2^9); -x^2 means -(x^2)"),
    FormulaWord("( )", "operator", "(x + 1)*y", "grouping"),
    FormulaWord("1.5e-3", "number", "1, 1.5, .5, 2., 1e-3, 1E3", "numbers, optionally with an exponent"),
)


# The tokenizer, the token checks and the whitelist walk are shared with typed update rules
# (gdstudio.core.rules) in gdstudio.core.expr_syntax; this grammar is the formula's.
GRAMMAR = Grammar(variables=VARIABLES, constants={n: v for n, (v, _) in CONSTANTS.items()},
                  functions={n: 1 for n in FUNCTIONS}, aliases=ALIASES, what="formula", example="x^2 + y^2",
                  max_length=MAX_LENGTH)

_SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "^"}


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, refusing any character or name outside the grammar."""
    return _syntax.tokenize(text, GRAMMAR)


def _check_tokens(text: str, toks: list[Token]) -> None:
    _syntax.check_tokens(text, toks, GRAMMAR)


_Source = _syntax.Source


def _syntax_error(src: _Source, exc: SyntaxError) -> FormulaError:
    return _syntax.syntax_error(src, exc, GRAMMAR.what)


def _walk(node: ast.AST, src: _Source) -> Node:
    """Turn a Python tree into a :class:`Node`, accepting only the formula grammar."""
    return _syntax.walk(node, src, GRAMMAR)


def parse(text: str) -> Node:
    """Validate ``text`` and return its tree; raise :class:`FormulaError` for anything outside the grammar."""
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be text, got {type(text).__name__}", 0, 0)
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula is too long ({len(text)} characters, at most {MAX_LENGTH})",
                           MAX_LENGTH, len(text) - MAX_LENGTH)
    return _parse(text)


def _parse(text: str) -> Node:
    """:func:`parse` without the length check (a normalised formula may be longer than the text typed)."""
    toks = tokenize(text)
    _check_tokens(text, toks)
    src = _Source(text, toks)
    try:
        tree = ast.parse(src.src, mode="eval")
    except SyntaxError as exc:
        raise _syntax_error(src, exc) from None
    except (RecursionError, MemoryError, ValueError):  # not expected after the depth check
        raise FormulaError("the formula is too complex", 0, len(text)) from None
    node = _walk(tree, src)
    _check_power_nesting(node)
    _check_nonlinear_nesting(node)
    return node


def _check_nonlinear_nesting(node: Node, depth: int = 0, parent: str = "") -> None:
    k = node.kind
    if k == "mul":
        step = parent not in ("mul", "div") and all(map(_has_xy, node.args))
    elif k == "div":
        step = parent not in ("mul", "div") and _has_xy(node.args[1])
    elif k == "pow":
        step = _has_xy(node)
    else:
        step = k == "call"
    if step:
        depth += 1
        if depth > MAX_NONLINEAR_NESTING:
            raise FormulaError(f"functions, powers and products are nested too deeply for symbolic "
                               f"derivatives (at most {MAX_NONLINEAR_NESTING} levels)",
                               node.start, node.end - node.start)
    for a in node.args:
        _check_nonlinear_nesting(a, depth, k)


def _check_power_nesting(node: Node, depth: int = 0) -> None:
    if node.kind == "pow" and _has_xy(node.args[1]):
        depth += 1
        if depth > MAX_POWER_NESTING:
            e = node.args[1]
            raise FormulaError(f"powers with x or y in the exponent are nested too deeply "
                               f"(at most {MAX_POWER_NESTING} levels)", e.start, e.end - e.start)
    for a in node.args:
        _check_power_nesting(a, depth)


# --- printing ------------------------------------------------------------------------------------

_PREC = {"add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "pos": 3, "pow": 4}


def unparse(node: Node) -> str:
    """The normalised text of a tree: ``^`` for power, spaces around ``+``/``-``, minimal parentheses.

    Parsing the result gives the same tree (numbers keep the notation they were typed in).
    """
    k = node.kind
    if k == "num":
        return node.text
    if k in ("var", "const"):
        return str(node.value)
    if k == "call":
        return f"{node.value}({unparse(node.args[0])})"
    p = _PREC[k]

    def wrap(child: Node, parens: bool) -> str:
        s = unparse(child)
        return f"({s})" if parens else s

    if k in ("neg", "pos"):
        (a,) = node.args
        return ("-" if k == "neg" else "+") + wrap(a, _PREC.get(a.kind, 9) <= 3)
    a, b = node.args
    pa, pb = _PREC.get(a.kind, 9), _PREC.get(b.kind, 9)
    if k == "pow":
        return f"{wrap(a, pa <= 4)}^{wrap(b, pb < 3)}"
    left, right = wrap(a, pa < p), wrap(b, pb <= p)
    return f"{left} {_SYMBOL[k]} {right}" if p == 1 else f"{left}{_SYMBOL[k]}{right}"


# --- SymPy ---------------------------------------------------------------------------------------

_MATH: dict[str, Callable[[float], float]] = {
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "exp": math.exp, "log": math.log,
    "sqrt": math.sqrt, "abs": math.fabs, "tanh": math.tanh, "sinh": math.sinh, "cosh": math.cosh,
    "arctan": math.atan,
}


def _has_xy(node: Node) -> bool:
    return node.kind == "var" or any(_has_xy(a) for a in node.args)


def _fold(node: Node, text: str) -> float:
    """The float value of a sub-expression without ``x`` and ``y``, refusing non-finite results."""
    k = node.kind
    try:
        if k == "num":
            v = node.value
        elif k == "const":
            v = CONSTANTS[node.value][0]
        elif k == "call":
            v = _MATH[node.value](_fold(node.args[0], text))
        elif k == "neg":
            v = -_fold(node.args[0], text)
        elif k == "pos":
            v = _fold(node.args[0], text)
        else:
            a, b = (_fold(c, text) for c in node.args)
            v = {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
                 "div": lambda: a / b, "pow": lambda: math.pow(a, b)}[k]()
    except FormulaError:
        raise
    except OverflowError:
        raise FormulaError(f"'{text[node.start:node.end]}' is too large", node.start,
                           node.end - node.start) from None
    except (ValueError, ZeroDivisionError):
        raise FormulaError(f"'{text[node.start:node.end]}' is undefined", node.start,
                           node.end - node.start) from None
    if not math.isfinite(v):
        raise FormulaError(f"'{text[node.start:node.end]}' is too large", node.start, node.end - node.start)
    return v


def _to_sympy(node: Node, text: str, sp, xy, exponent: bool = False):
    """Build the SymPy expression of a validated tree (constants folded, see :func:`_fold`).

    Numbers become SymPy Floats (fixed precision, so SymPy's own arithmetic on them stays cheap: with
    exact integers, ``((2*x)^1000)^1000`` would make it compute 2^1000000 and worse), except a whole-number
    exponent, which stays an Integer so that ``x^2`` differentiates to ``2*x`` and ``(-x)^2`` is defined.
    A part that SymPy finds undefined everywhere (``x/0``, ``log(x - x)``) is refused with its span.
    """
    expr = _build(node, text, sp, xy, exponent)
    if expr.has(sp.zoo, sp.nan, sp.oo, sp.S.NegativeInfinity):
        raise FormulaError(f"'{text[node.start:node.end]}' is undefined (a division by zero or log(0)?)",
                           node.start, node.end - node.start)
    return expr


def _build(node: Node, text: str, sp, xy, exponent: bool):
    if node.kind == "const":  # exact, so e^x differentiates to e^x and sin(pi*x) prints numpy.pi
        return {"pi": sp.pi, "e": sp.E}[node.value]
    if not _has_xy(node):
        v = _fold(node, text)
        if exponent and v.is_integer() and abs(v) <= MAX_EXPONENT:
            return sp.Integer(int(v))
        return sp.Float(repr(v), 17)
    k = node.kind
    if k == "var":
        return xy[node.value]
    args = [_to_sympy(a, text, sp, xy, exponent=(k == "pow" and i == 1)) for i, a in enumerate(node.args)]
    if k == "call":
        fn = {"abs": sp.Abs, "arctan": sp.atan}.get(node.value) or getattr(sp, node.value)
        return fn(args[0])
    if k == "neg":
        return -args[0]
    if k == "pos":
        return args[0]
    a, b = args
    if k == "pow" and b.is_Number and abs(b) > MAX_EXPONENT:
        e = node.args[1]
        raise FormulaError(f"the exponent '{text[e.start:e.end]}' is too large (at most {MAX_EXPONENT})",
                           e.start, e.end - e.start)
    return {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
            "div": lambda: a / b, "pow": lambda: a**b}[k]()


def _numeric(expr, sp):
    """Prepare an expression for NumPy: Dirac deltas (second derivative of ``abs``) become 0, SymPy's
    complex infinity (``x/0``, ``log(x - x)``) becomes NaN (undefined), and integers too large for a
    float become floats (so NumPy sees ±inf rather than an OverflowError)."""
    import mpmath  # SymPy's own dependency

    expr = expr.replace(sp.DiracDelta, lambda *a: sp.S.Zero)
    # SymPy leaves e.g. d/dy sign(x/y) unevaluated; sign is piecewise constant, so it is 0 almost everywhere
    expr = expr.replace(lambda e: isinstance(e, sp.Derivative) and e.expr.func in (sp.sign, sp.Heaviside),
                        lambda e: sp.S.Zero)
    if expr.has(sp.zoo):
        expr = expr.xreplace({sp.zoo: sp.nan})
    # pi and e as Floats, so SymPy folds constant parts like pi^1000000 into one number now, rather than
    # the generated code raising OverflowError on Python floats at run time
    expr = expr.xreplace({sp.pi: sp.Float(repr(math.pi), 17), sp.E: sp.Float(repr(math.e), 17)})
    # (through mpmath: SymPy's Float(Integer) goes through a decimal string, slow for huge integers)
    big = {r: sp.Float(mpmath.mpf(r.p) / r.q, 17) for r in expr.atoms(sp.Rational)
           if abs(r.p) > 2**53 or abs(r.q) > 2**53}
    return expr.xreplace(big) if big else expr


@dataclass(frozen=True)
class CompiledFormula:
    """A validated formula with its SymPy expressions and their NumPy functions.

    ``f(x, y)``, ``grad(x, y) -> (fx, fy)`` and ``hess(x, y) -> (fxx, fxy, fyy)`` take float arrays of one
    shape and may return scalars where a derivative is constant (callers broadcast).
    """

    text: str
    normalised: str
    tree: Node
    expr: object
    gradient_exprs: tuple
    hessian_exprs: tuple
    f: Callable
    grad: Callable
    hess: Callable


@functools.lru_cache(maxsize=128)
def compile_formula(text: str) -> CompiledFormula:
    """Parse, differentiate and compile ``text`` (the same text gives the same object).

    The work is cached by the normalised formula (:func:`unparse`), so ``x^2+y^2`` and ``x**2 + y**2`` are
    derived once; each call parses ``text`` itself (fast) so that positions in errors and in ``tree`` refer
    to the text as typed. Compile work is bounded (:data:`MAX_DERIVATIVE_OPS`, :data:`COMPILE_BUDGET_S`):
    a formula beyond the bounds is refused with a :class:`FormulaError`.
    """
    tree = parse(text)
    normalised = unparse(tree)
    try:
        compiled = _compile_normalised(normalised)
    except FormulaError as exc:
        if normalised == text:
            raise
        import sympy as sp

        x, y = sp.symbols("x y", real=True)
        _to_sympy(tree, text, sp, {"x": x, "y": y})  # a part undefined everywhere: its span in the typed text
        raise FormulaError(exc.message, 0, len(text)) from None
    return dataclasses.replace(compiled, text=text, tree=tree)


def _budget(deadline: float, text: str) -> None:
    if time.monotonic() > deadline:
        raise FormulaError(f"the formula takes too long to differentiate (more than {COMPILE_BUDGET_S:g} s); "
                           f"simplify it", 0, len(text))


@functools.lru_cache(maxsize=128)
def _compile_normalised(text: str) -> CompiledFormula:
    """The compile of a normalised formula (cached: lru_cache is thread-safe; a compile is pure)."""
    deadline = time.monotonic() + COMPILE_BUDGET_S
    tree = _parse(text)
    import sympy as sp  # imported here: slow to import, only formulas need it

    x, y = sp.symbols("x y", real=True)
    try:
        expr = _to_sympy(tree, text, sp, {"x": x, "y": y})
        _budget(deadline, text)
        fx, fy = (sp.diff(expr, v) for v in (x, y))
        ops = sp.count_ops(fx) + sp.count_ops(fy)
        if ops > MAX_DERIVATIVE_OPS:
            raise FormulaError(f"the formula's gradient is too large for symbolic derivatives ({ops:,} "
                               f"operations, at most {MAX_DERIVATIVE_OPS:,}); simplify it", 0, len(text))
        _budget(deadline, text)
        fxx = sp.diff(fx, x)
        _budget(deadline, text)
        fxy = sp.diff(fx, y)
        _budget(deadline, text)
        fyy = sp.diff(fy, y)
        _budget(deadline, text)
    except (RecursionError, MemoryError):  # not seen within the limits above; kept as a last guard
        raise FormulaError("the formula is too complex to differentiate", 0, len(text)) from None
    grads = tuple(_numeric(e, sp) for e in (fx, fy))
    hess = tuple(_numeric(e, sp) for e in (fxx, fxy, fyy))
    if any(e.has(sp.Derivative) for e in grads + hess):
        raise FormulaError("SymPy could not differentiate this formula", 0, len(text))
    _budget(deadline, text)
    lam = functools.partial(sp.lambdify, (x, y), modules="numpy")
    try:
        f, grad = lam(_numeric(expr, sp)), lam(list(grads), cse=True)
        _budget(deadline, text)
        hess_f = lam(list(hess), cse=True)
    except FormulaError:
        raise
    except Exception as exc:  # SymPy's printer has no NumPy code for something; say so instead of crashing
        raise FormulaError(f"the formula cannot be turned into NumPy code ({type(exc).__name__})",
                           0, len(text)) from None
    return CompiledFormula(
        text=text, normalised=text, tree=tree, expr=expr, gradient_exprs=grads, hessian_exprs=hess,
        f=f, grad=grad, hess=hess_f,
    )


def clear_cache() -> None:
    """Forget every compiled formula (both caches)."""
    compile_formula.cache_clear()
    _compile_normalised.cache_clear()


# --- the objective --------------------------------------------------------------------------------

def _call(fn, n: int, shape) -> tuple[np.ndarray, ...]:
    """Run compiled code with NumPy's warnings silenced; each result as a float array of ``shape``.

    A Python-level ArithmeticError (not expected: constant parts are folded at compile time) gives NaN
    rather than an exception in the worker thread.
    """
    with np.errstate(all="ignore"):
        try:
            return tuple(_real(a, shape) for a in fn())
        except ArithmeticError:
            return tuple(np.full(shape, np.nan) for _ in range(n))


def _real(a, shape) -> np.ndarray:
    """``a`` as a new float array of ``shape``. A complex value (SymPy writes the derivative of ``(-2)^x`` with
    ``log(-2) = log 2 + iπ``) is kept only where it is real, and is NaN (undefined) elsewhere."""
    a = np.asarray(a)
    if np.iscomplexobj(a):
        a = np.where(a.imag == 0, a.real, np.nan)
    # always a new array: for f = x the generated code returns its input itself
    return np.array(np.broadcast_to(a, shape), dtype=float)



class FormulaObjective(Objective2D):
    """An objective from a formula in ``x`` and ``y`` (see the module docstring for the grammar).

    Parameters
    ----------
    formula : str
        The formula as typed, e.g. ``"sin(x)*cos(y) + 0.1*(x^2 + y^2)"``.
    title : str, optional
        A display name; the formula itself when not given.
    xmin, xmax, ymin, ymax : float
        The view domain (default [−5, 5]²).

    ``name`` is ``"expr:<normalised formula>"``; :meth:`spec` is ``"expr:<formula as typed>"``, which
    :func:`gdstudio.core.objectives.get_objective` turns back into this objective. Critical points are
    not known in closed form (:meth:`critical_points` is empty).
    """

    notes = "a formula typed by the user; derivatives are derived symbolically"

    @classmethod
    def parameters(cls) -> tuple[HyperParam, ...]:
        lo, hi = DEFAULT_DOMAIN
        return (
            HyperParam("xmin", lo, -1e6, 1e6, doc="left edge of the view"),
            HyperParam("xmax", hi, -1e6, 1e6, doc="right edge of the view"),
            HyperParam("ymin", lo, -1e6, 1e6, doc="bottom edge of the view"),
            HyperParam("ymax", hi, -1e6, 1e6, doc="top edge of the view"),
        )

    def __init__(self, formula: str, *, title: str | None = None, **params: float):
        self.compiled = compile_formula(formula)
        self.name = EXPR_PREFIX + self.compiled.normalised
        self.formula = self.compiled.normalised
        self.title = title.strip() if isinstance(title, str) and title.strip() else self.compiled.normalised
        super().__init__(**params)
        p = self.params
        for lo, hi in (("xmin", "xmax"), ("ymin", "ymax")):
            if not p[lo] < p[hi]:
                raise ValueError(f"the view domain needs {lo} < {hi}, got {lo}={p[lo]:g}, {hi}={p[hi]:g}")
        self.domain = ((p["xmin"], p["xmax"]), (p["ymin"], p["ymax"]))

    def spec(self) -> str:
        return EXPR_PREFIX + self.compiled.text

    def f(self, x, y):
        (v,) = _call(lambda: (self.compiled.f(x, y),), 1, np.shape(x))
        return v

    def grad_xy(self, x, y):
        return _call(lambda: self.compiled.grad(x, y), 2, np.shape(x))

    def hess_xy(self, x, y):
        return _call(lambda: self.compiled.hess(x, y), 3, np.shape(x))

    def critical_points(self):
        return ()

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v:g}" for k, v in self.params.items())
        return f"<Objective {self.name!r}{extra}>"


def formula_objective(text: str, **params) -> FormulaObjective:
    """The objective of formula ``text`` (what ``get_objective("expr:<text>", params)`` calls).

    ``params`` are the domain parameters ``xmin xmax ymin ymax`` and optionally ``title``.
    Raises :class:`FormulaError` (a ValueError) for a formula outside the grammar.
    """
    return FormulaObjective(text, **params)


__all__ = [
    "ALIASES", "COMPILE_BUDGET_S", "CONSTANTS", "CompiledFormula", "FUNCTIONS", "FormulaError", "FormulaObjective",
    "FormulaWord", "HELP", "MAX_DEPTH", "MAX_DERIVATIVE_OPS", "MAX_EXPONENT", "MAX_LENGTH", "MAX_NONLINEAR_NESTING",
    "MAX_POWER_NESTING", "clear_cache", "compile_formula", "formula_objective", "parse",
    "tokenize", "unparse",
]
