"""Helpers shared by the analysis modules: argument checks and the square grid of local pictures."""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from gdstudio.core.objectives.base import as_point as _point  # noqa: F401 (shared by the modules)


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


def _extent(extent) -> float:
    try:
        e = float(extent)
    except (TypeError, ValueError):
        raise ValueError(f"extent must be a positive number, got {extent!r}") from None
    if not (math.isfinite(e) and e > 0):
        raise ValueError(f"extent must be a positive number, got {extent!r}")
    return e


def _resolution(resolution, low: int = 2) -> int:
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or resolution < low:
        raise ValueError(f"resolution must be a whole number ≥ {low}, got {resolution!r}")
    return int(resolution)


def _square_grid(x: np.ndarray, extent: float, resolution: int):
    """``xs, ys, h`` for the square ``x ± extent``: ``h[i, j] = (xs[i], ys[j]) − x`` of shape (R, R, 2)."""
    if len(x) != 2:
        raise ValueError(f"grids are drawn for two-dimensional objectives only, this one has d = {len(x)}")
    t = np.linspace(-extent, extent, resolution)
    h = np.stack(np.meshgrid(t, t, indexing="ij"), axis=-1)
    return x[0] + t, x[1] + t, h
