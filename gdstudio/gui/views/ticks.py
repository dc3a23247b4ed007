"""Tick labels of logarithmic axes in one notation: powers of ten as 10ⁿ (10⁻⁶, 10⁰, 10², 10⁶).

pyqtgraph's log axis labels ``"%0.1g"``: 0.01 and 100 come out as ``0.01`` and ``10²``; Python's
``f"{v:.3g}"`` writes ``1e+06``. A chart that shows 10², 0.01, 10⁻⁶ and 1e+06 side by side is hard to read
on a projector, so every log axis of the window labels through :func:`log_label`.
"""

from __future__ import annotations

import math

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def superscript(n: int) -> str:
    return str(n).translate(_SUPERSCRIPT)


def log_label(v: float, plain: tuple[float, float] | None = None) -> str:
    """``v`` as ``10ⁿ`` when it is a power of ten, else ``m·10ⁿ`` (3 significant digits).

    ``plain=(lo, hi)``: values that are not powers of ten and whose magnitude lies in [lo, hi) are written
    plainly (``98.8``), e.g. on a colour bar whose ticks are f_min + 10ᵏ.
    """
    v = float(v)
    if v == 0:
        return "0"
    if not math.isfinite(v):
        return str(v)
    sign = "−" if v < 0 else ""
    a = abs(v)
    e = math.floor(math.log10(a))
    m = round(a / 10.0**e, 2)
    if m >= 10:
        m, e = m / 10, e + 1
    if math.isclose(m, 1.0, rel_tol=0, abs_tol=1e-9):
        return f"{sign}10{superscript(e)}"
    if plain is not None and plain[0] <= a < plain[1]:
        return f"{sign}{a:.3g}"
    return f"{sign}{m:g}·10{superscript(e)}"


#: Between decades (a log axis spanning about one decade) only these multiples are labelled: 2·10ⁿ and 5·10ⁿ,
#: as on printed log paper; eight labels per decade overlap on a 150-pixel chart.
MINOR_LABELLED = (2.0, 5.0)


def log_axis_strings(values, scale: float, spacing: float) -> list[str]:
    """A pyqtgraph ``AxisItem.logTickStrings`` replacement: ``values`` are log10 of the numbers shown.

    When fewer than two of ``values`` are powers of ten or :data:`MINOR_LABELLED` multiples (an axis spanning
    part of a decade, e.g. a loss falling from 2.21 to 2.11), every value is labelled, with the digits that tell
    neighbours apart: an axis with one number or none cannot be read."""
    out = _log_axis_strings(values, scale)
    if len(values) > 1 and sum(bool(s) for s in out) < 2:
        x = [10.0 ** float(v) * scale for v in values]
        gaps = [abs(b - a) for a, b in zip(x, x[1:]) if b != a]
        top = max(abs(v) for v in x)
        # as many significant digits as tell neighbouring ticks apart (at least 3)
        digits = max(3, math.ceil(math.log10(top / min(gaps))) + 1) if gaps and top > 0 else 3
        out = [f"{v:.{digits}g}" if 1e-3 <= abs(v) < 1e4 else log_label(v) for v in x]
    return out


def _log_axis_strings(values, scale: float) -> list[str]:
    out = []
    for v in values:
        x = 10.0 ** float(v) * scale
        if x > 0 and math.isfinite(x):
            m = x / 10.0 ** math.floor(math.log10(x) + 1e-9)
            if not math.isclose(m, 1.0, abs_tol=1e-6) and not any(math.isclose(m, k, abs_tol=1e-6)
                                                                  for k in MINOR_LABELLED):
                out.append("")
                continue
        out.append(log_label(x))
    return out


def log_tick_values(values_in_decades, min_val: float, max_val: float) -> list:
    """Tick levels of a log axis (``min_val``, ``max_val``: log10 of the range shown), for an
    ``AxisItem.logTickValues`` wrapper. ``values_in_decades`` are pyqtgraph's own levels (at 1…9·10ⁿ); when
    they hold fewer than two ticks (a range within a small part of a decade) the ticks are put at round values
    of the numbers shown instead (steps of 1, 2 or 5·10ᵏ, two to five of them), so the axis has numbers."""
    if sum(len(v) for _, v in values_in_decades) >= 2:
        return values_in_decades
    lo, hi = 10.0 ** min_val, 10.0 ** max_val
    if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo > 0):
        return values_in_decades
    d = (hi - lo) / 5
    p = 10.0 ** math.floor(math.log10(d))
    step = next(k * p for k in (1, 2, 5, 10) if k * p >= d * (1 - 1e-9))
    first = math.ceil(lo / step) * step
    vals = [first + i * step for i in range(int((hi - first) / step) + 1)]
    return [(None, [math.log10(v) for v in vals if lo <= v <= hi])]


def install_log_ticks(axis) -> None:
    """Give a pyqtgraph ``AxisItem`` the window's log ticks: 10ⁿ labels (:func:`log_axis_strings`) and numbers
    on a range within a decade (:func:`log_tick_values`)."""
    orig = axis.logTickValues
    axis.logTickStrings = log_axis_strings
    axis.logTickValues = lambda min_val, max_val, size, std: log_tick_values(orig(min_val, max_val, size, std),
                                                                             min_val, max_val)


__all__ = ["install_log_ticks", "log_axis_strings", "log_label", "log_tick_values", "superscript"]
