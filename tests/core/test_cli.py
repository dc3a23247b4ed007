"""The command line, run as a user runs it: a subprocess, exit statuses, one-line errors."""

import io
import subprocess
import sys

import numpy as np
import pytest

from gdstudio import __version__
from gdstudio.cli import main
from gdstudio.core.export import read_csv
from gdstudio.core.runs import RunConfig, run


def gd(*args):
    return subprocess.run([sys.executable, "-m", "gdstudio", *args], capture_output=True, text=True, timeout=60)


def test_booth_example_from_the_readme(tmp_path):
    out = tmp_path / "booth.csv"
    p = gd("run", "--objective", "booth", "--optimizer", "gd", "--lr", "0.01", "--epochs", "150",
           "--start", "0", "0", "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""
    assert p.stderr.startswith("run1: completed 150 epochs; 150 steps; final (1.0483, 2.9517); loss 0.00466501")
    back = read_csv(out)
    ref = run(RunConfig.create("booth", "gd", [(0, 0)], 150, {"lr": 0.01}))[0]
    np.testing.assert_array_equal(back["x"], ref.x[:, 0])


def test_csv_to_stdout_and_summary_per_start(capsys):
    code = main(["run", "--objective", "sphere", "--optimizer", "gd", "--lr", "0.1", "--epochs", "5",
                 "--start", "4", "0", "--start", "-1", "2"])
    cap = capsys.readouterr()
    assert code == 0
    back = read_csv(io.StringIO(cap.out))
    assert back["run"].count("run1#0") == 6 and back["run"].count("run1#1") == 6
    assert len(cap.err.strip().splitlines()) == 2


def test_set_and_param_reach_the_run(capsys):
    code = main(["run", "--objective", "booth", "--optimizer", "gd", "--set", "lr=0.05", "--epochs", "2",
                 "--start", "0", "0"])
    assert code == 0
    assert read_csv(io.StringIO(capsys.readouterr().out))["lr"][0] == 0.05


@pytest.mark.parametrize("args, message", [
    (["--objective", "nope"], "unknown objective 'nope' (valid: "),
    (["--optimizer", "nope"], "unknown optimizer 'nope' (valid: "),
    (["--start", "0", "zero"], "'zero' is not a number"),
    (["--start", "inf", "0"], "not a finite number"),
    (["--epochs", "-5"], "'-5' must be ≥ 0"),
    (["--epochs", "2.5"], "not a whole number"),
    (["--set", "nesterovv=1"], "no hyperparameter 'nesterovv' (valid: lr)"),
    (["--set", "lr"], "not of the form KEY=VALUE"),
    (["--lr", "0"], "lr must be in (0, ∞)"),
    (["--gradient", "magic"], "unknown gradient source 'magic' (valid: analytic, central, forward, autodiff)"),
    (["--fd-step", "-1"], "must be > 0"),
    (["--param", "kappa=2"], "has no parameter 'kappa'"),
])
def test_bad_arguments_exit_2_with_one_line(args, message):
    base = {"--objective": "booth", "--optimizer": "gd"}
    argv = ["run"]
    for k, v in base.items():
        if k not in args:
            argv += [k, v]
    if "--start" not in args:
        argv += ["--start", "0", "0"]
    p = gd(*argv, *args)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in p.stderr
    assert message in lines[0]


def test_unwritable_out_is_a_clear_error(tmp_path):
    p = gd("run", "--objective", "booth", "--optimizer", "gd", "--start", "0", "0",
           "--out", str(tmp_path / "no" / "x.csv"))
    assert p.returncode == 1 and "cannot write" in p.stderr and "Traceback" not in p.stderr


def test_list_and_version():
    p = gd("list")
    assert p.returncode == 0
    assert "booth" in p.stdout and "lr=0.01" in p.stdout
    v = gd("--version")
    assert v.returncode == 0 and v.stdout.strip() == f"gdstudio {__version__}"


def test_check_compares_gradients(capsys):
    assert main(["check", "--objective", "booth", "--at", "1", "2", "--fd-step", "1e-3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Booth at (1, 2)"
    assert "(-8, -10)" in out[1]
    # forward differences of a quadratic err by h/2 times the second derivative: (−8 + 0.005, −10 + 0.005)
    assert "(-7.995, -9.995)" in out[3]
    assert float(out[3].rsplit(" ", 1)[1]) == pytest.approx(np.linalg.norm([0.005, 0.005]) / np.hypot(8, 10),
                                                           rel=1e-2)


def test_check_rejects_a_bad_point():
    p = gd("check", "--objective", "booth", "--at", "1")
    assert p.returncode == 2 and "expected 2 arguments" in p.stderr and "Traceback" not in p.stderr
