"""Issue 18: checks before training (logreg_jax/preflight.py), each against a case that used to train."""

import numpy as np
import pytest
from conftest import ROOT

import logreg_jax as lj
from logreg_jax import preflight
from logreg_jax.data import splits
from logreg_jax.data.features import n_inputs
from logreg_jax.models import mlp

EXAM = ROOT / "configs" / "exam_scores.toml"


def test_test_path_equal_to_the_training_file_is_refused():
    cfg = lj.load_config(EXAM, ['data.test_path="data/exam_scores.txt"', "train.epochs=1"])
    with pytest.raises(lj.ConfigError, match="data.test_path = 'data/exam_scores.txt': is the training file"):
        lj.fit(cfg)


def test_held_out_rows_that_all_are_training_rows_are_refused(tmp_path):
    rows = np.loadtxt(ROOT / "data" / "exam_scores.txt", delimiter=",")
    copy = tmp_path / "copy.txt"
    np.savetxt(copy, rows[::-1][:30], delimiter=",", fmt="%.17g")  # 30 training rows, reordered
    cfg = lj.load_config(EXAM, [f'data.test_path="{copy}"', "train.epochs=1"])
    with pytest.raises(lj.DataError, match="every one of the 30 held-out rows is also a training row"):
        lj.fit(cfg)
    rows[0, 0] += 0.5  # one row the model never saw: a held-out set (if a small one)
    np.savetxt(copy, rows[:30], delimiter=",", fmt="%.17g")
    data = lj.load_dataset(ROOT / "data" / "exam_scores.txt")
    splits.check_held_out(cfg.data, data, lj.load_dataset(copy))


def test_a_bootstrap_that_cannot_fit_in_memory_is_refused_before_training():
    cfg = lj.load_config(EXAM, ["inference.bootstrap=100000000", "train.epochs=1"])
    # 1e8 resamples × (100 counts + 100 × 3 inputs + 3 × 3 Hessian) float64 numbers
    assert preflight.bootstrap_bytes(cfg, 100, 3) == 1e8 * (100 + 300 + 9) * 8
    with pytest.raises(lj.ConfigError, match=r"inference.bootstrap = 100000000: needs about 305 GiB"):
        preflight.check_memory("inference.bootstrap", 100000000, preflight.bootstrap_bytes(cfg, 100, 3), 64 << 30)
    with pytest.raises(lj.ConfigError, match="inference.bootstrap = 100000000: needs about"):
        lj.fit_config(cfg)  # refused before training


def test_a_huge_mlp_is_refused_before_training():
    cfg = lj.load_config(ROOT / "configs" / "mlp_microchips.toml", ["model.hidden=[200000, 200000]"])
    # parameters: (n+1)·200000 + 200001·200000 + 200001·1, 4 copies, float32
    data = lj.load_dataset(ROOT / "data" / "microchips.txt")
    n = n_inputs(2, cfg.features.polynomial_degree, False)
    need, key = mlp.memory_bytes(cfg, 118, n, 2)
    assert key == "model.hidden"
    assert need >= 4 * 200001 * 200000 * np.dtype(cfg.dtype).itemsize
    with pytest.raises(lj.ConfigError, match=r"model.hidden = \[200000, 200000\]: needs about"):
        lj.fit_config(cfg)  # refused before training
    shipped = lj.load_config(ROOT / "configs" / "mlp_microchips.toml")
    preflight.check(shipped, lj.get_model(shipped.model), *data.X.shape, 2, "microchips", data.X)  # it fits


def test_available_memory_is_at_most_physical_memory():
    import os

    assert 0 < preflight.available_memory() <= os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def test_the_memory_refusal_names_the_key_the_model_says_sets_it():
    """A model of one's own with a memory estimate is refused by the key it names, not the MLP's."""
    from logreg_jax.models.logistic import MODEL

    cfg = lj.load_config(ROOT / "configs" / "exam_scores.toml")
    huge = MODEL._replace(memory_bytes=lambda cfg, m, n, k: (1e30, "model.init"))
    with pytest.raises(lj.ConfigError, match=r"^model.init = 'uniform': needs about"):
        preflight.check(cfg, huge, 100, 2, 2, "exam_scores")
