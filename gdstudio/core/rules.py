r"""Update rules typed by the user: write your own optimizer in a few lines.

The language
------------
A rule is a list of assignments, one per line or separated by ``;``, run in order once per step over
per-coordinate arrays (every point of every start at once, shape ``(N, d)``)::

    param lr = 0.01
    param mu = 0.9
    v = mu*v + g
    x = x - lr*v

Names an expression may use:

* ``x`` the point, ``g`` the gradient at ``x``, ``t`` the step number (1 on the first step), ``f`` the loss
  at ``x`` (computed only when the rule uses it);
* state variables: any other name the rule assigns. A state variable keeps its value from one step to
  the next, and starts at 0 unless the rule gives it a start with ``init v = <expression>`` (which may use
  ``x``, ``g``, ``f``, the params and earlier inits);
* hyperparameters declared with a default, ``param lr = 0.01``: they become the optimizer's
  :class:`~gdstudio.core.optimizers.base.HyperParam` specs, so they show in the window's form and work
  with ``--set``, sweeps and races like a built-in's; ``lr`` also works with ``--lr``. The usual names
  ``lr mu beta1 beta2 eps wd`` are params even undeclared, with the defaults of :data:`IMPLICIT_PARAMS`;
* the constants ``pi`` and ``e``, and numbers written as in formulas (``1``, ``.5``, ``1e-8``).

Operators are those of formulas (``+ - * /``, ``^`` or ``**`` for power, parentheses), applied coordinate
by coordinate; functions are in :data:`FUNCTIONS`. Assigning ``x`` moves the point (a rule must do it at
least once); assigning ``g`` changes the gradient for the rest of this step only (``g = g + wd*x`` is
weight decay). A statement sees the values assigned by the statements above it in the same step, and
the previous step's value of a state variable assigned further down. ``#`` starts a comment.

The built-ins written in it (:data:`EXAMPLES`)::

    momentum (torch.optim.SGD, dampening 0):  v = mu*v + g;  x = x - lr*v
    Adam:  m = beta1*m + (1 - beta1)*g;  s = beta2*s + (1 - beta2)*g^2
           x = x - lr/(1 - beta1^t) * m/(sqrt(s)/sqrt(1 - beta2^t) + eps)

The rule for momentum gives exactly the built-in ``momentum``'s trajectory (with a zero buffer,
``mu*0 + g = g`` is the built-in's first step ``b₁ = g₀``); Adam's to rounding
(``tests/core/test_rules.py``).

Safety
------
Nothing typed is evaluated as Python. Each right-hand side goes through the formula parser
(:mod:`gdstudio.core.expr_syntax`: a tokenizer that refuses any other character or name, length and
nesting limits checked before :func:`ast.parse`, a whitelist walk of the tree), with this language's
names and functions. The statement structure (``param``/``init``/name ``=``) is read by a regular
expression. The validated tree is turned into NumPy closures. Sub-expressions without a variable are
folded to one number when the rule is compiled, and refused when that number is not finite (``10^1000``);
a constant exponent may not exceed :data:`MAX_EXPONENT` in size. The whole rule is bounded
(:data:`MAX_RULE_LENGTH` characters, :data:`MAX_STATEMENTS` statements, names of at most
:data:`MAX_NAME_LENGTH` characters, none starting with ``_`` or being a Python keyword). Errors are
:class:`RuleError` s naming the line and column.

At run time every operation is NumPy float arithmetic with warnings silenced: a rule that makes a point
NaN or infinite ends that start as diverged (the :class:`~gdstudio.core.runs.Run` loop does), never
raises.

>>> opt = rule_optimizer_class("param lr = 0.1; v = 0.9*v + g; x = x - lr*v")(lr=0.5)
>>> import numpy as np
>>> x, g = np.array([[1.0, 0.0]]), np.array([[2.0, 0.0]])
>>> opt.update(x, g, opt.init(x, g, None, None), None, None).x
array([[0., 0.]])
"""

from __future__ import annotations

import functools
import keyword
import math
import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from gdstudio.core.expr_syntax import FormulaError, Grammar, Node, has_variable, parse_tree
from gdstudio.core.optimizers.base import HyperParam, Optimizer, Update

#: Prefix of an optimizer spec holding a rule: ``"rule:v = mu*v + g; x = x - lr*v"``.
RULE_PREFIX = "rule:"
#: File suffix of a saved rule (``--optimizer rule:FILE.gdrule``).
RULE_SUFFIX = ".gdrule"
#: Longest rule accepted, in characters (each right-hand side is also bounded like a formula).
MAX_RULE_LENGTH = 4000
#: Most lines a rule may have (blank lines and comments included).
MAX_LINES = 200
#: Most statements a rule may have.
MAX_STATEMENTS = 60
#: Longest name of a variable or param.
MAX_NAME_LENGTH = 24
#: Largest size of a constant exponent.
MAX_EXPONENT = 1000

#: What every rule can read.
INPUTS: dict[str, str] = {
    "x": "the point (assign it to move)",
    "g": "the gradient ∇f at x (assigning it changes it for the rest of this step)",
    "t": "the step number: 1 on the first step",
    "f": "the loss f(x) at the point",
}
#: Functions: name -> (number of arguments, one line of help).
FUNCTIONS: dict[str, tuple[int, str]] = {
    "sqrt": (1, "square root (NaN below 0)"),
    "abs": (1, "absolute value"),
    "sign": (1, "−1, 0 or 1"),
    "exp": (1, "exponential"),
    "log": (1, "natural logarithm (NaN below 0)"),
    "min": (2, "the smaller of two values, coordinate by coordinate"),
    "max": (2, "the larger of two values, coordinate by coordinate"),
    "clip": (3, "u limited to [lo, hi]"),
}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
#: Hyperparameters a rule may use without declaring them, with their defaults (torch's names and values
#: where torch has them): ``"rule:v = mu*v + g; x = x - lr*v"`` works as it stands.
IMPLICIT_PARAMS: dict[str, float] = {"lr": 0.01, "mu": 0.9, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
                                     "wd": 0.0}
_KEYWORDS = ("param", "init")

#: Built-in optimizers written as rules: name -> (title, rule text). The window offers them as starting points.
EXAMPLES: dict[str, tuple[str, str]] = {
    "gd": ("Gradient descent", "param lr = 0.01\nx = x - lr*g\n"),
    "momentum": ("Momentum (torch SGD, dampening 0)",
                 "param lr = 0.01\nparam mu = 0.9\nv = mu*v + g\nx = x - lr*v\n"),
    "adam": ("Adam", "param lr = 0.001\nparam beta1 = 0.9\nparam beta2 = 0.999\nparam eps = 1e-8\n"
                     "m = beta1*m + (1 - beta1)*g\ns = beta2*s + (1 - beta2)*g^2\n"
                     "x = x - lr/(1 - beta1^t) * m/(sqrt(s)/sqrt(1 - beta2^t) + eps)\n"),
    "sign-gd": ("Sign gradient descent", "param lr = 0.01\nx = x - lr*sign(g)\n"),
}


class RuleError(FormulaError):
    """A rule that cannot be accepted: ``message``, 0-based ``position``/``length`` in the whole text, and the
    1-based ``line`` and ``column`` people read. ``str(error)`` is ``"line 2, column 9: unknown name 'foo'"``."""

    def __init__(self, message: str, text: str, position: int, length: int = 0):
        self.message = message
        self.position = int(position)
        self.length = max(int(length), 0)
        before = text[: self.position]
        self.line = before.count("\n") + 1
        self.column = self.position - (before.rfind("\n") + 1) + 1
        ValueError.__init__(self, f"line {self.line}, column {self.column}: {message}")


@dataclass(frozen=True)
class Statement:
    kind: str  # "param", "init" or "set"
    name: str
    tree: Node
    start: int
    end: int
    text: str
    fn: Callable | None = None  # env -> value (None for params)


@dataclass(frozen=True)
class RuleProgram:
    """A compiled rule: its statements, declared params (name -> default), state variables, whether it reads f."""

    text: str
    statements: tuple[Statement, ...]
    params: tuple[tuple[str, float], ...]
    state: tuple[str, ...]
    uses_f: bool

    @property
    def one_line(self) -> str:
        """The step statements joined by ``;`` (params left out): what menus and tooltips show."""
        return ";  ".join(s.text for s in self.statements if s.kind == "set")

    def hyperparams(self) -> tuple[HyperParam, ...]:
        return tuple(HyperParam(n, v, doc=f"declared in the rule: param {n} = {v:g}",
                                log=(n == "lr" and v > 0)) for n, v in self.params)


_STATEMENT = re.compile(r"\s*(?:(param|init)\s+)?([A-Za-z_][A-Za-z_0-9]*)\s*=(?!=)")


def _statements(text: str):
    """(start, end) spans of the statements: split at newlines and ``;``, comments blanked out."""
    spans = []
    i = 0
    for line in text.split("\n"):
        body = line.split("#", 1)[0]
        j = 0
        for part in body.split(";"):
            if part.strip():
                lead = len(part) - len(part.lstrip())
                spans.append((i + j + lead, i + j + len(part.rstrip())))
            j += len(part) + 1
        i += len(line) + 1
    return spans


# --- evaluation ------------------------------------------------------------------------------------

_BIN = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "pow": np.power}
_CALL = {"sqrt": np.sqrt, "abs": np.abs, "sign": np.sign, "exp": np.exp, "log": np.log,
         "min": np.minimum, "max": np.maximum, "clip": lambda u, lo, hi: np.minimum(np.maximum(u, lo), hi)}


def _fold(node: Node, text: str, offset: int) -> float:
    """The value of a sub-expression without variables (refused when not finite)."""
    with np.errstate(all="ignore"):
        v = float(_closure(node, text, offset, fold=False)({}))
    if not math.isfinite(v):
        word = "undefined" if math.isnan(v) else "too large"
        raise RuleError(f"'{text[offset + node.start:offset + node.end]}' is {word}", text,
                        offset + node.start, node.end - node.start)
    return v


def _closure(node: Node, text: str, offset: int, fold: bool = True) -> Callable[[dict], Any]:
    """A function env -> value for a validated tree (constant parts folded, constant exponents bounded)."""
    k = node.kind
    if fold and k != "num" and not has_variable(node):
        v = np.float64(_fold(node, text, offset))
        return lambda env: v
    if k == "num":
        v = np.float64(node.value)
        return lambda env: v
    if k == "const":
        v = np.float64(CONSTANTS[node.value])
        return lambda env: v
    if k == "var":
        name = node.value
        return lambda env: env[name]
    args = [_closure(a, text, offset, fold) for a in node.args]
    if k == "neg":
        (a,) = args
        return lambda env: np.negative(a(env))
    if k == "pos":
        return args[0]
    if k == "call":
        fn = _CALL[node.value]
        if len(args) == 1:
            (a,) = args
            return lambda env: fn(a(env))
        return lambda env: fn(*(a(env) for a in args))
    if k == "pow" and fold and not has_variable(node.args[1]):
        e = node.args[1]
        p = _fold(e, text, offset)
        if abs(p) > MAX_EXPONENT:
            raise RuleError(f"the exponent '{text[offset + e.start:offset + e.end]}' is too large "
                            f"(at most {MAX_EXPONENT})", text, offset + e.start, e.end - e.start)
    op = _BIN[k]
    a, b = args
    return lambda env: op(a(env), b(env))


def _uses(node: Node, name: str) -> bool:
    return (node.kind == "var" and node.value == name) or any(_uses(a, name) for a in node.args)


# --- compiling ---------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def compile_rule(text: str) -> RuleProgram:
    """Parse and check a rule; raise :class:`RuleError` (a ValueError) naming line and column."""
    if not isinstance(text, str):
        raise RuleError(f"a rule must be text, got {type(text).__name__}", "", 0)
    lines = text.count("\n") + 1
    if lines > MAX_LINES:
        raise RuleError(f"the rule has too many lines ({lines}, at most {MAX_LINES})", text, 0, len(text))
    if len(text) > MAX_RULE_LENGTH:
        raise RuleError(f"the rule is too long ({len(text)} characters, at most {MAX_RULE_LENGTH})", text,
                        MAX_RULE_LENGTH, len(text) - MAX_RULE_LENGTH)
    spans = _statements(text)
    if not spans:
        raise RuleError("the rule is empty (example: v = mu*v + g; x = x - lr*v)", text, 0, len(text))
    if len(spans) > MAX_STATEMENTS:
        s = spans[MAX_STATEMENTS]
        raise RuleError(f"the rule has too many statements ({len(spans)}, at most {MAX_STATEMENTS})", text,
                        s[0], s[1] - s[0])
    heads = []
    params: dict[str, float] = {}
    assigned: list[str] = []
    for start, end in spans:
        stmt = text[start:end]
        m = _STATEMENT.match(stmt)
        if not m:
            raise RuleError("expected an assignment 'name = expression' (or 'param name = number', "
                            "'init name = expression')", text, start, end - start)
        kind, name = m.group(1) or "set", m.group(2)
        npos = start + m.start(2)
        problem = None
        if name.startswith("_"):
            problem = f"a name may not start with '_' ('{name}')"
        elif len(name) > MAX_NAME_LENGTH:
            problem = f"the name '{name[:MAX_NAME_LENGTH]}…' is too long (at most {MAX_NAME_LENGTH} characters)"
        elif keyword.iskeyword(name) or name in _KEYWORDS:
            problem = f"'{name}' is a reserved word"
        elif name in FUNCTIONS or name in CONSTANTS:
            problem = f"'{name}' is a {'function' if name in FUNCTIONS else 'constant'} and cannot be assigned"
        elif name in ("t", "f") or (kind != "set" and name in INPUTS):
            verb = "assigned" if kind == "set" else "declared"
            problem = f"'{name}' is given to the rule ({INPUTS[name]}) and cannot be {verb}"
        elif kind == "param" and name in params:
            problem = f"param '{name}' is declared twice"
        elif name in params and kind != "param":
            problem = f"'{name}' is a param (set it in the form or with --set), it cannot be assigned"
        elif kind == "param" and name in assigned:
            problem = f"'{name}' is assigned above, so it cannot also be a param"
        if problem:
            raise RuleError(problem, text, npos, len(name))
        rhs_start = start + m.end()
        heads.append((kind, name, start, end, rhs_start))
        if kind == "param":
            params[name] = 0.0  # value filled below
        else:
            assigned.append(name)
    if "x" not in [n for k, n, *_ in heads if k == "set"]:
        raise RuleError("the rule never moves the point: assign x (e.g. x = x - lr*g)", text, len(text), 0)
    state = tuple(dict.fromkeys(n for n in assigned if n not in INPUTS))
    implicit = tuple(n for n in IMPLICIT_PARAMS if n not in params and n not in state)
    variables = (*INPUTS, *params, *state, *implicit)
    const_grammar = Grammar(variables=(), constants=CONSTANTS, functions={k: v[0] for k, v in FUNCTIONS.items()},
                            what="number", example="0.01", allowed="numbers, pi, e, + - * / ^ and parentheses")
    grammar = Grammar(variables=variables, constants=CONSTANTS, functions={k: v[0] for k, v in FUNCTIONS.items()},
                      what="expression", example="x - lr*g",
                      allowed="numbers, names, the functions of the list, + - * / ^ **, commas and parentheses")
    statements = []
    uses_f = False
    for kind, name, start, end, rhs_start in heads:
        rhs = text[rhs_start:end]
        lead = len(rhs) - len(rhs.lstrip())
        try:
            tree = parse_tree(rhs.strip(), const_grammar if kind == "param" else grammar)
        except RuleError:
            raise
        except FormulaError as e:
            pos = rhs_start + lead + e.position
            msg = e.message
            if msg.startswith("unknown name") and kind != "param":
                word = text[pos:pos + e.length]
                msg = (f"unknown name '{word}': declare it (param {word} = 0.1) or assign it "
                       f"({word} = …); valid here: " + ", ".join((*variables, *CONSTANTS, *FUNCTIONS)))
            raise RuleError(msg, text, pos, e.length) from None
        off = rhs_start + lead
        if kind == "param":
            params[name] = _fold(tree, text, off)
            statements.append(Statement(kind, name, tree, start, end, text[start:end].strip()))
            continue
        if kind == "init":
            bad = next((v for v in ("t",) if _uses(tree, v)), None)
            if bad:
                raise RuleError("an init cannot use t (it runs before the first step)", text, off, len(rhs.strip()))
        uses_f = uses_f or _uses(tree, "f")
        for used in implicit:
            if used not in params and _uses(tree, used):
                params[used] = IMPLICIT_PARAMS[used]
        fn = _closure(tree, text, off)
        statements.append(Statement(kind, name, tree, start, end, text[start:end].strip(), fn))
    return RuleProgram(text, tuple(statements), tuple(params.items()), state, uses_f)


# --- the optimizer ------------------------------------------------------------------------------------

class RuleOptimizer(Optimizer):
    """An optimizer whose update is a typed rule (see the module docstring); built by :func:`rule_optimizer_class`.

    State: ``"t"`` (N,) the number of steps taken, and one (N, d) array per state variable of the rule.
    """

    program: RuleProgram

    def _env(self, x, g, problem) -> dict:
        env = dict(self.hp)
        env["x"], env["g"] = x, g
        if self.program.uses_f:
            with np.errstate(all="ignore"):
                env["f"] = np.asarray(problem.value(x), dtype=float)[:, None]
        return env

    def init(self, x, g, problem, rng):
        env = self._env(x, g, problem)
        state = {"t": np.zeros(len(x))}
        for name in self.program.state:
            env[name] = state[name] = np.zeros_like(x)
        with np.errstate(all="ignore"):
            for s in self.program.statements:
                if s.kind == "init":
                    env[s.name] = state[s.name] = np.array(np.broadcast_to(s.fn(env), x.shape), dtype=float)
        return state

    def update(self, x, g, state, problem, rng):
        env = self._env(x, g, problem)
        t = state["t"] + 1
        env["t"] = t[:, None]
        for name in self.program.state:
            env[name] = state[name]
        with np.errstate(all="ignore"):
            for s in self.program.statements:
                if s.kind == "set":
                    env[s.name] = np.array(np.broadcast_to(s.fn(env), x.shape), dtype=float)
        new = {"t": t}
        for name in self.program.state:
            new[name] = env[name]
        return Update(env["x"], new)


@functools.lru_cache(maxsize=64)
def rule_optimizer_class(text: str) -> type[RuleOptimizer]:
    """The optimizer class of rule ``text`` (cached by text). Its ``name`` is ``"rule:" + text``, which
    :func:`gdstudio.core.optimizers.optimizer_class` turns back into it (sessions and CSV keep the text)."""
    program = compile_rule(text)
    return type("RuleOptimizer", (RuleOptimizer,), {
        "program": program,
        "name": RULE_PREFIX + text,
        "title": "Own rule",
        "rule": program.one_line,
        "reference": "typed by the user",
        "hyperparams": program.hyperparams(),
        "__doc__": f"The update rule typed by the user:\n\n{text}",
    })


def read_rule_file(path: str) -> str:
    """The text of a ``.gdrule`` file (UTF-8), refusing files larger than a rule may be."""
    with open(path, "rb") as fh:
        data = fh.read(MAX_RULE_LENGTH * 4 + 1)
    if len(data) > MAX_RULE_LENGTH * 4:
        raise ValueError(f"{path} is too large for a rule (at most {MAX_RULE_LENGTH} characters)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a UTF-8 text file") from None


__all__ = ["CONSTANTS", "EXAMPLES", "FUNCTIONS", "IMPLICIT_PARAMS", "INPUTS", "MAX_EXPONENT", "MAX_LINES",
           "MAX_NAME_LENGTH",
           "MAX_RULE_LENGTH", "MAX_STATEMENTS", "RULE_PREFIX", "RULE_SUFFIX", "RuleError", "RuleOptimizer",
           "RuleProgram", "compile_rule", "display_name", "read_rule_file", "resolve_rule_spec", "rule_label", "rule_name",
           "rule_optimizer_class"]


def resolve_rule_spec(spec: str) -> str:
    """``"rule:FILE.gdrule"`` -> ``"rule:<the file's text>"`` (so a CSV or a session keeps the rule itself);
    any other spec unchanged. ValueError naming the file when it cannot be read."""
    if isinstance(spec, str) and spec.startswith(RULE_PREFIX):
        rest = spec[len(RULE_PREFIX):].strip()
        if rest.endswith(RULE_SUFFIX) and "=" not in rest:
            try:
                return RULE_PREFIX + read_rule_file(rest)
            except OSError as e:
                raise ValueError(f"cannot read the rule file {rest}: {e.strerror or e}") from None
    return spec


def display_name(spec: str) -> str:
    """A short name for menus, run labels and file names: ``"own rule"`` for a rule spec, else the spec."""
    return "own rule" if isinstance(spec, str) and spec.startswith(RULE_PREFIX) else spec


#: Longest rule name (the text of a leading comment line) used as a label.
MAX_TITLE = 40


def rule_name(spec: str) -> str:
    """The name a rule gives itself: the text of its first line when that line is a comment.

    ``"rule:# heavy ball\\nv = mu*v + g\\nx = x - lr*v"`` is named ``"heavy ball"``; a rule without a leading
    comment (or a spec that is not a rule) has the name ``""``. The name travels with the rule's text, so a
    session, a CSV and the settings keep it. Names longer than :data:`MAX_TITLE` characters are cut with "…".
    """
    if not (isinstance(spec, str) and spec.startswith(RULE_PREFIX)):
        return ""
    body = spec[len(RULE_PREFIX):].lstrip()
    if not body.startswith("#"):
        return ""
    first = body[1:].splitlines()[0] if body[1:] else ""  # any line break ends the name (\r, \u2028, ...)
    name = " ".join("".join(c if c.isprintable() else " " for c in first).split())  # one line, single spaces
    return name if len(name) <= MAX_TITLE else name[:MAX_TITLE - 1] + "…"


def rule_label(spec: str) -> str:
    """A run label for optimizer ``spec``: a rule's :func:`rule_name`, else :func:`display_name`
    (``"own rule"`` for an unnamed rule, the optimizer's name otherwise)."""
    return rule_name(spec) or display_name(spec)
