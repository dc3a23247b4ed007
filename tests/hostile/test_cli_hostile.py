"""Items 3, 4, 8, 13, 14, 15 on the command line, run as a user runs it: subprocesses, signals, exit codes."""

from __future__ import annotations

import csv
import io
import os
import signal
import stat
import subprocess
import sys
import threading
import time

import pytest

from gdstudio import cli
from gdstudio.core.export import read_csv

posix = pytest.mark.skipif(os.name != "posix", reason="POSIX signals and file types")
RUN = ["run", "--objective", "sphere", "--optimizer", "gd", "--lr", "0.1"]


def gd(*args, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "gdstudio", *args], capture_output=True, timeout=120,
                          env=env, **kw)


def test_negative_numbers_in_exponent_form_are_values():
    p = gd(*RUN, "--epochs", "2", "--start", "1e200", "-1e200", text=True)
    assert p.returncode == 0, p.stderr
    assert "-1 steps" not in p.stderr
    assert "loss is infinite here" in p.stderr and "no step recorded" in p.stderr
    assert "Warning" not in p.stderr  # no numpy RuntimeWarning leaks to stderr
    p = gd(*RUN, "--epochs", "2", "--start", "-.5E-3", "-2", "--tol", "-0", text=True)
    assert p.returncode == 0, p.stderr
    assert read_csv(io.StringIO(p.stdout))["x"][0] == -0.0005


def test_no_runtime_warning_on_overflowing_runs():
    for start in (("1e154", "1e154"), ("0", "-1e308")):
        p = gd("run", "--objective", "rosenbrock", "--optimizer", "adam", "--epochs", "5", "--start", *start,
               text=True)
        assert p.returncode == 0 and "Warning" not in p.stderr, p.stderr


def test_a_subnormal_fd_step_is_refused_and_a_lost_one_warned():
    p = gd(*RUN, "--start", "1", "1", "--gradient", "central", "--fd-step", "1e-320", text=True)
    assert p.returncode == 2 and "too small" in p.stderr and p.stdout == ""
    p = gd(*RUN, "--epochs", "1", "--start", "1e20", "1", "--gradient", "central", "--fd-step", "1e-3", text=True)
    assert p.returncode == 0 and "lost in rounding" in p.stderr


@posix
def test_an_undecodable_name_is_refused_before_computing(tmp_path):
    out = tmp_path / "f.csv"
    p = subprocess.run([sys.executable, "-m", "gdstudio", *RUN, "--start", "0", "0", "--name", b"\xff",
                        "--out", str(out)], capture_output=True, timeout=60)
    assert p.returncode == 2 and b"not valid UTF-8" in p.stderr and b"Traceback" not in p.stderr
    assert not out.exists()


def test_only_a_lone_session_file_opens_the_window():
    assert cli.opens_session(["a.gdsession"])
    assert cli.opens_session(["--quit-after", "2", "a.gdsession"])
    assert not cli.opens_session(["check", "--objective", "x.gdsession", "--at", "0", "0"])
    assert not cli.opens_session(["run", "--name", "x.gdsession"])
    p = gd("check", "--objective", "x.gdsession", "--at", "0", "0", text=True)
    assert p.returncode == 2 and "unknown objective 'x.gdsession'" in p.stderr


def test_formula_like_names_are_neutralised_in_the_csv_but_numbers_stay_numbers(tmp_path):
    out = tmp_path / "f.csv"
    p = gd(*RUN, "--epochs", "2", "--start", "-1.5", "0", "--name", "=HYPERLINK(\"http://x\")", "--out", str(out),
           text=True)
    assert p.returncode == 0, p.stderr
    with out.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[1][0] == "'=HYPERLINK(\"http://x\")"
    assert rows[1][2] == "-1.5"  # a number, not prefixed
    assert read_csv(out)["run"][0] == "=HYPERLINK(\"http://x\")"  # read back exactly


@posix
def test_out_through_a_symlink_and_onto_a_read_only_file(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    p = gd(*RUN, "--epochs", "1", "--start", "1", "1", "--out", str(link), text=True)
    assert p.returncode == 0, p.stderr
    assert link.is_symlink() and read_csv(real)["step"] == [0, 1]
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    ro = tmp_path / "ro.csv"
    ro.write_text("precious")
    ro.chmod(0o444)
    p = gd(*RUN, "--epochs", "1", "--start", "1", "1", "--out", str(ro), text=True)
    assert p.returncode == 1 and "read-only" in p.stderr
    assert ro.read_text() == "precious"


@posix
def test_out_to_a_fifo_streams_into_it(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []

    def read():
        with open(fifo, "rb") as f:
            got.append(f.read())

    t = threading.Thread(target=read, daemon=True)
    t.start()
    p = gd(*RUN, "--epochs", "3", "--start", "1", "1", "--out", str(fifo), text=True)
    t.join(30)
    assert p.returncode == 0, p.stderr
    assert got and got[0].count(b"\n") == 5
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def _wait_for_spool(proc, spool_dir, timeout=60.0):
    """Wait until the run is computing: its spool (an unlinked file in ``spool_dir``) is open."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            links = [os.readlink(f"/proc/{proc.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{proc.pid}/fd")]
        except OSError:
            links = []
        if any(str(spool_dir) in link for link in links):
            return
        if proc.poll() is not None:
            raise AssertionError(f"the run ended early: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError("the run never started")


@posix
@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_writes_what_was_computed_as_cancelled_and_leaves_no_temp_file(tmp_path, sig, code):
    spool = tmp_path / "spool"
    spool.mkdir()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "f.csv"
    env = {**os.environ, "TMPDIR": str(spool)}
    proc = subprocess.Popen([sys.executable, "-m", "gdstudio", *RUN[:-1], "1e-9", "--epochs", "100000000",
                             "--start", "1", "1", "--out", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        _wait_for_spool(proc, spool)
        time.sleep(0.3)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    assert "Traceback" not in err and "cancelled" in err
    back = read_csv(out)
    assert len(back["step"]) >= 2 and set(back["status"]) == {"cancelled"}
    assert back["step"] == list(range(len(back["step"])))
    assert sorted(os.listdir(out_dir)) == ["f.csv"] and os.listdir(spool) == []


def test_the_cli_keeps_its_steps_on_disk_not_in_memory(monkeypatch, capsys, tmp_path):
    from gdstudio.core import runs

    def no_memory(*_a, **_k):
        raise AssertionError("the CLI must not keep every step in memory (Recorder)")

    monkeypatch.setattr(runs.Recorder, "add", no_memory)
    monkeypatch.setattr(runs, "run", no_memory)
    assert cli.main([*RUN, "--epochs", "3", "--start", "1", "1", "--start", "2", "2", "--out",
                     str(tmp_path / "f.csv")]) == 0
    back = read_csv(tmp_path / "f.csv")
    assert back["run"] == ["run1#0"] * 4 + ["run1#1"] * 4


def test_an_interrupt_while_writing_leaves_the_old_file_and_no_temp_file(monkeypatch, capsys, tmp_path):
    from gdstudio.core import export

    out = tmp_path / "f.csv"
    out.write_text("old")

    def interrupted(self, stream):  # a second Ctrl-C half-way through the rows
        stream.write("run,step\n")
        raise KeyboardInterrupt

    monkeypatch.setattr(export.SpooledRun, "write_csv_to", interrupted)
    assert cli.main([*RUN, "--epochs", "3", "--start", "1", "1", "--out", str(out)]) == 130
    assert out.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["f.csv"]
    assert "nothing was written" in capsys.readouterr().err
