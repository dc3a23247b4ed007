"""`gdstudio train` and `gdstudio landscape`, run as a user runs them."""

import csv
import subprocess
import sys

import numpy as np
import pytest

from gdstudio.cli import main


def gd(*args):
    return subprocess.run([sys.executable, "-m", "gdstudio", *args], capture_output=True, text=True, timeout=120)


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_train_writes_the_curve(tmp_path):
    out = tmp_path / "curve.csv"
    p = gd("train", "--dataset", "digits", "--model", "svm", "--optimizer", "gd", "--lr", "0.1", "--epochs", "4",
           "--out", str(out))
    assert p.returncode == 0, p.stderr
    r = rows(out)
    assert list(r[0])[:7] == ["step", "epoch", "batch_loss", "train_loss", "val_loss", "train_acc", "val_acc"]
    assert [int(x["step"]) for x in r] == [0, 1, 2, 3, 4]
    assert float(r[0]["train_loss"]) == 9.0 and r[0]["val_loss"] == ""
    assert "completed 4 epochs" in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_landscape_centre_equals_last_train_loss(tmp_path, capsys):
    common = ["--model", "softmax", "--optimizer", "momentum", "--lr", "0.05", "--set", "momentum=0.8",
              "--batch-size", "256", "--val", "0.2", "--epochs", "3", "--seed", "7", "--param", "reg=0.01"]
    assert main(["train", *common, "--out", str(tmp_path / "c.csv")]) == 0
    assert main(["landscape", *common, "--directions", "pca", "--grid", "11", "--span", "0.5",
                 "--out", str(tmp_path / "s.csv")]) == 0
    err = capsys.readouterr().err
    assert "PCA plane of the path" in err
    last = [x for x in rows(tmp_path / "c.csv") if x["train_loss"]][-1]
    sl = rows(tmp_path / "s.csv")
    assert len(sl) == 121 and list(sl[0]) == ["a", "b", "loss"]
    centre = [x for x in sl if float(x["a"]) == 0 and float(x["b"]) == 0]
    assert len(centre) == 1
    assert float(centre[0]["loss"]) == pytest.approx(float(last["train_loss"]), rel=1e-13)
    path = rows(tmp_path / "s-path.csv")
    assert len(path) == len(rows(tmp_path / "c.csv"))
    assert list(path[0]) == ["step", "epoch", "a", "b", "loss", "distance", "miss"]
    assert float(path[-1]["a"]) == pytest.approx(0, abs=1e-12) and path[0]["miss"] == ""


def test_landscape_1d_and_epochs_zero(tmp_path):
    out = tmp_path / "one.csv"
    assert main(["landscape", "--model", "svm", "--optimizer", "gd", "--epochs", "0", "--init", "normal",
                 "--dims", "1", "--grid", "5", "--out", str(out), "--path-out", str(tmp_path / "p.csv")]) == 0
    r = rows(out)
    assert len(r) == 5 and all(float(x["b"]) == 0 for x in r)
    assert len(rows(tmp_path / "p.csv")) == 1


@pytest.mark.parametrize("args, message", [
    (["--model", "knn"], "invalid choice: 'knn'"),
    (["--optimizer", "nope"], "unknown optimizer 'nope'"),
    (["--optimizer", "newton"], "Newton and BFGS build dense d×d matrices"),
    (["--batch-size", "0"], "must be ≥ 1 (or 'full')"),
    (["--batch-size", "some"], "'some' is not a whole number or 'full'"),
    (["--val", "1"], "must be in [0, 1)"),
    (["--param", "hidden=3"], "model 'svm' has no parameter 'hidden' (valid: reg)"),
    (["--param", "reg=-1"], "reg must be in [0, ∞), got '-1'"),
    (["--model", "mlp", "--param", "activation=sigmoid"], "activation must be one of relu, tanh, got 'sigmoid'"),
    (["--model", "mlp", "--param", "hidden=2.5"], "hidden must be a whole number"),
    (["--set", "momentum=0.9"], "no hyperparameter 'momentum'"),
    (["--dataset", "nowhere.csv"], "unknown dataset 'nowhere.csv'"),
    (["--init", "ones"], "invalid choice: 'ones'"),
    (["--epochs", "-1"], "must be ≥ 0"),
])
def test_bad_train_options_exit_2_with_one_line(tmp_path, capsys, args, message):
    base = {"--model": "svm", "--optimizer": "gd"}
    argv = ["train"]
    for k, v in base.items():
        if k not in args:
            argv += [k, v]
    code = main(argv + args + ["--out", str(tmp_path / "x.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err, err
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("args, message", [
    (["--directions", "up"], "invalid choice: 'up'"),
    (["--grid", "1"], "must be ≥ 2"),
    (["--span", "0"], "must be > 0"),
    (["--dims", "3"], "invalid choice: 3"),
    (["--directions", "pca", "--epochs", "0"], "the PCA plane needs a path that moved"),
    (["--directions", "filter", "--epochs", "0"], "filter-normalised directions are zero here"),
])
def test_bad_landscape_options(tmp_path, capsys, args, message):
    code = main(["landscape", "--model", "svm", "--optimizer", "gd", *args, "--out", str(tmp_path / "s.csv")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and message in err, err


def test_bad_data_file_is_one_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,0\n3,oops,1\n")
    p = gd("train", "--dataset", str(bad), "--model", "softmax", "--optimizer", "gd", "--out", str(tmp_path / "c"))
    assert p.returncode == 2
    assert p.stderr.strip() == f"gdstudio: error: {bad}: line 2: 'oops' is not a number"


def test_csv_dataset_trains(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    f = tmp_path / "blobs.csv"
    f.write_text("a,b,c,label\n" + "".join(f"{a},{b},{c},{t}\n" for (a, b, c), t in zip(X, y)))
    assert main(["train", "--dataset", str(f), "--model", "mlp", "--param", "hidden=6", "--param", "activation=tanh",
                 "--optimizer", "adam", "--lr", "0.05", "--epochs", "30", "--out", str(tmp_path / "c.csv")]) == 0
    assert float(rows(tmp_path / "c.csv")[-1]["train_acc"]) > 0.9


def test_list_names_models_and_datasets(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "Models (gdstudio train / landscape --model NAME" in out
    for name in ("svm", "softmax", "mlp", "hidden=32", "activation=relu  in one of relu, tanh", "breast-cancer"):
        assert name in out


def test_a_hand_written_rule_trains_a_classifier_like_the_built_in(tmp_path):
    """The articles' exercise: your own update rule on a digit classifier, beside the built-in optimizer."""
    assert main(["train", "--model", "softmax", "--optimizer", "rule:param lr = 0.1; v = 0.9*v + g; x = x - lr*v",
                 "--epochs", "6", "--out", str(tmp_path / "rule.csv")]) == 0
    assert main(["train", "--model", "softmax", "--optimizer", "momentum", "--lr", "0.1", "--set", "momentum=0.9",
                 "--epochs", "6", "--out", str(tmp_path / "builtin.csv")]) == 0
    mine = [float(r["train_loss"]) for r in rows(tmp_path / "rule.csv")]
    ref = [float(r["train_loss"]) for r in rows(tmp_path / "builtin.csv")]
    np.testing.assert_allclose(mine, ref, rtol=1e-12)
    assert mine[-1] < mine[0]
