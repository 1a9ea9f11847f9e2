"""Bad input to the experiment scripts: one line on stderr, a non-zero exit, nothing on disk changed.

Each case runs a script's ``main`` in-process through :func:`logreg_jax.cli.args.run_main` (as
``python experiments/<script>.py`` does), with a snapshot of the scratch folder and of the
repository's data/ and configs/ before and after. Signals and the import phase need a real
process and are marked slow.
"""

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, load_script

from logreg_jax.cli import args as cli
from logreg_jax.errors import LogregError
from logreg_jax.runs.folder import MARKER
from logreg_jax.runs.staging import staged_folder

EXAM = "configs/exam_scores.toml"
OPT = "configs/compare_optimizers.toml"
SWEEP = "configs/sweep_lr.toml"
QUICK = ["--set", "train.epochs=5", "--set", "train.log_every=5"]


def snapshot(*folders: Path) -> dict:
    """Every file and folder under ``folders`` (hidden ones too) with its size and content hash."""
    tree = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            key = str(path)
            tree[key] = hashlib.sha1(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return tree


@pytest.fixture(autouse=True)
def _quiet_cache_and_signals(monkeypatch):
    """No compilation cache on disk; the handlers run_main installs are put back afterwards."""
    monkeypatch.setenv(cli.CACHE_ENV, "off")
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, h in handlers.items():
        signal.signal(s, h)


def run_script(name: str, argv: list[str]) -> int:
    """``python experiments/<name>.py argv`` in-process; returns the exit code."""
    script = load_script(name)
    with pytest.raises(SystemExit) as exit_info:
        cli.run_main(lambda: script.main(argv))
    return exit_info.value.code


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """Scratch files the cases point at: a file, folders, bad data files, and a real run folder."""
    root = tmp_path_factory.mktemp("bad")
    (root / "file.txt").write_text("not a run folder\n")
    (root / "mine").mkdir()
    (root / "mine" / "notes.txt").write_text("precious\n")
    (root / "old_run").mkdir()  # a run folder of a version that wrote no marker
    (root / "old_run" / "config.json").write_text("{}\n")
    exam = (ROOT / "data" / "exam_scores.txt").read_text().splitlines()
    (root / "tabs.txt").write_text("\n".join(line.replace(",", "\t") for line in exam) + "\n")
    (root / "semicolons.txt").write_text("\n".join(line.replace(",", ";") for line in exam) + "\n")
    (root / "huge.txt").write_text("1e39,1,0\n2,3,1\n3,1,0\n4,4,1\n")
    (root / "constant.txt").write_text("1,5,0\n3,5,1\n2,5,1\n")
    np.save(root / "bad_label.npy", np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]))
    load_script("train").main([EXAM, "--out", str(root / "run"), *QUICK])
    for name in ("run_bad_metrics", "run_no_params"):
        load_script("train").main([EXAM, "--out", str(root / name), *QUICK])
    (root / "run_bad_metrics" / "metrics.json").write_text('{"final_loss": ')
    (root / "run_no_params" / "params.npz").unlink()
    return root


# (script, arguments with {t} = the scratch folder, what the one line must contain)
PROGRESS = re.compile(r"^\w+ \d+ of \d+ ")  # logreg_jax.cli.progress lines: "epoch 10 of 100 (10 %), ..."

CASES = [
    # 1. --out that is not a run folder these scripts wrote, or cannot be created
    ("train", [EXAM, "--out", "{t}/file.txt"], "exists and is a file"),
    ("train", [EXAM, "--out", "{t}/mine"], f"no {MARKER} file inside"),
    ("train", [EXAM, "--out", "data"], "run folder data: exists but these scripts did not write it"),
    ("train", [EXAM, "--out", "{t}/old_run"], "older version"),
    ("train", [EXAM, "--out", ""], "--out ''"),
    ("train", [EXAM, "--out", "."], "run folder ."),
    ("train", [EXAM, "--out", "{t}/file.txt/sub"], "is a file, not a folder"),
    ("sweep", ["configs/sweep_lr.toml", "--out", "{t}/mine"], f"no {MARKER} file inside"),
    ("compare_models", ["configs/compare_models.toml", "--out", "data"], "did not write it"),
    ("regularization", ["configs/microchips_regularization.toml", "--out", "{t}/file.txt"], "exists and is a file"),
    ("compare_optimizers", ["configs/compare_optimizers.toml", "--out", "configs"], "did not write it"),
    ("compare_gradients", ["configs/compare_gradients.toml", "--out", "{t}/mine"], "did not write it"),
    ("tune_l2", ["configs/tune_l2.toml", "--out", "{t}/file.txt"], "exists and is a file"),
    ("tune_l2", ["configs/tune_l2.toml", "--out", "{t}/new", "--set", "tune.folds=100"], "tune.folds = 100 folds"),
    (
        "tune_l2",
        ["configs/tune_l2.toml", "--out", "{t}/new", "--set", "optimizer.name=adam"],
        "optimizer is set, but this experiment does not use it",
    ),
    ("replot", ["{t}/mine"], f"no {MARKER} file inside"),
    ("replot", ["{t}/file.txt"], "is a file; expected a run folder"),
    # 2. values out of the run's dtype
    (
        "train",
        [
            EXAM,
            "--out",
            "{t}/new",
            "--set",
            'data.path="{t}/huge.txt"',
            "--set",
            "features.standardize=false",
            "--set",
            "predict.points=[]",
        ],
        "feature 'x1' reaches |x| = 1e+39, beyond the largest float32",
    ),
    # 3. divergence that stays finite
    ("train", [EXAM, "--out", "{t}/new", "--set", "optimizer.learning_rate=1e6"], "training diverged: the loss rose"),
    # 4. config values checked when loaded
    ("train", [EXAM, "--out", "{t}/new", "--set", "plot.cmap=nope"], "plot.cmap = 'nope': expected the name of a"),
    ("train", [EXAM, "--out", "{t}/new", "--set", "plot.step=500"], "plot.step = 500: expected a step at most"),
    ("train", [EXAM, "--out", "{t}/new", "--set", "plot.step=1e-3"], "at most 4,000,000 grid points"),
    ("train", ["configs/mlp_xor.toml", "--out", "{t}/new", "--set", "plot.step=1e-4"], "plot.step = 0.0001: expected"),
    ("train", [EXAM, "--out", "{t}/new", "--set", "seed=9223372036854775808"], "seed = 9223372036854775808"),
    ("replot", ["{t}/run_bad_metrics"], "metrics.json: not valid JSON"),
    ("replot", ["{t}/run_no_params"], "params.npz: cannot read (No such file or directory)"),
    ("train", ["configs", "--out", "{t}/new"], "configs: is a folder; expected a TOML config file"),
    ("train", [EXAM, "--out", "{t}/new", "--set", 'data.path="data"'], "data: is a folder; expected a data file"),
    # 5. nobody at the coordinator address
    (
        "train",
        [
            EXAM,
            "--out",
            "{t}/new",
            "--set",
            "distributed.num_processes=2",
            "--set",
            "distributed.process_id=1",
            "--set",
            "distributed.data_parallel=true",
            "--set",
            'distributed.coordinator="127.0.0.1:9"',
            "--set",
            "distributed.timeout_s=1",
        ],
        "distributed.coordinator = '127.0.0.1:9': no process 0",
    ),
    # 6. smaller things
    ("train", [EXAM, "--out", "{t}/new", "--set", "predict.points=[[nan, 1.0]]"], "predict.points = "),
    ("train", [EXAM, "--out", "{t}/new", "--set", 'data.path="{t}/tabs.txt"'], "separated by tabs"),
    ("train", [EXAM, "--out", "{t}/new", "--set", 'data.path="{t}/semicolons.txt"'], "separated by semicolons"),
    (
        "train",
        [EXAM, "--out", "{t}/new", "--set", 'data.path="{t}/constant.txt"', "--set", "predict.points=[]"],
        "constant.txt: feature 'x2' is constant",
    ),
    (
        "train",
        [EXAM, "--out", "{t}/new", "--set", 'data.path="{t}/bad_label.npy"', "--set", "predict.points=[]"],
        "bad_label.npy: row index 2: label 2 is not 0 or 1",
    ),
    (
        "regularization",
        ["configs/microchips_regularization.toml", "--out", "{t}/new", "--set", "cv.k=100"],
        "cv.k = 100 folds",
    ),
    # study configs: checked when loaded, one line each
    (
        "compare_optimizers",
        [
            OPT,
            "--out",
            "{t}/new",
            "--set",
            'compare.optimizers=["sgd", "bogus"]',
            "--set",
            "compare.learning_rates=[1.0, 1.0]",
        ],
        "compare.optimizers = ['sgd', 'bogus']: expected",
    ),
    (
        "compare_optimizers",
        [OPT, "--out", "{t}/new", "--set", "compare.learning_rates=[5.0, 1.0, -1.0, 1.0, 1.0]"],
        "compare.learning_rates = [5.0, 1.0, -1.0, 1.0, 1.0]: expected finite numbers > 0",
    ),
    (
        "compare_optimizers",
        [OPT, "--out", "{t}/new", "--set", "compare.optimizers=[]", "--set", "compare.learning_rates=[]"],
        "compare.optimizers = []: expected a non-empty list",
    ),
    ("compare_optimizers", [OPT, "--out", "{t}/new", "--set", "optimizer.name=adam"], "optimizer.name is set"),
    (
        "sweep",
        [SWEEP, "--out", "{t}/new", "--set", "sweep.values={}", "--set", "sweep.logspace={}"],
        "expected at least one swept key",
    ),
    ("sweep", [SWEEP, "--out", "{t}/new", "--set", 'sweep.values={"loss.l2" = ["a"]}'], "expected a number"),
    ("sweep", [SWEEP, "--out", "{t}/new", "--set", "data.test_fraction=0.5"], "data.test_fraction is set"),
    # issue 18, data loss: a run name is one folder name; no script writes over one of its inputs
    ("train", [EXAM, "--set", "name=."], "name = '.': expected one plain folder name"),
    ("train", [EXAM, "--set", "name=.."], "name = '..': expected one plain folder name"),
    ("train", [EXAM, "--set", "name='a\\b'"], "expected one plain folder name"),
    ("train", [EXAM, "--set", 'name="a\\bc"'], "expected one plain folder name"),
    ("compare_runs", ["{t}/run", "--out", "{t}/run"], "is one of the inputs"),
    ("compare_runs", ["{t}/run", "--out", "{t}"], "is one of the inputs"),
    ("compare_runs", ["{t}/run", "{t}/nope", "--out", "{t}/new"], "nope: no such run folder"),
    # issue 18, unclear messages: each names the key or value
    ("train", [EXAM, "--out", "{t}/" + "n" * 250], "its name is 250 bytes; expected at most"),
    ("train", [EXAM, "--out", "{t}/new", "--set", 'data.path=""'], "data.path = '': expected a data file"),
    ("sweep", [EXAM, "--out", "{t}/new"], "sweep.values is not set: expected at least one swept key"),
]


@pytest.mark.parametrize("script, argv, expected", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_bad_input_is_one_line_and_changes_nothing(scratch, capsys, script, argv, expected):
    argv = [a.replace("{t}", str(scratch)) for a in argv]
    before = snapshot(scratch, ROOT / "data", ROOT / "configs")
    code = run_script(script, argv)
    err = capsys.readouterr().err
    assert code == 2
    # One error line, the last; only the progress of a training that ran may come before it.
    *before_error, last = err.splitlines()
    assert last.startswith("error: ") and "Traceback" not in err, err
    assert all(PROGRESS.match(line) for line in before_error), err
    assert expected in err, err
    assert "[Errno" not in err and ".partial" not in err
    assert snapshot(scratch, ROOT / "data", ROOT / "configs") == before


@pytest.mark.slow
def test_replacing_a_run_folder_keeps_the_users_files(scratch, capsys):
    """A marked run folder is replaced (no .old or .partial left): the run's files come from the new
    run, files the user added to it stay."""
    out = scratch / "replaced"
    load_script("train").main([EXAM, "--out", str(out), *QUICK])
    (out / "NOTES.md").write_text("mine\n")
    load_script("train").main([EXAM, "--out", str(out), *QUICK, "--set", "train.epochs=6"])
    assert (out / "NOTES.md").read_text() == "mine\n"
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 6
    marker = json.loads((out / MARKER).read_text())
    assert marker["kind"] == "train" and "metrics.json" in marker["files"] and "NOTES.md" not in marker["files"]
    assert not [p for p in scratch.iterdir() if p.name.endswith((".old", ".partial"))]


def test_retraining_keeps_files_the_user_added(tmp_path):
    """Issue 18: NOTES.md and my_plots/ in a run folder survive a second run into it; the first run's
    own files that the second does not write are gone."""
    out = tmp_path / "run"
    with staged_folder(out, "train") as folder:
        (folder / "first.txt").write_text("1\n")
    (out / "NOTES.md").write_text("mine\n")
    (out / "my_plots").mkdir()
    (out / "my_plots" / "a.png").write_bytes(b"png")
    with staged_folder(out, "train") as folder:
        (folder / "second.txt").write_text("2\n")
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "NOTES.md", "my_plots", "second.txt"])
    assert (out / "my_plots" / "a.png").read_bytes() == b"png"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_retraining_replaces_the_predictions_of_the_old_model(tmp_path):
    """predict.py's predictions/ were made by the model a retrained run replaces: they go with it
    (stale predictions must not sit beside a new model); a predictions/ folder the user made stays."""
    from logreg_jax.runs.folder import claim

    mine, ours = tmp_path / "mine", tmp_path / "ours"
    for out in (mine, ours):
        with staged_folder(out, "train") as folder:
            (folder / "params.npz").write_bytes(b"1")
        (out / "predictions").mkdir()
        (out / "predictions" / "new.csv").write_text("p\n")
    claim(ours, "predictions")
    for out in (mine, ours):
        with staged_folder(out, "train") as folder:
            (folder / "params.npz").write_bytes(b"2")
    assert (mine / "predictions" / "new.csv").read_text() == "p\n"
    assert not (ours / "predictions").exists() and (ours / "params.npz").read_bytes() == b"2"


def test_a_swallowed_ctrl_c_writes_no_run_folder(tmp_path):
    """Issue 18: a Ctrl-C that a callback (matplotlib's) swallowed while the run folder was being
    written must not let the folder (or a predictions file) be committed: the commit raises it."""
    from logreg_jax import errors
    from logreg_jax.runs.staging import staged_file

    out = tmp_path / "run"
    try:
        with pytest.raises(KeyboardInterrupt):
            with staged_folder(out, "train") as folder:
                (folder / "metrics.json").write_text("{}\n")
                errors.pending.append(KeyboardInterrupt)  # what the handler records, then raises
        with pytest.raises(KeyboardInterrupt):
            with staged_file(tmp_path / "p.csv") as partial:
                partial.write_text("p\n")
    finally:
        errors.pending.clear()
    assert list(tmp_path.iterdir()) == []


def test_folder_created_during_the_run_is_never_replaced(tmp_path):
    """Issue 18: --out was free at the check, the user made it (with files) while the script ran: the
    final move refuses and the user's folder is untouched; no staging folder is left."""
    out = tmp_path / "run"
    with pytest.raises(LogregError, match="appeared there while this ran"):
        with staged_folder(out, "train") as folder:
            (folder / "metrics.json").write_text("{}\n")
            out.mkdir()
            (out / "mine.txt").write_text("precious\n")
    assert [p.name for p in out.iterdir()] == ["mine.txt"] and (out / "mine.txt").read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_sigterm_while_writing_leaves_the_old_run(scratch, capsys, monkeypatch):
    """SIGTERM half-way through writing: one line, exit 143, the previous run folder intact."""
    out = scratch / "run"
    before = snapshot(scratch)
    runs = sys.modules["logreg_jax.runs.store"]
    real = runs.write_history

    def write_then_terminate(path, history):
        real(path, history)
        os.kill(os.getpid(), signal.SIGTERM)  # the handler run_main installed raises here

    monkeypatch.setattr(runs, "write_history", write_then_terminate)
    assert run_script("train", [EXAM, "--out", str(out), *QUICK]) == 143
    *progress, last = capsys.readouterr().err.splitlines()
    assert last == "terminated" and all(PROGRESS.match(line) for line in progress)
    assert snapshot(scratch) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in a read-only folder")
def test_read_only_parent_is_refused_before_training(tmp_path, capsys):
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        assert run_script("train", [EXAM, "--out", str(parent / "x" / "run")]) == 2
    finally:
        parent.chmod(0o755)
    err = capsys.readouterr().err
    assert err.startswith(f"error: run folder {parent / 'x' / 'run'}: cannot be created") and err.count("\n") == 1
    assert list(parent.iterdir()) == []


@pytest.mark.slow
def test_json_is_strict_and_stats_survive_huge_values(scratch, capsys):
    """1e300 with standardization: the statistics are exact in float64 (no overflow), the feature
    keeps its information, and metrics.json holds no bare NaN."""
    exam = np.loadtxt(ROOT / "data" / "exam_scores.txt", delimiter=",")
    exam[:, 0] *= 1e298  # scores of ~1e300
    path = scratch / "exam_1e300.txt"
    np.savetxt(path, exam, delimiter=",", fmt="%.17g")
    out = scratch / "huge_run"
    load_script("train").main([EXAM, "--out", str(out), "--set", f'data.path="{path}"', "--set", "predict.points=[]"])
    metrics = json.loads((out / "metrics.json").read_text(), parse_constant=lambda c: pytest.fail(f"bare {c}"))
    assert metrics["train_accuracy"] == pytest.approx(0.89, abs=0.011)  # as with the unscaled scores
    with np.load(out / "params.npz") as npz:
        expected = [np.std(exam[:, 0] / 1e298) * 1e298, np.std(exam[:, 1])]  # float64, scaled by hand
        np.testing.assert_allclose(npz["features/std"], expected, rtol=1e-12)


@pytest.mark.slow
def test_ctrl_c_while_importing_prints_one_line(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "experiments/train.py", EXAM, "--out", str(tmp_path / "never")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.4)  # past the guard at the top of the script, inside `import jax`
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and err == "interrupted\n", err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_sigterm_while_training_prints_one_line(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "experiments/train.py",
            EXAM,
            "--out",
            str(tmp_path / "run"),
            "--set",
            "train.epochs=100000000",
            "--set",
            "train.log_every=1000",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, cli.CACHE_ENV: "off"},
    )
    proc.stdout.readline()  # the first progress line: training has started
    proc.terminate()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and err == "terminated\n", err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("script", ["train", "predict", "compare_runs", "replot"])
def test_argparse_errors_are_one_line(script, capsys):
    """Issue 18: argparse's usage block and error line become one line naming the script and its usage."""
    assert run_script(script, ["--bogus"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "(usage: " in err, err  # prog: the runner here


def test_a_bad_cache_folder_is_one_warning_line(tmp_path, capsys):
    """Issue 18: LOGREG_JAX_CACHE naming a file's child gave JAX's two-line [Errno 17] warning per compile."""
    (tmp_path / "file").write_text("")
    assert cli.enable_compilation_cache(tmp_path / "file" / "cache") is None
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"warning: {cli.CACHE_ENV}=") and "[Errno" not in err


def test_after_ctrl_c_a_second_one_is_ignored_while_exiting():
    """Issue 18: two Ctrl-C in quick succession printed a traceback from an atexit handler."""

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as exit_info:
        cli.run_main(interrupted)
    assert exit_info.value.code == 130 and signal.getsignal(signal.SIGINT) is signal.SIG_IGN


@pytest.mark.slow
def test_a_missing_jax_backend_is_one_line(tmp_path):
    """Issue 18: JAX_PLATFORMS=tpu on a machine without one printed JAX's 70-line traceback."""
    done = subprocess.run(
        [sys.executable, "experiments/train.py", EXAM, "--out", str(tmp_path / "run")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, cli.CACHE_ENV: "off", "JAX_PLATFORMS": "tpu"},
        timeout=120,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("error: JAX_PLATFORMS='tpu': Unable to initialize backend 'tpu'")
    assert done.stdout == "" and list(tmp_path.iterdir()) == []  # refused before the script prints anything


def test_a_full_disk_names_what_went_wrong(tmp_path):
    """Issue 18: an OSError without a file name said "No space left on device: None"."""
    import errno

    with pytest.raises(LogregError) as err:
        with staged_folder(tmp_path / "run", "train"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert str(err.value) == f"{tmp_path / 'run'}: cannot write the run folder (No space left on device)"
    assert list(tmp_path.iterdir()) == []


def test_folders_left_by_kill_9_are_cleaned_by_the_next_run(tmp_path):
    """Issue 18: kill -9 left hidden .NAME.*.partial folders that nothing reported or cleaned."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)  # a process that has ended
    stale = tmp_path / f".run.{pid}.abcdefgh.partial"
    stale.mkdir()
    live = tmp_path / f".run.{os.getpid()}.abcdefgh.partial"  # this process: still writing, kept
    live.mkdir()
    mine = tmp_path / ".run.notes.partial"  # not a name these scripts make: kept
    mine.mkdir()
    with staged_folder(tmp_path / "run", "train") as folder:
        (folder / "a.txt").write_text("1\n")
    assert not stale.exists() and live.exists() and mine.exists() and (tmp_path / "run" / "a.txt").exists()


def test_predict_from_another_folder_names_the_runs_training_data(scratch, tmp_path, monkeypatch, capsys):
    """Issue 18: from another folder, the run's recorded (relative) training data are what is missing,
    not the file the user passed."""
    rows = tmp_path / "rows.txt"
    rows.write_text("45,85\n")
    monkeypatch.chdir(tmp_path)
    assert run_script("predict", [str(scratch / "run"), str(rows), "--out", str(tmp_path / "p.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reload the run's training data (data.path = 'data/exam_scores.txt'" in err


def test_replot_redraws_coefficients_png(scratch, tmp_path, capsys):
    """Issue 18: replot.py redrew every figure but coefficients.png."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(scratch / "run", run)
    assert (run / "coefficients.png").is_file()
    (run / "coefficients.png").unlink()
    load_script("replot").main([str(run)])
    assert (run / "coefficients.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_ctrl_c_swallowed_by_a_callback_still_stops_the_script(capsys):
    """Issue 18: once in ~20 tries a Ctrl-C landed in a matplotlib callback that swallowed it, and the
    run finished with exit 0."""

    def swallowing_main():
        cli.signal.signal(signal.SIGINT, signal.getsignal(signal.SIGINT))  # the handler run_main armed
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)
        except KeyboardInterrupt:  # what such a callback does
            pass

    with pytest.raises(SystemExit) as exit_info:
        cli.run_main(swallowing_main)
    assert exit_info.value.code == 130 and capsys.readouterr().err == "interrupted\n"
