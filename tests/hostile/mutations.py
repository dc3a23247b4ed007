"""Random mutations of a valid session file (shared by the loader and window property tests)."""

from __future__ import annotations

import copy
import json

from hypothesis import strategies as st

from gdstudio.core import session as S
from gdstudio.core.runs import RunConfig

VALID = S.to_dict(S.Session(
    "booth",
    runs=(S.SessionRun(RunConfig.create("booth", "gd", [(-8.0, 8.0)], 40, {"lr": 0.05}, name="a"), "#1f77b4"),
          S.SessionRun(RunConfig.create("booth", "momentum", [(4.0, -3.0)], 30, {"lr": 0.01, "momentum": 0.8},
                                        seed=3, tol=1e-9, name="b"), "", False)),
    view={"panel": RunConfig.create("booth", "adam", [(1.0, 1.0)], 50, {"lr": 0.1}).to_dict(), "title": ""},
))

ODD_VALUES = st.sampled_from([
    None, True, 0, -1, 2**31, 2**31 - 1, 2**63 + 5, 10**9, 10**400, 1e308, -1e308, 5e-324, 0.5, "", "gd", "booth",
    "expr:x^2 + y^2", "expr:x/0", "expr:" + "x+" * 400 + "x", "\udcff", "=1+1", "<img src=file:///x>", "n" * 5000,
    [], [1.0], [1.0, 2.0, 3.0], [[0.0, 0.0]] * 3, {}, {"lr": -1}, {"lr": "fast"}, "#zzzzzz", "#00ff00",
])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
) | ODD_VALUES


def paths(doc, prefix=()):
    """Every path (tuple of keys/indices) into ``doc``."""
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += paths(v, prefix + (i,))
    return out


ALL_PATHS = paths(VALID)


@st.composite
def mutated_text(draw) -> str:
    """A valid session with 1–3 structural changes (replace, delete, add a key), or a few bytes changed."""
    doc = copy.deepcopy(VALID)
    if draw(st.booleans()):
        for _ in range(draw(st.integers(1, 3))):
            path = draw(st.sampled_from(ALL_PATHS))
            op = draw(st.sampled_from(["replace", "delete", "add"]))
            parent = doc
            try:
                for key in path[:-1]:
                    parent = parent[key]
                if not path:
                    doc = draw(JSON_VALUES)
                    break
                if op == "replace":
                    parent[path[-1]] = draw(JSON_VALUES)
                elif op == "delete":
                    del parent[path[-1]]
                elif isinstance(parent[path[-1]], dict):
                    parent[path[-1]][draw(st.sampled_from(["extra", "seed", "epochs", "name", "title"]))] = \
                        draw(JSON_VALUES)
            except (KeyError, IndexError, TypeError):
                pass  # an earlier change removed or retyped this part
        return json.dumps(doc, ensure_ascii=draw(st.booleans()))
    text = json.dumps(doc)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text) - 1))
        text = text[:i] + draw(st.sampled_from(["", "0", "9", "-", "\"", "{", "]", ",", "e", "\udcff"])) + text[i + 1:]
    return text
