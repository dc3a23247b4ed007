"""A rule names itself by a comment on its first line (gdstudio.core.rules.rule_name / rule_label)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gdstudio.core.rules import MAX_TITLE, compile_rule, rule_label, rule_name


def test_names_from_the_first_comment_line():
    assert rule_name("rule:# heavy ball\nv = 0.5*v + g\nx = x - lr*v") == "heavy ball"
    assert rule_name("rule:   #   spaced out  \nx = x - lr*g") == "spaced out"
    assert rule_name("rule:x = x - lr*g  # not a name") == ""
    assert rule_name("rule:x = x - lr*g\n# second line") == ""
    assert rule_name("rule:#\nx = x - lr*g") == "" and rule_name("rule:#") == ""
    assert rule_name("rule:# a\rb\nx = x") == "a" and rule_name("rule:# a\u2028b") == "a"
    assert rule_name("rule:# tab\there,  two\nx = x") == "tab here, two"  # control characters and runs of spaces
    assert rule_name("gd") == "" and rule_name(None) == ""
    assert rule_name("rule:# " + "n" * 100 + "\nx = x") == "n" * (MAX_TITLE - 1) + "…"
    assert rule_label("rule:# heavy ball\nx = x") == "heavy ball"
    assert rule_label("rule:x = x - lr*g") == "own rule" and rule_label("adam") == "adam"
    compile_rule("# heavy ball\nv = 0.5*v + g\nx = x - lr*v")  # the name is a comment: the rule still compiles


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_text_gives_a_short_single_line_name(text):
    name = rule_name("rule:" + text)
    assert len(name) <= MAX_TITLE and name.isprintable() and name == name.strip()
    label = rule_label("rule:" + text)
    assert label == (name or "own rule")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=30)
       .map(lambda t: " ".join(t.split())).filter(lambda t: t and t.isprintable()))
@settings(max_examples=200, deadline=None)
def test_a_written_name_comes_back(name):
    assert rule_name(f"rule:# {name}\nx = x - lr*g") == name
