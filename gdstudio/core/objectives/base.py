"""What a loss surface is.

An :class:`Objective` evaluates its value, gradient and Hessian on arrays of points of shape ``(..., d)``:
a single point ``(d,)``, ``N`` starts ``(N, d)`` or a whole meshgrid ``(H, W, d)`` in one call, always
vectorised (no Python loop over points). Built-in objectives are two-dimensional (``d = 2``); the interface
does not assume it, so model landscapes with thousands of parameters can implement it later.

Shapes::

    value(p)    (..., d) -> (...)
    gradient(p) (..., d) -> (..., d)
    hessian(p)  (..., d) -> (..., d, d)
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping, Sequence

import numpy as np

from gdstudio.core.specs import HyperParam

#: Prefix of a custom formula objective spec: ``"expr:sin(x)*cos(y)"``.
EXPR_PREFIX = "expr:"

#: The kinds of critical point, as the second-derivative test names them.
CRITICAL_KINDS = ("minimum", "maximum", "saddle", "degenerate")


@dataclass(frozen=True)
class CriticalPoint:
    """A point where ∇f = 0, with its kind from the second-derivative test.

    ``kind`` is one of :data:`CRITICAL_KINDS`; ``label`` is free text such as ``"global minimum"``.
    """

    x: tuple[float, ...]
    kind: str
    value: float
    label: str = ""


def as_points(p, dim: int) -> np.ndarray:
    """``p`` as a float64 array whose last axis has length ``dim`` (raises ValueError otherwise)."""
    a = np.asarray(p, dtype=float)
    if a.ndim == 0 or a.shape[-1] != dim:
        raise ValueError(f"points must have shape (..., {dim}), got {a.shape}")
    return a


def as_point(x, dim: int) -> np.ndarray:
    """One finite point ``(dim,)`` as an owned float64 array (raises ValueError naming the problem)."""
    p = np.array(x, dtype=float).reshape(-1)
    if p.shape != (dim,):
        raise ValueError(f"a point needs {dim} coordinates, got shape {np.shape(x)}")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"the point {p.tolist()} is not finite")
    return p


def hessian_2d(hxx, hxy, hyy, shape) -> np.ndarray:
    """Assemble a ``shape + (2, 2)`` symmetric Hessian from its three entries (each broadcast to ``shape``)."""
    h = np.empty(tuple(shape) + (2, 2))
    h[..., 0, 0] = hxx
    h[..., 0, 1] = hxy
    h[..., 1, 0] = hxy
    h[..., 1, 1] = hyy
    return h


class Objective:
    """A differentiable function to minimise, with what the views need to show it.

    Attributes
    ----------
    name : str
        Command-line name (``"booth"``).
    title : str
        Display name (``"Booth"``).
    formula : str
        The definition as readable text.
    domain : tuple of (low, high) pairs
        The default view domain, one pair per shown axis.
    log_levels : bool
        Whether contour levels should be log-spaced (the function spans decades).
    dim : int
        Number of parameters ``d``.
    params : Mapping[str, float]
        Current values of the objective's parameters (see :meth:`parameters`).
    notes : str
        Anything a user should know (e.g. where the function is not differentiable).
    expression : str
        The definition in the formula language (``^`` for powers, parameters by name), from which
        :mod:`gdstudio.core.autodiff` builds the computation graph; empty when there is none.
    """

    name: str = ""
    title: str = ""
    formula: str = ""
    domain: tuple[tuple[float, float], ...] = ((-1.0, 1.0), (-1.0, 1.0))
    log_levels: bool = False
    dim: int = 2
    notes: str = ""
    expression: str = ""

    def __init__(self, **params: float):
        spec = {p.name: p for p in self.parameters()}
        unknown = sorted(set(params) - set(spec))
        if unknown:
            valid = ", ".join(spec) or "none"
            raise ValueError(f"objective {self.name!r} has no parameter {unknown[0]!r} (valid: {valid})")
        values = {}
        for name, p in spec.items():
            v = float(params.get(name, p.default))
            if not (np.isfinite(v) and p.low <= v <= p.high):
                raise ValueError(f"parameter {name}={v} of {self.name!r} is outside [{p.low}, {p.high}]")
            values[name] = v
        self.params: Mapping[str, float] = MappingProxyType(values)

    # --- what subclasses provide -------------------------------------------------------------
    @classmethod
    def parameters(cls) -> tuple[HyperParam, ...]:
        """The objective's settable parameters, as float :class:`~gdstudio.core.specs.HyperParam` specs
        (none by default)."""
        return ()

    def value(self, p) -> np.ndarray:
        raise NotImplementedError

    def gradient(self, p) -> np.ndarray:
        raise NotImplementedError

    def hessian(self, p) -> np.ndarray:
        raise NotImplementedError

    def critical_points(self) -> tuple[CriticalPoint, ...]:
        """Known critical points (minima first). May be empty when none are known in closed form."""
        return ()

    def value_and_gradient(self, p) -> tuple[np.ndarray, np.ndarray]:
        """``(value(p), gradient(p))`` in one call: the run loop's evaluation. Subclasses may share work
        between the two (the numbers must be exactly those of :meth:`value` and :meth:`gradient`)."""
        return self.value(p), self.gradient(p)

    # --- derived ------------------------------------------------------------------------------
    def minima(self) -> tuple[CriticalPoint, ...]:
        return tuple(c for c in self.critical_points() if c.kind == "minimum")

    def grid(self, resolution: int = 200, domain=None):
        """Evaluate on a regular grid over ``domain`` (default: the objective's own).

        Returns ``(xs, ys, z)`` with ``z[i, j] = f(xs[i], ys[j])`` (x along the first axis, as pyqtgraph's
        ImageItem and GLSurfacePlotItem expect). Non-finite values are kept as NaN so views can show gaps.
        """
        (x0, x1), (y0, y1) = domain or self.domain
        xs = np.linspace(x0, x1, resolution)
        ys = np.linspace(y0, y1, resolution)
        pts = np.stack(np.meshgrid(xs, ys, indexing="ij"), axis=-1)
        with np.errstate(all="ignore"):
            z = np.asarray(self.value(pts), dtype=float)
        z = np.where(np.isfinite(z), z, np.nan)
        return xs, ys, z

    def spec(self) -> str:
        """The string that :func:`gdstudio.core.objectives.get_objective` turns back into this objective."""
        return self.name

    def describe(self) -> str:
        return f"{self.title}: f = {self.formula}"

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v:g}" for k, v in self.params.items())
        return f"<Objective {self.name}{extra}>"


def _split(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return p[..., 0], p[..., 1]


#: From this many points on, :meth:`Objective2D.value_and_gradient` uses ``f_grad_into`` where given.
INTO_MIN_POINTS = 64


def _like_points(p, shape: tuple) -> np.ndarray:
    """An empty ``shape + (2,)`` array laid out as the points ``p``: column-major when ``p`` is an ``(N, 2)``
    column-major array (a run of many starts keeps each coordinate contiguous), else row-major."""
    if type(p) is np.ndarray and p.ndim == 2 and len(p) > 1 and not p.flags.c_contiguous and p.flags.f_contiguous:
        return np.empty((2,) + shape).T
    return np.empty(shape + (2,))


class Objective2D(Objective):
    """Base for two-dimensional objectives written as functions of ``x`` and ``y``.

    Subclasses implement :meth:`f`, :meth:`grad_xy` (returning ``fx, fy``) and :meth:`hess_xy`
    (returning ``fxx, fxy, fyy``), each on equally shaped arrays; this class handles shapes.
    """

    dim = 2

    def f(self, x, y):
        raise NotImplementedError

    def grad_xy(self, x, y):
        raise NotImplementedError

    def hess_xy(self, x, y):
        raise NotImplementedError

    def value(self, p) -> np.ndarray:
        x, y = _split(as_points(p, 2))
        v = self.f(x, y)
        if type(v) is np.ndarray and v.shape == x.shape and v.dtype == np.float64:
            return v  # the usual case: skip broadcast_to/astype (a few µs per call for one start)
        return np.broadcast_to(v, x.shape).astype(float, copy=False)

    def gradient(self, p) -> np.ndarray:
        x, y = _split(as_points(p, 2))
        gx, gy = self.grad_xy(x, y)
        out = _like_points(p, x.shape)
        out[..., 0] = gx
        out[..., 1] = gy
        return out

    def hessian(self, p) -> np.ndarray:
        x, y = _split(as_points(p, 2))
        hxx, hxy, hyy = self.hess_xy(x, y)
        return hessian_2d(hxx, hxy, hyy, x.shape)

    #: Optional ``f_grad_xy(x, y) -> (f, fx, fy)`` sharing subexpressions between f and ∇f; it must compute
    #: each with the same operations as :meth:`f` and :meth:`grad_xy` (so the same bits).
    f_grad_xy = None
    #: Optional ``f_grad_into(x, y, gx, gy) -> f`` beside :meth:`f_grad_xy`: the same operations (so the same
    #: bits), writing ∇f into ``gx`` and ``gy`` (the columns of the gradient array) and working in place on
    #: its own temporaries: fewer arrays made per call. Used from :data:`INTO_MIN_POINTS` points on (for a
    #: few points the extra ``out=`` arguments cost more than the arrays they save).
    f_grad_into = None

    def value_and_gradient(self, p) -> tuple[np.ndarray, np.ndarray]:
        if self.f_grad_into is not None and type(p) is np.ndarray and p.size >= 2 * INTO_MIN_POINTS:
            q = as_points(p, 2)
            x, y = _split(q)
            out = _like_points(p, x.shape)
            v = self.f_grad_into(x, y, out[..., 0], out[..., 1])
            if not (type(v) is np.ndarray and v.shape == x.shape and v.dtype == np.float64):
                v = np.broadcast_to(v, x.shape).astype(float, copy=False)
            return v, out
        if self.f_grad_xy is None:
            return self.value(p), self.gradient(p)
        x, y = _split(as_points(p, 2))
        v, gx, gy = self.f_grad_xy(x, y)
        if not (type(v) is np.ndarray and v.shape == x.shape and v.dtype == np.float64):
            v = np.broadcast_to(v, x.shape).astype(float, copy=False)
        out = _like_points(p, x.shape)
        out[..., 0] = gx
        out[..., 1] = gy
        return v, out


def critical(points: Sequence[tuple[Sequence[float], str, str]], objective: Objective) -> tuple[CriticalPoint, ...]:
    """Build :class:`CriticalPoint` records, computing each value from the objective itself."""
    out = []
    for x, kind, label in points:
        x = tuple(float(v) for v in x)
        out.append(CriticalPoint(x, kind, float(objective.value(np.array(x))), label))
    return tuple(out)
