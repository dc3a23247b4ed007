"""CSV: tidy, readable back exactly, written atomically."""

import csv
import io
import os

import numpy as np
import pytest

from gdstudio.core.export import COLUMNS, read_csv, write_csv, write_csv_to
from gdstudio.core.runs import RunConfig, run


def results():
    a = run(RunConfig.create("booth", "gd", [(0, 0), (2, -1)], 20, {"lr": 0.01}, name="slow"))
    b = run(RunConfig.create("booth", "gd", [(0, 0)], 200, {"lr": 0.12}))  # diverges
    return [a, b]


def test_header_and_rows(tmp_path):
    res = results()
    path = tmp_path / "t.csv"
    n = write_csv(path, res)
    assert n == sum(len(t.x) for r in res for t in r.trajectories)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(COLUMNS)
    assert {r["run"] for r in rows} == {"slow#0", "slow#1", "run2"}
    first = rows[0]
    assert first["step"] == "0" and first["step_size"] == "" and first["optimizer"] == "gd"
    assert rows[-1]["status"] == "diverged"


def test_reads_back_exactly(tmp_path):
    res = results()
    path = tmp_path / "t.csv"
    write_csv(path, res)
    back = read_csv(path)
    t = res[0][1]
    sel = [i for i, r in enumerate(back["run"]) if r == "slow#1"]
    np.testing.assert_array_equal(np.array(back["x"])[sel], t.x[:, 0])
    np.testing.assert_array_equal(np.array(back["loss"])[sel], t.loss)
    np.testing.assert_array_equal(np.array(back["grad_y"])[sel], t.grad[:, 1])
    assert back["step"][sel[-1]] == 20


def test_stream_and_file_agree(tmp_path):
    res = results()
    buf = io.StringIO()
    write_csv_to(buf, res)
    write_csv(tmp_path / "t.csv", res)
    assert (tmp_path / "t.csv").read_text() == buf.getvalue()


def test_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "keep.csv"
    path.write_text("precious")

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_csv(path, results())
    assert path.read_text() == "precious"
    assert os.listdir(tmp_path) == ["keep.csv"]  # no temporary file left behind


def test_unwritable_folder_raises_oserror(tmp_path):
    with pytest.raises(OSError):
        write_csv(tmp_path / "missing" / "t.csv", results())


def test_read_rejects_foreign_csv(tmp_path):
    p = tmp_path / "other.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="missing column 'run'"):
        read_csv(p)
