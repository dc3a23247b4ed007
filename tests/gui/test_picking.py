"""Picking the surface point under the mouse: pure numpy, any camera angle, holes, misses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdstudio.gui.picking import bilinear, mouse_ray, pick_surface, project

pytestmark = pytest.mark.gui


def perspective(fov_deg, aspect, near, far):
    f = 1 / math.tan(math.radians(fov_deg) / 2)
    return np.array([[f / aspect, 0, 0, 0], [0, f, 0, 0],
                     [0, 0, (far + near) / (near - far), 2 * far * near / (near - far)], [0, 0, -1, 0]])


def look_at(eye, target, up=(0, 0, 1)):
    eye, target, up = map(lambda v: np.asarray(v, float), (eye, target, up))
    f = target - eye
    f /= np.linalg.norm(f)
    s = np.cross(f, up)
    s /= np.linalg.norm(s)
    u = np.cross(s, f)
    m = np.eye(4)
    m[0, :3], m[1, :3], m[2, :3] = s, u, -f
    m[:3, 3] = -m[:3, :3] @ eye
    return m


def bowl():
    X = np.linspace(-1, 1, 101)
    Y = np.linspace(-1, 1, 81)
    Z = 0.5 * (X[:, None] ** 2 + Y[None, :] ** 2)
    return X, Y, Z


def test_bilinear_is_exact_on_planes_and_nan_outside():
    X, Y = np.linspace(0, 2, 5), np.linspace(-1, 1, 7)
    Z = 3 * X[:, None] - 2 * Y[None, :] + 1
    q = np.array([0.3, 1.7, 1.99]), np.array([-0.9, 0.2, 0.999])
    assert np.allclose(bilinear(X, Y, Z, *q), 3 * q[0] - 2 * q[1] + 1)
    assert np.isnan(bilinear(X, Y, Z, np.array([2.5]), np.array([0.0]))).all()


@pytest.mark.parametrize("eye", [(3, -2, 5), (-2.5, -2.5, 4.5), (0.5, 3, 4), (-3, 1, 5), (0.3, -0.2, 4)])
@pytest.mark.parametrize("target_xy", [(0.2, -0.3), (-0.5, 0.4)])
def test_pick_finds_the_projected_surface_point_from_any_angle(eye, target_xy):
    X, Y, Z = bowl()
    tx, ty = target_xy
    point = np.array([tx, ty, 0.5 * (tx**2 + ty**2)])
    w, h = 800, 600
    mvp = perspective(50, w / h, 0.1, 100) @ look_at(eye, (0, 0, 0.2))
    px, py = project(mvp, point, w, h)
    o, d = mouse_ray(mvp, px, py, w, h)
    hit = pick_surface(o, d, X, Y, Z)
    assert hit is not None
    assert np.allclose(hit[:2], point[:2], atol=2e-3)


def test_pick_misses_outside_and_skips_holes():
    X, Y, Z = bowl()
    w, h = 800, 600
    mvp = perspective(50, w / h, 0.1, 100) @ look_at((0, -0.01, 5), (0, 0, 0))
    o, d = mouse_ray(mvp, 2, 2, w, h)  # a corner of the window: beyond the surface
    assert pick_surface(o, d, X, Y, Z) is None
    Zh = Z.copy()
    Zh[:, :] = np.nan
    o, d = mouse_ray(mvp, w / 2, h / 2, w, h)
    assert pick_surface(o, d, X, Y, Zh) is None
    assert pick_surface(o, d, X, Y, Z) is not None
