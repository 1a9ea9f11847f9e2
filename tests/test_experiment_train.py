"""experiments/train.py end to end, re-plotting, and bad input that must write nothing."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import LOGISTIC_RUN_FILES, ROOT, load_script, train_run, write_text

import logreg_jax as lj
from logreg_jax.cli.args import run_main

train_script = load_script("train")
replot_script = load_script("replot")


@pytest.fixture(scope="module")
def exam_run(tmp_path_factory):
    return train_run(tmp_path_factory, "configs/exam_scores.toml", "exam")


def test_exam_scores_run_folder(exam_run):
    assert {p.name for p in exam_run.iterdir()} == LOGISTIC_RUN_FILES
    metrics = json.loads((exam_run / "metrics.json").read_text())
    history = np.loadtxt(exam_run / "history.csv", delimiter=",", skiprows=1)
    assert history.shape == (100, 3) and np.all(np.diff(history[:, 1]) < 0)  # loss decreases
    assert metrics["epochs"] == 100 and metrics["train_accuracy"] >= 0.85
    assert metrics["final_loss"] < history[0, 1]
    assert metrics["gradient_check"] < 1e-6
    # θ in raw units gives the same probability as the standardized model.
    p = metrics["predictions"][0]
    assert p["x"] == [45.0, 85.0]
    raw = np.asarray(metrics["theta_original_units"])
    assert 1 / (1 + np.exp(-(raw[0] + raw[1:] @ p["x"]))) == pytest.approx(p["probability"], rel=1e-5)
    config = json.loads((exam_run / "config.json").read_text())
    assert config["optimizer"] == {
        "name": "sgd",
        "learning_rate": 1.0,
        "momentum": 0.9,
        "nesterov": False,
        "memory_size": 10,
        "damping": 0.1,
    }
    with np.load(exam_run / "params.npz") as npz:
        np.testing.assert_allclose(npz["params/"], metrics["theta"], rtol=1e-7)
        assert npz["features/mean"].shape == (2,)


@pytest.mark.slow
def test_same_config_same_numbers(exam_run, tmp_path):
    train_script.main(["configs/exam_scores.toml", "--out", str(tmp_path / "again")])
    assert (tmp_path / "again" / "metrics.json").read_text() == (exam_run / "metrics.json").read_text()
    assert (tmp_path / "again" / "history.csv").read_text() == (exam_run / "history.csv").read_text()


@pytest.mark.slow
def test_replot_without_training(exam_run, tmp_path):
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(exam_run, run)
    (run / "decision_boundary.png").unlink()
    replot_script.main([str(run), "--set", "plot.levels=10"])
    assert (run / "decision_boundary.png").stat().st_size > 10_000
    assert (run / "metrics.json").read_text() == (exam_run / "metrics.json").read_text()
    with pytest.raises(lj.ConfigError, match="only plot"):
        replot_script.main([str(run), "--set", "train.epochs=3"])


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--set", "optimizer.learning_rate=0"], "optimizer.learning_rate = 0: expected a finite number > 0"),
        (["--set", "train.epochs=-1"], "train.epochs = -1"),
        (["--set", "optimizer.name=newtonish"], "optimizer.name = 'newtonish'"),
        (["--set", "model.init=ones"], "model.init = 'ones'"),
        (["--set", "train.epochz=3"], "unknown key 'train.epochz'"),
        (["--set", "train.epochs='ten'"], "train.epochs = 'ten': expected an integer"),
        (["--set", "optimizer.learning_rate"], "expected key=value"),
        (["--set", "data.path='no/such.txt'"], "no/such.txt: no such data file"),
        (["--set", "predict.points=[[1.0]]"], "predict.points: [1.0] has 1 values"),
        (["--set", "optimizer.learning_rate=1e37", "--set", "features.standardize=false"], "diverged at epoch 2"),
    ],
)
def test_bad_input_exits_cleanly_and_writes_nothing(tmp_path, capsys, extra, message):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_:
        run_main(lambda: train_script.main(["configs/exam_scores.toml", "--out", str(out), *extra]))
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "empty"),
        ("1,2,0\n3,4\n", "bad.txt:2: expected 3"),
        ("1,2,0\n3,abc,1\n", "bad.txt:2: 'abc' is not a number"),
        ("1,2,0\n3,nan,1\n", "not finite"),
        ("1,2,0\n3,4,0.5\n", "bad.txt:2: label 0.5 is not 0 or 1"),
        ("1,2,0\n3,4,0\n", "every label is 0"),
        ("1,5,0\n3,5,1\n2,5,1\n", "feature 'x2' is constant"),
    ],
)
def test_bad_data_files(tmp_path, capsys, text, message):
    data = write_text(tmp_path, "bad.txt", text)
    out = tmp_path / "run"
    with pytest.raises(SystemExit):
        run_main(
            lambda: train_script.main(["configs/exam_scores.toml", "--out", str(out), "--set", f"data.path='{data}'"])
        )
    assert message in capsys.readouterr().err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bad.txt"]


@pytest.mark.slow
def test_script_prints_one_line_without_traceback(tmp_path):
    """The real command line: exit status 2 and a single 'error:' line on stderr."""
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "experiments" / "train.py"),
            "configs/exam_scores.toml",
            "--out",
            str(tmp_path / "r"),
            "--set",
            "optimizer.learning_rate=-1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: configs/exam_scores.toml (with --set optimizer.learning_rate=-1): "
        "optimizer.learning_rate = -1: expected a finite number > 0"
    ]
    assert not (tmp_path / "r").exists()


def test_replot_of_an_incomplete_folder_is_one_line(exam_run, tmp_path, capsys):
    import shutil

    run = tmp_path / "broken"
    shutil.copytree(exam_run, run)
    (run / "params.npz").unlink()
    with pytest.raises(SystemExit) as exit_:
        run_main(lambda: replot_script.main([str(run)]))
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1 and "params.npz" in err


@pytest.mark.slow
@pytest.mark.parametrize(
    "config,stated",
    [
        ("exam_scores", ["0.2101", "0.89", "0.708"]),
        ("iris_softmax", ["0.962", "1.000"]),
        ("digits_softmax", ["1.000", "0.964"]),
    ],
)
def test_float32_numbers_in_the_readme_survive_other_rounding(config, stated):
    """The README states these float32 convex fits to digits that another CPU's rounding cannot
    move: inputs perturbed by one or two float32 roundings (another summation order) print the same.
    [final loss], training accuracy, [held-out accuracy], [P of the first predicted point]."""
    from logreg_jax.loss import mean_cross_entropy

    cfg = lj.load_config(f"configs/{config}.toml")
    row = next(line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith(f"| `{config}.toml`"))
    assert all(s in row for s in stated), row
    data = lj.load_data(cfg)
    rng = np.random.default_rng(0)
    for trial in range(3):
        ulps = rng.integers(-2, 3, data.X.shape) * np.finfo(np.float32).eps * (trial > 0)
        fitted = lj.fit(cfg, data._replace(X=data.X * (1 + ulps)))
        X, y = fitted.inputs
        accuracy = np.mean(np.argmax(lj.predict_proba(fitted, fitted.data.X), axis=1) == fitted.data.y)
        printed = [f"{accuracy:.2f}" if config == "exam_scores" else f"{accuracy:.3f}"]
        if config == "exam_scores":
            loss = mean_cross_entropy(fitted.model.logits(fitted.params, X), y)
            printed = [f"{float(loss):.4f}", *printed, f"{lj.predict_proba(fitted, cfg.predict.points)[0, 1]:.3f}"]
        if fitted.test is not None:
            held_out = np.argmax(lj.predict_proba(fitted, fitted.test.X), axis=1) == fitted.test.y
            printed.append(f"{np.mean(held_out):.3f}")
        assert printed == stated, (trial, printed)
