"""The MLP through the experiment scripts: train.py run folders, replot, compare_models.py."""

import csv
import json

import numpy as np
import pytest
from conftest import RUN_FILES, load_script, train_run

import logreg_jax as lj
from logreg_jax.runs.store import load_fit
from logreg_jax.studies.models import ModelsConfig, panel_configs

train_script = load_script("train")
replot_script = load_script("replot")
compare_script = load_script("compare_models")


@pytest.fixture(scope="module")
def xor_run(tmp_path_factory):
    return train_run(tmp_path_factory, "configs/mlp_xor.toml", "mlp_xor")


@pytest.mark.slow
def test_mlp_solves_xor_and_writes_a_complete_run_folder(xor_run):
    assert {p.name for p in xor_run.iterdir()} == RUN_FILES
    metrics = json.loads((xor_run / "metrics.json").read_text())
    assert metrics["train_accuracy"] >= 0.95 and metrics["n_samples"] == 200
    assert metrics["gradient_check"] < 1e-6  # backprop against jax.grad at the trained params
    assert "theta" not in metrics and "theta_original_units" not in metrics
    assert [sorted(layer) for layer in metrics["params"]] == [["W", "b"], ["W", "b"]]
    assert np.shape(metrics["params"][0]["W"]) == (2, 4) and np.shape(metrics["params"][1]["W"]) == (4, 1)
    p00, p01 = (p["probability"] for p in metrics["predictions"])
    assert p00 < 0.1 < 0.9 < p01  # (1, 1) is class 0, (1, −1) class 1


@pytest.mark.slow
def test_mlp_run_folder_reloads_and_replots(xor_run):
    fitted = load_fit(xor_run)  # regenerates the xor data from the saved seed, reloads the layers
    metrics = json.loads((xor_run / "metrics.json").read_text())
    points = [p["x"] for p in metrics["predictions"]]
    np.testing.assert_allclose(
        lj.predict_proba(fitted, points)[:, 1], [p["probability"] for p in metrics["predictions"]], rtol=1e-6
    )
    before = (xor_run / "decision_boundary.png").stat().st_mtime_ns
    replot_script.main([str(xor_run), "--set", "plot.levels=5"])
    assert (xor_run / "decision_boundary.png").stat().st_mtime_ns > before


@pytest.mark.slow
def test_compare_models_on_xor_logistic_fails_where_the_mlp_succeeds(tmp_path, capsys):
    out = tmp_path / "cmp"
    compare_script.main(
        [
            "configs/compare_models.toml",
            "--out",
            str(out),
            "--set",
            "data.path=xor",
            "--set",
            "cv.k=2",
            "--set",
            "titles=['lin', 'net']",
            "--set",
            "panels=[['model.name=logistic', 'optimizer.name=adam', 'optimizer.learning_rate=0.05', "
            "'train.epochs=300', 'train.log_every=300'], ['model.name=mlp', 'model.hidden=[4]', "
            "'optimizer.name=adam', 'optimizer.learning_rate=0.05', 'train.epochs=300', 'train.log_every=300']]",
        ]
    )
    assert {p.name for p in out.iterdir()} == {
        ".logreg_jax_run",
        "config.json",
        "metrics.json",
        "results.csv",
        "models.png",
    }
    with open(out / "results.csv") as fh:
        lin, net = csv.DictReader(fh)
    assert (lin["model"], net["model"]) == ("lin", "net")
    assert (int(lin["n_params"]), int(net["n_params"])) == (3, 2 * 4 + 4 + 4 + 1)
    assert float(lin["train_accuracy"]) <= 0.6 and float(lin["val_accuracy_mean"]) <= 0.6
    assert float(net["train_accuracy"]) >= 0.95 and float(net["val_accuracy_mean"]) >= 0.9
    assert "net" in capsys.readouterr().out


def test_compare_models_rejects_mismatched_panels(tmp_path):
    with pytest.raises(lj.ConfigError, match="panels"):
        compare_script.main(["configs/compare_models.toml", "--out", str(tmp_path / "x"), "--set", "titles=['one']"])
    with pytest.raises(lj.ConfigError, match="model.hidden = \\[0\\]"):
        compare_script.main(
            [
                "configs/compare_models.toml",
                "--out",
                str(tmp_path / "x"),
                "--set",
                "titles=['one']",
                "--set",
                "panels=[['model.name=mlp', 'model.hidden=[0]']]",
            ]
        )
    with pytest.raises(lj.ConfigError, match="k = 100 folds"):
        compare_script.main(["configs/compare_models.toml", "--out", str(tmp_path / "x"), "--set", "cv.k=100"])
    assert not (tmp_path / "x").exists()


def test_shipped_mlp_and_compare_configs_resolve():
    mc = lj.load_config("configs/mlp_microchips.toml")
    assert (mc.model.name, mc.model.hidden, mc.features.polynomial_degree, mc.features.standardize) == (
        "mlp",
        (16, 16),
        1,
        True,
    )
    cfg = lj.load_config("configs/compare_models.toml", cls=ModelsConfig)
    panels = panel_configs(cfg)
    assert [(p.model.name, p.features.polynomial_degree, p.loss.l2) for p in panels] == [
        ("logistic", 1, 0.0),
        ("logistic", 6, 1.0),
        ("mlp", 1, mc.loss.l2),
    ]
    # The MLP panel is configs/mlp_microchips.toml's model and training, so the README's numbers agree.
    assert (panels[2].model, panels[2].optimizer, panels[2].train.epochs) == (mc.model, mc.optimizer, mc.train.epochs)
    assert all(p.data == cfg.base.data and type(p) is lj.Config for p in panels)


@pytest.mark.slow
def test_mlp_microchips_config_reaches_its_promised_accuracy():
    """configs/mlp_microchips.toml promises >= 0.85 training accuracy on the raw microchip results,
    where logistic regression on the same two features stays near the class rate."""
    cfg = lj.load_config("configs/mlp_microchips.toml", ["train.log_every=2000"])
    fitted = lj.fit(cfg)
    assert lj.summarize(fitted)["train_accuracy"] >= 0.85
    linear = lj.fit(lj.load_config("configs/mlp_microchips.toml", ["model.name=logistic", "train.log_every=2000"]))
    assert lj.summarize(linear)["train_accuracy"] < 0.65
