"""Items 2, 3, 11 (core): a session file is checked whole and bounded before anything is built."""

from __future__ import annotations

import json

import pytest

from gdstudio.core import session as S
from gdstudio.core.runs import RunConfig


def base(**config):
    cfg = {"objective": "booth", "optimizer": "gd", "starts": [[1.0, 2.0]], "epochs": 10, **config}
    return {"format": S.FORMAT, "version": S.VERSION, "objective": {"spec": "booth", "params": {}},
            "runs": [{"config": cfg}], "view": {}}


@pytest.mark.parametrize("doc, message", [
    (base(name="n" * 10_000_000), "10,000,000 characters long"),
    ({**base(), "view": {"title": "t" * 10_000_000}}, "characters long"),
    ({**base(), "runs": base()["runs"] * 1000}, "1,000 runs"),
    (base(epochs=10**9), "epochs is 1,000,000,000"),
    (base(epochs=2**31), "epochs is 2,147,483,648"),
    (base(starts=[[0.0, 0.0]] * 10_001), "10,001 items"),
    ({**base(), "runs": [{"config": {**base()["runs"][0]["config"], "starts": [[0.0, 0.0]] * 5000,
                                     "epochs": 100_000}}]}, "steps in all"),
    (base(seed=10**400), "401 digits"),
    ({**base(), "runs": [{"config": {**base()["runs"][0]["config"], "starts": [[0.0, 0.0]] * 500}}] * 21},
     "10,500 start points in all"),
])
def test_oversized_sessions_are_refused_with_a_message(doc, message):
    with pytest.raises(S.SessionError, match=message):
        S.loads(json.dumps(doc))


def test_a_formula_is_not_compiled_when_the_file_is_refused_for_its_size(monkeypatch):
    from gdstudio.core import formula

    def never(*_a, **_k):
        raise AssertionError("compiled a formula of a file that is refused anyway")

    monkeypatch.setattr(formula, "compile_formula", never)
    doc = base(objective="expr:x^2 + y^2")
    doc["runs"] = doc["runs"] * 101
    with pytest.raises(S.SessionError, match="101 runs"):
        S.loads(json.dumps(doc))


def test_a_lone_surrogate_in_a_name_saves_and_reads_back(tmp_path):
    name = "bad \udcff name"
    s = S.Session("booth", runs=(S.SessionRun(RunConfig.create("booth", "gd", [[1.0, 2.0]], 3, name=name)),))
    path = S.save(tmp_path / "s.gdsession", s)
    assert S.load(path).runs[0].name == name
    assert b"\\udcff" in path.read_bytes()  # escaped: the file is valid UTF-8
