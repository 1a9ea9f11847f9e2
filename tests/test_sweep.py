"""Sweeps: members equal single runs, diverged members are flagged alone, the grid, the script."""

import csv
import dataclasses
import json

import numpy as np
import pytest
from conftest import load_script

import logreg_jax as lj
from logreg_jax.config import config_from_dict, replace_key
from logreg_jax.studies.sweeps import SweepConfig, best_setting, grid, member_config, run_sweep

sweep_script = load_script("sweep")


def sweep_config(sweep, **sections):
    raw = {"sweep": sweep, **sections}
    return config_from_dict(raw, cls=SweepConfig)


def test_members_equal_separate_fits(x64):
    """Every swept key at once (learning rate, momentum, l2, seed): members match lj.fit on their
    own config, iteration by iteration."""
    cfg = sweep_config(
        {
            "values": {"optimizer.momentum": [0.5, 0.9], "seed": [0, 3]},
            "logspace": {"optimizer.learning_rate": [-1.0, 0.0, 2]},
            "linspace": {"loss.l2": [0.0, 2.0, 2]},
        },
        dtype="float64",
        optimizer={"name": "momentum"},
        train={"epochs": 25, "log_every": 25},
    )
    result = run_sweep(cfg)
    assert result.final_loss.size == 16 and not result.diverged.any()
    assert list(result.values) == ["loss.l2", "optimizer.learning_rate", "optimizer.momentum", "seed"]
    for i in (6, 13):
        member = member_config(cfg, result.values, i)
        single = lj.fit(member)
        assert member.optimizer.learning_rate == result.values["optimizer.learning_rate"][i]
        np.testing.assert_allclose(result.loss[i], single.history.loss, rtol=1e-12)
        assert result.final_loss[i] == pytest.approx(single.history.final_loss, rel=1e-12)
    # Different seeds start from different θ; the same seed from the same one.
    assert result.loss[0, 0] != result.loss[1, 0] and result.loss[0, 0] == result.loss[2, 0]


def test_lbfgs_members_keep_the_configured_memory(x64):
    """L-BFGS's memory_size is static (it sets shapes) and reaches every member: with 50 past
    steps on the unpenalized degree-6 microchips (28 parameters) the curves differ from the default
    10 after the 10th iteration, so only the configured memory matches lj.fit."""
    cfg = sweep_config(
        {"values": {"loss.l2": [0.0, 0.5]}},
        dtype="float64",
        data={"path": "data/microchips.txt"},
        features={"polynomial_degree": 6, "standardize": False},
        optimizer={"name": "lbfgs", "memory_size": 50},
        train={"epochs": 25, "log_every": 25},
    )
    result = run_sweep(cfg)
    for i in range(2):
        single = lj.fit(member_config(cfg, result.values, i))
        np.testing.assert_allclose(result.loss[i], single.history.loss, rtol=1e-9)
    default_memory = lj.fit(
        member_config(
            dataclasses.replace(cfg, base=replace_key(cfg.base, "optimizer.memory_size", 10)), result.values, 0
        )
    )
    assert not np.allclose(result.loss[0], default_memory.history.loss, rtol=1e-9)


def test_the_sweep_reads_data_like_fit():
    """data.path = "xor" (no file) is the synthetic XOR set, as in lj.fit; a member equals its fit.
    (The seed is not swept here: for synthetic data it also draws the data, which a sweep shares.)"""
    cfg = sweep_config(
        {"values": {"optimizer.learning_rate": [0.01, 0.05]}},
        data={"path": "xor"},
        model={"name": "mlp"},
        optimizer={"name": "adam"},
        train={"epochs": 10, "log_every": 10},
    )
    result = run_sweep(cfg)
    for i in range(2):  # each member is its own fit, with its own learning rate
        single = lj.fit(member_config(cfg, result.values, i))
        np.testing.assert_allclose(result.loss[i], single.history.loss, rtol=1e-5)


def test_a_diverged_member_is_flagged_and_disturbs_no_other():
    """Raw exam scores (~50) with a step of 1e37 overflow float32 in one update; the other members
    are the same as separate runs."""
    cfg = sweep_config(
        {"values": {"optimizer.learning_rate": [1e-3, 1e37, 0.003]}},
        features={"standardize": False},
        train={"epochs": 20, "log_every": 20},
    )
    result = run_sweep(cfg)
    np.testing.assert_array_equal(result.diverged, [False, True, False])
    single = lj.fit(member_config(cfg, result.values, 2))
    np.testing.assert_allclose(result.loss[2], single.history.loss, rtol=1e-5)
    assert best_setting(result)["setting"] == {"optimizer.learning_rate": 1e-3}  # lowest final loss


def test_grid_specs_and_bad_sweeps():
    cfg = sweep_config({"logspace": {"optimizer.learning_rate": [-3, 1, 5]}, "values": {"seed": [1, 2]}})
    values = grid(cfg)
    np.testing.assert_allclose(values["optimizer.learning_rate"], np.repeat([1e-3, 1e-2, 1e-1, 1, 10], 2))
    np.testing.assert_array_equal(values["seed"], [1, 2] * 5)
    with pytest.raises(lj.ConfigError, match="sweep.values.*train.epochs"):
        sweep_config({"values": {"train.epochs": [10, 20]}})
    with pytest.raises(lj.ConfigError, match="sweep member 1.*optimizer.learning_rate = -1.0"):
        run_sweep(sweep_config({"values": {"optimizer.learning_rate": [1.0, -1.0]}}))
    with pytest.raises(lj.ConfigError, match="sweep.values = 'a'"):
        sweep_config({"values": "a"})


@pytest.mark.slow
def test_sweep_script(tmp_path):
    out = tmp_path / "sweep"
    """A small grid through the script; train.tol stops the largest learning rate's members early,
    each member on its own, inside the one vmapped call."""
    sweep_script.main(
        [
            "configs/sweep_lr.toml",
            "--out",
            str(out),
            "--set",
            "train.epochs=15",
            "--set",
            "train.tol=2e-2",
            "--set",
            'sweep.logspace={"optimizer.learning_rate" = [-2.0, 1.0, 4]}',
            "--set",
            "sweep.values={seed = [0, 1]}",
        ]
    )
    assert {p.name for p in out.iterdir()} == {
        ".logreg_jax_run",
        "config.json",
        "metrics.json",
        "sweep.csv",
        "sweep.png",
        "curves.png",
    }
    with open(out / "sweep.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 8 and {r["seed"] for r in rows} == {"0", "1"}
    assert {r["diverged"] for r in rows} == {"false"}
    iterations = {float(r["optimizer.learning_rate"]): int(r["iterations"]) for r in rows if r["seed"] == "0"}
    assert iterations[0.01] == 15 and iterations[1.0] == 15 and 0 < iterations[10.0] < 15
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["members"] == 8 and metrics["diverged"] == 0
    assert metrics["best"]["setting"]["optimizer.learning_rate"] == pytest.approx(10.0)
    assert metrics["best_member"]["final_loss"] == min(float(r["final_loss"]) for r in rows)
