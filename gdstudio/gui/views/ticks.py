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
    """A pyqtgraph ``AxisItem.logTickStrings`` replacement: ``values`` are log10 of the numbers shown."""
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


__all__ = ["log_axis_strings", "log_label", "superscript"]
