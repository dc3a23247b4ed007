r"""Reverse-mode automatic differentiation over the computation graph of a formula.

How frameworks get gradients, the third way beside finite differences and calculus: record the
elementary operations that compute :math:`f`, then apply the chain rule backwards.

The graph
---------
The objective's formula (a typed ``expr:`` formula, or a built-in's
:attr:`~gdstudio.core.objectives.Objective.expression`, with its parameters as named constants) is
parsed by the formula parser (:mod:`gdstudio.core.expr_syntax`) and each operation becomes a node:
leaves ``x``, ``y`` and constants, then ``+ − × ÷ ^``, negation and the formula functions. Equal
sub-expressions with x or y are one node (so ``x`` is one leaf however often it appears, and the graph
is a DAG, not a tree); each constant, and each part without x and y (``2*pi``, ``-0.2``, folded to one
number), is its own node beside its use.

Forward pass: each node's value :math:`v_i` from its inputs, in order, for all points at once (any
array shape). Backward pass: the adjoint :math:`\bar v_i = \partial f / \partial v_i`, starting from
:math:`\bar f = 1` and going through the nodes in reverse order, each node adding its contribution to
its inputs' adjoints by the chain rule,

.. math::

    \bar v_j \mathrel{+}= \bar v_i \, \frac{\partial v_i}{\partial v_j},

with the local derivatives ``a+b: 1, 1``; ``a−b: 1, −1``; ``a·b: b, a``; ``a/b: 1/b, −(a/b)/b``;
``a^b: b·a^(b−1), a^b·ln a`` (the second only when the exponent depends on x or y); ``sin: cos``,
``cos: −sin``, ``tan: 1 + tan²``, ``exp: exp``, ``log: 1/u``, ``sqrt: 1/(2√u)``, ``abs: sign``,
``tanh: 1 − tanh²``, ``sinh: cosh``, ``cosh: sinh``, ``arctan: 1/(1 + u²)``. The gradient is read off the
leaves: :math:`\nabla f = (\bar x, \bar y)`. One backward pass gives every partial derivative, whatever
the number of inputs — why training a network with millions of weights costs about two evaluations.

Conventions where a derivative does not exist: ``abs'(0) = sign(0) = 0`` (as for typed formulas) and
``sqrt'(0) = 0`` — the minimal-norm subgradient, which gives Ackley's defined gradient (0, 0) at its
cone tip. Adjoints are only propagated to nodes that depend on x or y (a constant's adjoint is not
needed and is reported as None).

>>> from gdstudio.core.objectives import get_objective
>>> g = objective_graph(get_objective("rosenbrock"))
>>> tr = g.run([[-1.5, 2.0]])
>>> tr.gradient.tolist(), get_objective("rosenbrock").gradient([[-1.5, 2.0]]).tolist()
([[-155.0, -50.0]], [[-155.0, -50.0]])
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from gdstudio.core.expr_syntax import Grammar, Node, has_variable, parse_tree

#: Labels shown for the operations.
OP_LABELS = {"add": "+", "sub": "−", "mul": "×", "div": "÷", "pow": "^", "neg": "−"}
_FUNCTIONS = ("sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "sinh", "cosh", "arctan")


@dataclass(frozen=True)
class GraphNode:
    """One node of a computation graph.

    ``id`` its index (inputs always have smaller ids); ``op`` is ``"var"`` (x or y), ``"const"`` (a named
    constant: pi, e, a parameter), ``"num"``, ``"add" "sub" "mul" "div" "pow" "neg"`` or a function name;
    ``label`` what a picture shows (``x``, ``2``, ``kappa``, ``×``, ``sin``); ``inputs`` the ids of its
    operands; ``text`` the sub-expression it computes; ``layer`` its distance from the leaves (leaves 0,
    the output the largest); ``active`` whether it depends on x or y.
    """

    id: int
    op: str
    label: str
    inputs: tuple[int, ...]
    text: str
    layer: int
    active: bool


@dataclass(frozen=True)
class Trace:
    """One forward and backward pass at some points: per node its ``values[i]`` and ``adjoints[i]``
    (``None`` for nodes that do not depend on x or y), each broadcast to the points' shape; ``value`` the
    output f and ``gradient`` ``(..., 2)`` read off the leaves x and y. ``edges[(user, k)]`` is, for the edge
    from a node's ``k``-th input (when that input depends on x or y), the pair (local derivative
    ∂v_user/∂v_input, contribution v̄_user · local added to the input's adjoint)."""

    graph: "Graph"
    values: tuple
    adjoints: tuple
    value: np.ndarray
    gradient: np.ndarray
    edges: Mapping = field(default_factory=dict)


_PREC = {"add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "pow": 4}
_SYM = {"add": " + ", "sub": " - ", "mul": "*", "div": "/", "pow": "^"}


class Graph:
    """The computation graph of an expression in ``x`` and ``y`` (see the module docstring).

    ``nodes`` in topological order (inputs first), ``output`` the id of f, ``leaves`` name -> id for x and y
    (absent when the expression does not use one), ``constants`` the values of named constants.
    """

    def __init__(self, text: str, constants: dict[str, float] | None = None):
        from gdstudio.core.formula import CONSTANTS, FUNCTIONS, MAX_LENGTH

        consts = {n: v for n, (v, _) in CONSTANTS.items()}
        consts.update(constants or {})
        self.text = text
        self.constants = consts
        grammar = Grammar(variables=("x", "y"), constants=consts, functions={n: 1 for n in FUNCTIONS},
                          aliases={"atan": "arctan"}, max_length=max(MAX_LENGTH, len(text)))
        tree = parse_tree(text, grammar)
        self.nodes: list[GraphNode] = []
        self._numbers: dict[int, float] = {}  # the value of each "num" node
        self._folded_prec: dict[int, int] = {}  # precedence of the text of a folded part (for parentheses)
        self._texts: list[str] = []
        self._keys: dict[tuple, int] = {}
        self.output = self._add(tree)
        self.leaves = {n.label: n.id for n in self.nodes if n.op == "var"}

    def _add(self, node: Node) -> int:
        k = node.kind
        if k == "pos":
            return self._add(node.args[0])
        if k not in ("num", "const") and not has_variable(node):
            # a part without x and y (2*pi, -0.2) is one constant: it needs no adjoint, and one box reads better
            from gdstudio.core.formula import unparse

            label = unparse(node)
            self._folded_prec[len(self.nodes)] = _PREC.get(node.kind, 9)
            with np.errstate(all="ignore"):
                self._numbers[len(self.nodes)] = float(self._fold(node))
            return self._new(("num", len(self.nodes)), "num", label, ())
        inputs = tuple(self._add(a) for a in node.args)
        if k == "num":  # constants are not shared: each sits beside its use in a picture
            self._numbers[len(self.nodes)] = float(node.value)
            key, op, label = ("num", len(self.nodes)), "num", node.text
        elif k == "const":
            key, op, label = ("const", len(self.nodes)), k, str(node.value)
        elif k == "var":
            key, op, label = (k, node.value), k, str(node.value)
        elif k == "call":
            key, op, label = ("call", node.value, inputs), node.value, node.value
        else:
            key, op, label = (k, inputs), k, OP_LABELS[k]
        return self._new(key, op, label, inputs)

    def _fold(self, node: Node):
        """The value of a part without x and y (numpy arithmetic, as the forward pass)."""
        k = node.kind
        if k == "num":
            return np.float64(node.value)
        if k == "const":
            return np.float64(self.constants[node.value])
        args = [self._fold(a) for a in node.args]
        if k == "pos":
            return args[0]
        if k == "neg":
            return -args[0]
        if k == "call":
            return _FN[node.value](args[0])
        return {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "pow": np.power}[k](*args)

    def _new(self, key, op: str, label: str, inputs: tuple) -> int:
        if key in self._keys:
            return self._keys[key]
        i = len(self.nodes)
        prec = _PREC.get(op, 9)
        if op in ("num", "var", "const"):
            text = label
        elif op in _FUNCTIONS:
            text = f"{op}({self._texts[inputs[0]]})"
        elif op == "neg":
            a = inputs[0]
            text = "-" + self._wrap(a, self._prec(a) <= 3)
        else:
            a, b = inputs
            pa, pb = self._prec(a), self._prec(b)
            if op == "pow":
                text = f"{self._wrap(a, pa <= 4)}^{self._wrap(b, pb < 3)}"
            else:
                text = f"{self._wrap(a, pa < prec)}{_SYM[op]}{self._wrap(b, pb <= prec)}"
        layer = 1 + max((self.nodes[j].layer for j in inputs), default=-1)
        active = op == "var" or any(self.nodes[j].active for j in inputs)
        self.nodes.append(GraphNode(i, op, label, inputs, text, layer, active))
        self._texts.append(text)
        self._keys[key] = i
        return i

    def _prec(self, i: int) -> int:
        return self._folded_prec.get(i, _PREC.get(self.nodes[i].op, 9))

    def _wrap(self, i: int, parens: bool) -> str:
        return f"({self._texts[i]})" if parens else self._texts[i]

    def __len__(self) -> int:
        return len(self.nodes)

    def columns(self) -> list[int]:
        """A column per node for drawing the graph left to right: x and y in column 0, each node right of its
        inputs, f alone in the last column; a constant (or constant part) sits just left of the first node that
        uses it rather than with the leaves, so its edge stays short."""
        col = [0] * len(self.nodes)
        for n in self.nodes:
            if n.active:
                col[n.id] = 1 + max((col[j] for j in n.inputs if self.nodes[j].active), default=-1)
        users: dict[int, list[int]] = {}
        for n in self.nodes:
            for j in n.inputs:
                users.setdefault(j, []).append(n.id)
        for n in reversed(self.nodes):
            if not n.active:
                col[n.id] = min((col[u] for u in users.get(n.id, ())), default=1) - 1
        low = min(col)
        col = [c - low for c in col]
        last = max(c for i, c in enumerate(col) if i != self.output) + 1 if len(col) > 1 else 0
        col[self.output] = max(col[self.output], last)
        return col

    # --- the passes -----------------------------------------------------------------------------
    def run(self, points) -> Trace:
        """Forward and backward pass at ``points`` of shape ``(..., 2)``."""
        p = np.asarray(points, dtype=float)
        if p.ndim == 0 or p.shape[-1] != 2:
            raise ValueError(f"points must have shape (..., 2), got {p.shape}")
        shape = p.shape[:-1]
        xy = {"x": p[..., 0], "y": p[..., 1]}
        with np.errstate(all="ignore"):
            vals = self._forward(xy)
            adjs, edges = self._backward(vals, shape)
        full = tuple(np.array(np.broadcast_to(v, shape), dtype=float) for v in vals)
        grad = np.zeros(shape + (2,))
        for axis, name in enumerate(("x", "y")):
            if name in self.leaves:
                grad[..., axis] = adjs[self.leaves[name]]
        adjoints = tuple(None if a is None else np.array(np.broadcast_to(a, shape), dtype=float) for a in adjs)
        local = {e: tuple(np.array(np.broadcast_to(v, shape), dtype=float) for v in lc) for e, lc in edges.items()}
        return Trace(self, full, adjoints, full[self.output].copy(), grad, local)

    def _forward(self, xy) -> list:
        vals: list = []
        for n in self.nodes:
            op = n.op
            if op == "var":
                v = xy[n.label]
            elif op == "num":
                v = np.float64(self._numbers[n.id])
            elif op == "const":
                v = np.float64(self.constants[n.label])
            elif op == "neg":
                v = -vals[n.inputs[0]]
            elif op in _FUNCTIONS:
                v = _FN[op](vals[n.inputs[0]])
            else:
                a, b = (vals[j] for j in n.inputs)
                v = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
                     "pow": np.power}[op](a, b)
            vals.append(v)
        return vals

    def _backward(self, vals, shape) -> tuple[list, dict]:
        """Adjoints, and per edge (user id, input position) the local derivative ∂v_user/∂v_input and the
        contribution v̄_user · ∂v_user/∂v_input it adds to the input's adjoint (the chain rule, edge by edge)."""
        adj: list = [None] * len(self.nodes)
        adj[self.output] = np.ones(shape)
        edges: dict = {}

        def add(n, k, local, contribution):
            j = n.inputs[k]
            if self.nodes[j].active:
                edges[(n.id, k)] = (local, contribution)
                adj[j] = contribution if adj[j] is None else adj[j] + contribution

        for n in reversed(self.nodes):
            a_bar = adj[n.id]
            if a_bar is None or not n.active or not n.inputs:
                continue
            op, ins = n.op, n.inputs
            if op == "neg":
                add(n, 0, -1.0, -a_bar)
            elif op in _FUNCTIONS:
                local = _local(op, vals[ins[0]], vals[n.id])
                add(n, 0, local, a_bar * local)
            else:
                i, j = ins
                a, b = vals[i], vals[j]
                if op == "add":
                    add(n, 0, 1.0, a_bar)
                    add(n, 1, 1.0, a_bar)
                elif op == "sub":
                    add(n, 0, 1.0, a_bar)
                    add(n, 1, -1.0, -a_bar)
                elif op == "mul":
                    add(n, 0, b, a_bar * b)
                    add(n, 1, a, a_bar * a)
                elif op == "div":
                    add(n, 0, 1 / b, a_bar / b)
                    q = vals[n.id] / b
                    add(n, 1, -q, -a_bar * q)
                else:  # pow
                    if self.nodes[i].active:
                        d = 2 * a if (np.ndim(b) == 0 and b == 2) else b * np.power(a, b - 1)
                        add(n, 0, d, a_bar * d)
                    if self.nodes[j].active:
                        d = vals[n.id] * np.log(a)
                        add(n, 1, d, a_bar * d)
        return adj, edges


_FN = {"sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
       "abs": np.abs, "tanh": np.tanh, "sinh": np.sinh, "cosh": np.cosh, "arctan": np.arctan}


def _local(op: str, u, v):
    """∂v/∂u for ``v = op(u)``."""
    if op == "sin":
        return np.cos(u)
    if op == "cos":
        return -np.sin(u)
    if op == "tan":
        return 1 + v * v
    if op == "exp":
        return v
    if op == "log":
        return 1 / u
    if op == "sqrt":
        return np.where(v == 0, 0.0, 0.5 / np.where(v == 0, 1.0, v))
    if op == "abs":
        return np.sign(u)
    if op == "tanh":
        return 1 - v * v
    if op == "sinh":
        return np.cosh(u)
    if op == "cosh":
        return np.sinh(u)
    return 1 / (1 + u * u)  # arctan


@functools.lru_cache(maxsize=64)
def _graph(text: str, constants: tuple) -> Graph:
    return Graph(text, dict(constants))


def expression_of(objective) -> tuple[str, dict[str, float]]:
    """The formula of an objective and its named constants: a built-in's ``expression`` with its
    parameters, or a typed formula's text. ValueError when the objective has none."""
    text = getattr(objective, "expression", "")
    if text:
        return text, dict(objective.params)
    compiled = getattr(objective, "compiled", None)  # a typed expr: formula
    if compiled is not None:
        return compiled.text, {}
    raise ValueError(f"the objective {getattr(objective, 'name', objective)!r} has no formula, "
                     "so autodiff cannot build its graph (use analytic or finite differences)")


def objective_graph(objective) -> Graph:
    """The (cached) computation graph of an objective's formula."""
    text, consts = expression_of(objective)
    return _graph(text, tuple(sorted(consts.items())))


def autodiff_gradient(objective, points) -> np.ndarray:
    """∇f at ``points`` (shape ``(..., 2)``) by one reverse pass over the objective's graph."""
    return objective_graph(objective).run(points).gradient


def has_graph(objective) -> bool:
    try:
        expression_of(objective)
    except ValueError:
        return False
    return True


__all__ = ["Graph", "GraphNode", "OP_LABELS", "Trace", "autodiff_gradient", "expression_of", "has_graph",
           "objective_graph"]

