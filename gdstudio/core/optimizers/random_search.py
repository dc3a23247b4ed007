"""Random search: baselines that use no gradient at all, only values of f.

Both keep the best point found so far (``x`` is always that point; a rejected sample leaves it
unchanged) and draw their random numbers only from the run's :class:`~gdstudio.core.random.Streams`,
so a seed reproduces a run and start ``i`` of an ``N``-start run equals a single run with seed
``seed + i``. ``info`` carries the sample of the step and its loss, for drawing.
"""

from __future__ import annotations

import numpy as np

from gdstudio.core.optimizers.base import HyperParam, Optimizer, Update


def sample_box(objective, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper corners ``(d,)`` of the box random search samples.

    Axis ``i`` uses the objective's view domain ``objective.domain[i]``; when the domain lists fewer
    pairs than ``d`` (a many-parameter model shown through two axes), the remaining axes use the
    last pair given.
    """
    dom = list(getattr(objective, "domain", ()) or [(-1.0, 1.0)])
    pairs = [dom[min(i, len(dom) - 1)] for i in range(d)]
    lo, hi = np.array(pairs, dtype=float).T
    return lo, hi


def _accept(x, fx, cand, fc):
    """Keep ``cand`` where its loss is lower (a NaN loss never wins); return the new x and f."""
    better = fc < fx
    return np.where(better[:, None], cand, x), np.where(better, fc, fx), better


class RandomSearch(Optimizer):
    r"""Pure random search: sample the view domain uniformly, keep the best point seen.

    .. math::

        z_k \sim \mathcal U(\text{domain}), \qquad
        x_{k+1} = \begin{cases} z_k & f(z_k) < f(x_k) \\ x_k & \text{otherwise} \end{cases}

    The domain is the objective's view box (:func:`sample_box` for d > 2). No gradient is used; the
    number of samples needed to get within δ of the minimum grows like :math:`(1/\delta)^d` — the
    baseline every other method should beat.

    ``info`` per step: ``sample`` (N, d) the point drawn, ``sample_f`` (N,) its loss, ``accepted``
    (N,) 1 where it became the new best.

    State: ``f`` (N,) the loss at the best point. Reference: Rastrigin (1963), The convergence of the
    random search method in the extremal control of a many parameter system; Spall (2003),
    Introduction to Stochastic Search and Optimization, ch. 2.
    """

    name = "random-search"
    title = "Random search"
    rule = "z ~ U(domain);  x ← z if f(z) < f(x)"
    reference = "Rastrigin (1963); Spall (2003), Introduction to Stochastic Search and Optimization, ch. 2"
    hyperparams = ()
    stochastic = True

    def init(self, x, g, problem, rng):
        return {"f": np.asarray(problem.value(x), dtype=float).copy()}

    def update(self, x, g, state, problem, rng):
        lo, hi = sample_box(problem.objective, x.shape[1])
        z = lo + (hi - lo) * rng.uniform(x.shape[1])
        fz = np.asarray(problem.value(z), dtype=float)
        x_new, f_new, better = _accept(x, state["f"], z, fz)
        return Update(x_new, {"f": f_new}, info={"sample": z, "sample_f": fz, "accepted": better.astype(float)})


class RandomLocalSearch(Optimizer):
    r"""Random local search: try a Gaussian step from the best point, keep it if the loss drops.

    .. math::

        z_k = x_k + \sigma\,\xi_k, \quad \xi_k \sim \mathcal N(0, I_d), \qquad
        x_{k+1} = \begin{cases} z_k & f(z_k) < f(x_k) \\ x_k & \text{otherwise} \end{cases}

    (σ = ``scale``). A (1+1) evolution strategy with a fixed step size: it walks downhill without
    a gradient, fast while σ matches the scale of the valley, slowly once it is too large to find
    improvements near the minimum.

    ``info`` per step: ``sample`` (N, d), ``sample_f`` (N,), ``accepted`` (N,) as in :class:`RandomSearch`.

    State: ``f`` (N,) the loss at the best point. Reference: Matyas (1965), Random optimization;
    Rechenberg (1973), Evolutionsstrategie.
    """

    name = "random-local-search"
    title = "Random local search"
    rule = "z = x + σξ, ξ ~ N(0, I);  x ← z if f(z) < f(x)"
    reference = "Matyas (1965), Random optimization; Rechenberg (1973), Evolutionsstrategie"
    hyperparams = (
        HyperParam("scale", 0.1, 0.0, np.inf, low_open=True, log=True, symbol="σ",
                   doc="standard deviation σ of the random step (per coordinate)"),
    )
    stochastic = True

    def init(self, x, g, problem, rng):
        return {"f": np.asarray(problem.value(x), dtype=float).copy()}

    def update(self, x, g, state, problem, rng):
        z = x + self.hp["scale"] * rng.normal(x.shape[1])
        fz = np.asarray(problem.value(z), dtype=float)
        x_new, f_new, better = _accept(x, state["f"], z, fz)
        return Update(x_new, {"f": f_new}, info={"sample": z, "sample_f": fz, "accepted": better.astype(float)})
