"""Which point of a drawn height field lies under the mouse: unproject, march, bisect.

Pure numpy (no Qt), so it is tested without a screen.

1. *Unproject.* With ``M = P·V`` the projection times the view matrix, a window position (px, py) in a
   viewport of size (w, h) has normalised device coordinates ``n = (2px/w − 1, 1 − 2py/h)``; the points
   ``M⁻¹ (n, −1, 1)`` and ``M⁻¹ (n, 1, 1)`` (after division by w) are where the mouse ray meets the near
   and far clipping planes.
2. *March.* Clip the ray to the box that holds the surface, sample it, and compare the ray's height with
   the surface's height below each sample (bilinear interpolation of the drawn grid, the same heights the
   view draws, z-scaling included).
3. *Bisect* between the last sample on the camera's side and the first on the other side.
"""

from __future__ import annotations

import numpy as np


def qmatrix_to_numpy(m) -> np.ndarray:
    """A QMatrix4x4 as a (4, 4) numpy array (Qt stores it column-major)."""
    return np.array(m.data(), dtype=float).reshape(4, 4).T


def mouse_ray(mvp: np.ndarray, px: float, py: float, width: float, height: float) -> tuple[np.ndarray, np.ndarray]:
    """Origin and direction (world coordinates) of the ray under window position (px, py)."""
    inv = np.linalg.inv(mvp)
    nx = 2.0 * px / width - 1.0
    ny = 1.0 - 2.0 * py / height
    near = inv @ np.array([nx, ny, -1.0, 1.0])
    far = inv @ np.array([nx, ny, 1.0, 1.0])
    near = near[:3] / near[3]
    far = far[:3] / far[3]
    return near, far - near


def project(mvp: np.ndarray, point, width: float, height: float) -> tuple[float, float]:
    """Window position (px, py) of a world point: the inverse of :func:`mouse_ray`."""
    p = mvp @ np.append(np.asarray(point, dtype=float), 1.0)
    n = p[:3] / p[3]
    return (n[0] + 1.0) * width / 2.0, (1.0 - n[1]) * height / 2.0


def bilinear(X: np.ndarray, Y: np.ndarray, Z: np.ndarray, qx, qy) -> np.ndarray:
    """Heights of the grid Z (Z[i, j] at X[i], Y[j], both increasing) at query points; NaN outside."""
    qx = np.asarray(qx, dtype=float)
    qy = np.asarray(qy, dtype=float)
    fx = np.interp(qx, X, np.arange(len(X)), left=np.nan, right=np.nan)
    fy = np.interp(qy, Y, np.arange(len(Y)), left=np.nan, right=np.nan)
    ok = np.isfinite(fx) & np.isfinite(fy)
    out = np.full(np.shape(qx), np.nan)
    if not ok.any():
        return out
    fx, fy = fx[ok], fy[ok]
    i = np.clip(np.floor(fx).astype(int), 0, len(X) - 2)
    j = np.clip(np.floor(fy).astype(int), 0, len(Y) - 2)
    tx, ty = fx - i, fy - j
    z = (Z[i, j] * (1 - tx) * (1 - ty) + Z[i + 1, j] * tx * (1 - ty)
         + Z[i, j + 1] * (1 - tx) * ty + Z[i + 1, j + 1] * tx * ty)
    out[ok] = z
    return out


def _clip_to_box(o, d, lo, hi) -> tuple[float, float] | None:
    t0, t1 = 0.0, np.inf
    for a in range(3):
        if abs(d[a]) < 1e-15:
            if not (lo[a] <= o[a] <= hi[a]):
                return None
            continue
        ta, tb = (lo[a] - o[a]) / d[a], (hi[a] - o[a]) / d[a]
        t0, t1 = max(t0, min(ta, tb)), min(t1, max(ta, tb))
    return (t0, t1) if t1 > t0 else None


def pick_surface(origin, direction, X, Y, Z, samples: int = 2048, iterations: int = 50) -> np.ndarray | None:
    """The first point where the ray ``origin + t·direction`` (t ≥ 0) crosses the height field.

    Returns the world point (3,) or None when the ray misses the surface (or only meets holes).
    """
    o, d = np.asarray(origin, float), np.asarray(direction, float)
    zf = Z[np.isfinite(Z)]
    if not zf.size:
        return None
    pad = 1e-6 + 1e-3 * (zf.max() - zf.min())
    span = _clip_to_box(o, d, (X[0], Y[0], zf.min() - pad), (X[-1], Y[-1], zf.max() + pad))
    if span is None:
        return None
    t = np.linspace(span[0], span[1], samples)
    p = o + t[:, None] * d
    s = p[:, 2] - bilinear(X, Y, Z, p[:, 0], p[:, 1])  # ray above (>0) or below (<0) the surface
    sign = np.sign(s)
    valid = np.isfinite(s)
    cross = np.flatnonzero(valid[:-1] & valid[1:] & (sign[:-1] != sign[1:]))
    if not cross.size:
        return None
    i = cross[0]
    a, b = t[i], t[i + 1]
    sa = s[i]
    if sa == 0:
        return o + a * d
    for _ in range(iterations):
        m = 0.5 * (a + b)
        q = o + m * d
        sm = float(q[2] - bilinear(X, Y, Z, q[0:1], q[1:2])[0])
        if not np.isfinite(sm):
            break
        if np.sign(sm) == np.sign(sa):
            a, sa = m, sm
        else:
            b = m
    return o + 0.5 * (a + b) * d
