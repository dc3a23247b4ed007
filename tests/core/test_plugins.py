"""Optimizer plugins: entry points of the group gdstudio.optimizers are registered beside the built-ins;
a broken one is reported (log and `gdstudio list`) and skipped."""

import importlib.metadata
import io
import logging

import numpy as np
import pytest

from gdstudio.cli import cmd_list, main
from gdstudio.core import optimizers
from gdstudio.core.export import read_csv
from gdstudio.core.optimizers import HyperParam, Optimizer, Update
from gdstudio.core.optimizers.base import lr_param
from gdstudio.core.runs import RunConfig, run


class HalfStep(Optimizer):
    """x ← x − ε/2 · ∇f (a plugin's optimizer)."""

    name = "half-step"
    title = "Half step"
    rule = "x ← x − ε∇f/2"
    hyperparams = (lr_param(0.1), HyperParam("scale", 0.5, 0.0, 1.0, doc="the fraction of the step"))

    def update(self, x, g, state, problem, rng):
        return Update(x - self.hp["scale"] * self.hp["lr"] * g, state)


class NotAnOptimizer:
    name = "nope"


class BadDefaults(Optimizer):
    name = "bad-defaults"
    hyperparams = (HyperParam("lr", -1.0, 0.0, 1.0),)


class Clash(HalfStep):
    name = "adam"


class FakeEntryPoint:
    def __init__(self, name, value, target):
        self.name, self.value, self._target = name, value, target

    def load(self):
        if isinstance(self._target, Exception):
            raise self._target
        return self._target


@pytest.fixture
def registry(monkeypatch):
    """The registry as it was, restored after the test."""
    monkeypatch.setattr(optimizers, "OPTIMIZERS", dict(optimizers.OPTIMIZERS))
    monkeypatch.setattr(optimizers, "PLUGINS", {})
    monkeypatch.setattr(optimizers, "SKIPPED_PLUGINS", {})
    return optimizers


def fake_entry_points(eps):
    def entry_points(*, group=None):
        assert group == "gdstudio.optimizers"
        return eps
    return entry_points


def test_a_plugin_is_registered_beside_the_builtins_and_broken_ones_are_skipped(registry, monkeypatch, caplog,
                                                                               tmp_path):
    eps = [
        FakeEntryPoint("half-step", "halfpkg:HalfStep", HalfStep),
        FakeEntryPoint("broken-import", "brokenpkg:Opt", ImportError("No module named 'brokenpkg'")),
        FakeEntryPoint("nope", "nopepkg:NotAnOptimizer", NotAnOptimizer),
        FakeEntryPoint("bad-defaults", "badpkg:BadDefaults", BadDefaults),
        FakeEntryPoint("clash", "clashpkg:Clash", Clash),
    ]
    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points(eps))
    with caplog.at_level(logging.WARNING, logger="gdstudio.plugins"):
        added = registry.load_plugins()
    assert list(added) == ["half-step"]
    assert registry.optimizer_class("half-step") is HalfStep
    assert list(registry.OPTIMIZERS)[-1] == "half-step" and registry.PLUGINS == {"half-step": "halfpkg:HalfStep"}
    skipped = registry.SKIPPED_PLUGINS
    assert set(skipped) == {"broken-import", "nope", "bad-defaults", "clash"}
    assert "ImportError: No module named 'brokenpkg'" in skipped["broken-import"]
    assert "not a subclass" in skipped["nope"]
    assert "lr must be in" in skipped["bad-defaults"]
    assert "already taken by a built-in" in skipped["clash"]
    assert registry.optimizer_class("adam").__module__ == "gdstudio.core.optimizers.adaptive"
    assert len([r for r in caplog.records if "skipped" in r.getMessage()]) == 4

    # it runs like a built-in: hyperparameters from the spec, --set, the registry's name
    r = run(RunConfig.create(objective="sphere", optimizer="half-step", starts=[(1.0, 0.0)], epochs=1,
                             hyperparams={"scale": 1.0}))
    np.testing.assert_allclose(r[0].x[-1], [0.8, 0.0])
    out = io.StringIO()
    cmd_list(out)
    text = out.getvalue()
    assert "half-step" in text and "[plugin halfpkg:HalfStep]" in text and "scale=0.5" in text
    assert "broken-import        skipped plugin: ImportError" in text
    assert "clash                skipped plugin:" in text
    assert main(["run", "--objective", "sphere", "--optimizer", "half-step", "--set", "scale=0.2",
                 "--start", "1", "0", "--epochs", "1", "--out", str(tmp_path / "h.csv")]) == 0
    assert read_csv(tmp_path / "h.csv")["x"][-1] == pytest.approx(1 - 0.2 * 0.1 * 2)


def test_unreadable_entry_points_do_not_stop_the_app(registry, monkeypatch):
    def boom(*, group=None):
        raise RuntimeError("corrupt metadata")

    monkeypatch.setattr(importlib.metadata, "entry_points", boom)
    assert registry.load_plugins() == {}
    assert "corrupt metadata" in registry.SKIPPED_PLUGINS["(entry points)"]
    assert "gd" in registry.OPTIMIZERS
