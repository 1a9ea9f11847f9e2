"""experiments/compare_optimizers.py end to end on a small race."""

import csv
import json

import pytest
from conftest import load_script

import logreg_jax as lj

compare_script = load_script("compare_optimizers")


@pytest.mark.slow  # the whole experiment
def test_compare_optimizers_script(tmp_path):
    out = tmp_path / "compare"
    compare_script.main(
        [
            "configs/compare_optimizers.toml",
            "--out",
            str(out),
            "--set",
            "train.epochs=350",
            "--set",
            'compare.optimizers=["sgd", "newton"]',
            "--set",
            "compare.learning_rates=[5.0, 1.0]",
            "--set",
            'compare.problems=["exam_scores"]',
            "--set",
            "compare.problem_settings=[[]]",
            "--set",
            "compare.repeats=1",
        ]
    )
    assert {p.name for p in out.iterdir()} == {
        ".logreg_jax_run",
        "config.json",
        "metrics.json",
        "results.csv",
        "curves.csv",
        "convergence.png",
    }
    with open(out / "results.csv") as f:
        rows = {r["optimizer"]: r for r in csv.DictReader(f)}
    newton, sgd = rows["newton"], rows["sgd"]
    assert int(newton["iterations_to_1e-10"]) <= 10 and newton["converged"] == "true"
    assert int(newton["iterations_to_1e-06"]) <= int(newton["iterations_to_1e-10"]) < int(sgd["iterations_to_1e-06"])
    assert float(newton["compile_s"]) > 0 and float(newton["run_s"]) > 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["optima"]["exam_scores"]["loss"] == pytest.approx(0.2034977015894, abs=1e-12)
    with open(out / "curves.csv") as f:
        curve = [r for r in csv.DictReader(f) if r["optimizer"] == "sgd"]
    assert len(curve) == int(sgd["iterations"]) + 1 and float(curve[0]["seconds"]) == 0.0


def test_mismatched_learning_rates_are_a_config_error(tmp_path):
    import logreg_jax as lj

    with pytest.raises(lj.ConfigError, match="compare.learning_rates"):
        compare_script.main(
            ["configs/compare_optimizers.toml", "--out", str(tmp_path / "x"), "--set", "compare.learning_rates=[1.0]"]
        )
    assert not (tmp_path / "x").exists()


def test_a_run_that_ends_above_its_start_is_flagged_diverged():
    """The rule of every fit (logreg_jax.report.diagnose): unstandardized exam scores with a learning rate
    of 1 end far above the starting loss, and the race says so rather than reporting a gap."""
    from logreg_jax.studies.optimizers import race

    cfg = lj.load_config(
        "configs/exam_scores.toml", ["features.standardize=false", "train.epochs=100", "predict.points=[]"]
    )
    data = lj.load_data(cfg)
    bad = race(cfg, data, best_loss=0.2035, repeats=1)
    good = race(lj.load_config("configs/exam_scores.toml"), data, best_loss=0.2035, repeats=1)
    assert bad.diverged and bad.gap[-1] > bad.gap[0] and not good.diverged
