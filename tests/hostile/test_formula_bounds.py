"""Item 9 (core): compile work is bounded, and compiles are cached by the normalised formula."""

from __future__ import annotations

import pytest

from gdstudio.core import formula as F


def chain(n: int, head: str = "x*y") -> str:
    s = "x"
    for _ in range(n):
        s = f"{head}/({s}+1)"
    return s


def test_the_slow_chains_of_the_report_are_refused_by_size():
    text = " + ".join(chain(20, h) for h in ("x*y", "y*x", "x*x"))  # 17–20 s to compile before
    assert len(text) <= F.MAX_LENGTH
    with pytest.raises(F.FormulaError, match="too large for symbolic derivatives"):
        F.compile_formula(text)


def test_a_formula_within_the_bounds_still_compiles():
    assert F.compile_formula(chain(10)).f(1.0, 2.0) == pytest.approx(F.compile_formula(chain(10)).f(1.0, 2.0))


def test_the_compile_is_shared_by_every_spelling_of_a_formula():
    a = F.compile_formula("x^2+3*y^2")
    b = F.compile_formula("x**2 + 3*y**2")
    assert a.grad is b.grad  # derived and compiled once
    assert a.text == "x^2+3*y^2" and b.text == "x**2 + 3*y**2"


def test_errors_of_a_differently_spelled_formula_point_into_the_typed_text():
    with pytest.raises(F.FormulaError) as e:
        F.compile_formula("x**2  +  y/0")
    assert "x**2  +  y/0"[e.value.position:e.value.end] == "y/0"


def test_the_time_budget_refuses_with_a_clear_message(monkeypatch):
    monkeypatch.setattr(F, "COMPILE_BUDGET_S", -1.0)
    F.clear_cache()
    with pytest.raises(F.FormulaError, match="takes too long"):
        F.compile_formula("sin(x)*cos(y) + 0.25*x*y")
    monkeypatch.undo()
    F.clear_cache()
    assert F.compile_formula("sin(x)*cos(y) + 0.25*x*y")
