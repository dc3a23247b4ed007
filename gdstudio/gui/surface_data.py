"""What both surface views show: the sampled loss, its display scale, contour levels and the 3D box.

No new mathematics here: the loss values come from the core (:meth:`Objective.grid`); this module only
chooses how to *show* them.

Display scale. Functions that span decades (``objective.log_levels``: Rosenbrock, Beale,
Goldstein–Price...) are coloured, contoured and drawn in 3D by

.. math:: c(f) = \\log(1 + f - f_\\min)

where :math:`f_\\min` is the smallest sampled (or known) value, so equally spaced levels of :math:`c` are
log-spaced in :math:`f` and the valley floor is visible. Others use :math:`c(f) = f`.

3D box. The surface is drawn in a normalised box: :math:`X = (x - x_c)/r_x`, :math:`Y = (y - y_c)/r_y`
in [−1, 1] and :math:`Z = Z_\\text{span}\\,(c - c_\\min)/(c_\\max - c_\\min)` in [0, ``Z_SPAN``], so every
objective gets the same good camera. :meth:`SurfaceData.to_world` and :meth:`from_world` convert.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdstudio.core.objectives import Objective

#: Height of the 3D box (the x-y square is [−1, 1]²).
Z_SPAN = 1.2

#: Grid resolution per axis.
RESOLUTION = 200


@dataclass
class SurfaceData:
    objective: Objective | None  # None for a sampled grid without an objective (a model's loss slice)
    xs: np.ndarray
    ys: np.ndarray
    f: np.ndarray  # (W, H) loss, NaN where undefined; f[i, j] = f(xs[i], ys[j])
    log: bool
    fmin: float
    c: np.ndarray  # display values c(f), NaN where undefined
    cmin: float
    cmax: float

    @classmethod
    def from_objective(cls, objective: Objective, resolution: int = RESOLUTION, domain=None) -> "SurfaceData":
        xs, ys, f = objective.grid(resolution, domain)
        finite = np.isfinite(f)
        fmin = float(np.min(f[finite])) if finite.any() else 0.0
        for cp in objective.minima():
            if np.isfinite(cp.value):
                fmin = min(fmin, float(cp.value))
        log = bool(objective.log_levels)
        obj = cls(objective, xs, ys, f, log, fmin, np.empty(0), 0.0, 1.0)
        obj.c = obj.display(f)
        cf = obj.c[np.isfinite(obj.c)]
        if cf.size:
            obj.cmin = float(cf.min())
            obj.cmax = float(cf.max())
            if not obj.cmax > obj.cmin:
                obj.cmax = obj.cmin + 1.0
        return obj

    @classmethod
    def from_grid(cls, xs, ys, f) -> "SurfaceData":
        """A surface sampled elsewhere (a model's loss slice from the core: ``f[i, j]`` at ``(xs[i], ys[j])``),
        shown on the same scales as a function's. Log-compressed (see the module docstring) when its finite
        values span more than a decade (max > 10 · min > 0), as a training loss around its minimum does."""
        xs, ys, f = (np.asarray(v, dtype=float) for v in (xs, ys, f))
        finite = f[np.isfinite(f)]
        fmin = float(finite.min()) if finite.size else 0.0
        log = bool(finite.size and fmin > 0 and float(finite.max()) > 10 * fmin)
        obj = cls(None, xs, ys, f, log, fmin, np.empty(0), 0.0, 1.0)
        obj.c = obj.display(f)
        cf = obj.c[np.isfinite(obj.c)]
        if cf.size:
            obj.cmin, obj.cmax = float(cf.min()), float(cf.max())
            if not obj.cmax > obj.cmin:
                obj.cmax = obj.cmin + 1.0
        return obj

    # --- scales --------------------------------------------------------------------------------------
    def display(self, f) -> np.ndarray:
        """The display value c(f) (log-compressed for log_levels objectives); NaN stays NaN."""
        f = np.asarray(f, dtype=float)
        if not self.log:
            return f.copy()
        with np.errstate(invalid="ignore"):
            return np.log1p(np.maximum(f - self.fmin, 0.0))

    def inverse_display(self, c) -> np.ndarray:
        c = np.asarray(c, dtype=float)
        return np.expm1(c) + self.fmin if self.log else c

    def levels(self, n: int = 14) -> np.ndarray:
        """Contour levels, equally spaced in c (so log-spaced in f for log_levels objectives).

        For non-log objectives, quadratic spacing in f puts more lines near the minimum, where paths end.
        """
        t = np.linspace(0, 1, n + 2)[1:-1]
        if not self.log:
            t = t**2
        return self.cmin + t * (self.cmax - self.cmin)

    @property
    def domain(self) -> tuple[tuple[float, float], tuple[float, float]]:
        return (float(self.xs[0]), float(self.xs[-1])), (float(self.ys[0]), float(self.ys[-1]))

    # --- the 3D box --------------------------------------------------------------------------------
    def _box(self):
        (x0, x1), (y0, y1) = self.domain
        return (x0 + x1) / 2, (x1 - x0) / 2 or 1.0, (y0 + y1) / 2, (y1 - y0) / 2 or 1.0

    def z_of_c(self, c) -> np.ndarray:
        return Z_SPAN * (np.asarray(c, dtype=float) - self.cmin) / (self.cmax - self.cmin)

    def to_world(self, x, y, f) -> np.ndarray:
        """(..., 3) world coordinates of points (x, y) at loss f."""
        cx, rx, cy, ry = self._box()
        X = (np.asarray(x, dtype=float) - cx) / rx
        Y = (np.asarray(y, dtype=float) - cy) / ry
        Z = self.z_of_c(self.display(f))
        return np.stack(np.broadcast_arrays(X, Y, Z), axis=-1)

    def from_world(self, X, Y) -> tuple[np.ndarray, np.ndarray]:
        cx, rx, cy, ry = self._box()
        return np.asarray(X) * rx + cx, np.asarray(Y) * ry + cy

    def world_grid(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Grid axes X (W,), Y (H,) and heights Z (W, H) in world coordinates (NaN where undefined)."""
        cx, rx, cy, ry = self._box()
        return (self.xs - cx) / rx, (self.ys - cy) / ry, self.z_of_c(self.c)
