"""logreg_jax.cli.progress: step k of n and the time left, in place on a terminal and as plain lines elsewhere."""

import io
import os
import pty
import subprocess
import sys

import pytest
from conftest import ROOT, load_script

from logreg_jax.cli.progress import Progress, format_seconds


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_plain_lines_when_not_a_terminal():
    clock, err, out = Clock(), io.StringIO(), io.StringIO()
    with Progress(4, "epoch", stream=err, out=out, clock=clock) as progress:
        for k in range(1, 5):
            clock.t += 2.0
            progress.update(k, f"loss {1 / k:.2f}")
    assert err.getvalue().splitlines() == [
        "epoch 1 of 4 (25 %), loss 1.00, about 6.0 s left",  # 2 s per step so far, 3 steps left
        "epoch 2 of 4 (50 %), loss 0.50, about 4.0 s left",
        "epoch 3 of 4 (75 %), loss 0.33, about 2.0 s left",
        "epoch 4 of 4 (100 %), loss 0.25, took 8.0 s",
    ]
    assert out.getvalue() == "" and "\r" not in err.getvalue()


def test_one_updating_line_on_a_terminal():
    clock, err, out = Clock(), Terminal(), io.StringIO()
    with Progress(100, "epoch", stream=err, out=out, clock=clock, interval=1.0) as progress:
        for k in range(1, 51):
            clock.t += 0.25  # 4 updates per redraw interval: only every 4th is drawn
            progress.update(k, "a long note" if k < 50 else "short")
    text = err.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n") and "\x1b" not in text  # '\r' only, no escape codes
    frames = text.rstrip("\n").split("\r")[1:]
    drawn = [int(f.split()[1]) for f in frames]
    assert drawn == [1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49, 50]  # one per second, then the close
    # Stopped early (e.g. converged): the last state is drawn at close, with the time taken,
    # padded over the longer line before it.
    assert frames[-1].rstrip() == "epoch 50 of 100 (50 %), short, took 12 s"
    assert len(frames[-1]) == len(frames[-2])


def test_results_print_above_the_progress_line():
    err, out = Terminal(), io.StringIO()
    progress = Progress(3, "λ", stream=err, out=out, clock=Clock())
    progress.advance("λ = 0", result="row 1")
    progress.advance("λ = 1", result="row 2")
    assert out.getvalue() == "row 1\nrow 2\n"
    # Before each result the drawn line is blanked ('\r', spaces, '\r'), so the result starts at column 0.
    first = "λ 1 of 3 (33 %), λ = 0, about 0.0 s left"
    assert err.getvalue() == f"\r{first}\r{' ' * len(first)}\r\rλ 2 of 3 (66 %), λ = 1, about 0.0 s left"


def test_steps_announced_at_their_start():
    err = io.StringIO()
    with Progress(3, "stage", stream=err, clock=Clock()) as progress:
        for name in ("a", "b", "c"):
            progress.start(name)
    assert err.getvalue().splitlines() == [
        "stage 0 of 3 (0 %), a",
        "stage 1 of 3 (33 %), b, about 0.0 s left",
        "stage 2 of 3 (66 %), c, about 0.0 s left",
        "stage 3 of 3 (100 %), c, took 0.0 s",
    ]


def test_an_error_ends_the_terminal_line_so_the_message_gets_its_own():
    err = Terminal()
    with pytest.raises(ValueError):
        with Progress(10, stream=err, clock=Clock()) as progress:
            progress.update(3)
            raise ValueError
    assert err.getvalue().endswith("\n") and err.getvalue().count("\n") == 1


def test_format_seconds():
    assert [format_seconds(s) for s in (0.04, 9.96, 42.4, 185, 7620)] == [
        "0.0 s",
        "10.0 s",
        "42 s",
        "3 min 05 s",
        "2 h 07 min",
    ]


@pytest.mark.slow
def test_smoke_run_of_train_py_reports_progress(tmp_path, capsys):
    load_script("train").main(["configs/exam_scores.toml", "--out", str(tmp_path / "r"), "--set", "train.epochs=20"])
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("epoch 10 of 20 (50 %), loss ") and "left" in err[0]
    assert err[1].startswith("epoch 20 of 20 (100 %), loss ") and ", took " in err[1]


@pytest.mark.slow
@pytest.mark.parametrize("terminal", [False, True])
def test_train_py_with_stderr_a_pipe_or_a_terminal(tmp_path, terminal):
    cmd = [
        sys.executable,
        str(ROOT / "experiments" / "train.py"),
        "configs/exam_scores.toml",
        "--out",
        str(tmp_path / "r"),
        "--set",
        "train.epochs=30",
    ]
    if not terminal:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        err = proc.stderr
    else:
        leader, follower = pty.openpty()  # stderr is a pseudo-terminal: isatty() is true
        proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=follower, text=True)
        os.close(follower)
        err = b""
        while chunk := _read(leader):
            err += chunk
        os.close(leader)
        err = err.decode()
    assert proc.returncode == 0 and (tmp_path / "r" / "metrics.json").exists()
    assert "Traceback" not in err and "epoch 30 of 30 (100 %)" in err
    if terminal:
        assert err.count("\r") >= 3 and err.replace("\r\n", "\n").count("\n") == 1  # one line, redrawn
    else:
        assert "\r" not in err and len(err.splitlines()) == 3


def _read(fd):
    try:
        return os.read(fd, 4096)
    except OSError:  # the terminal is closed once the child has exited and everything is read
        return b""
