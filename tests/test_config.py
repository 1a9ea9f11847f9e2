"""Configs: TOML files, typed overrides, and errors naming file, key and value."""

from pathlib import Path

import pytest
from conftest import ROOT, write_text

import logreg_jax as lj
from logreg_jax.config import config_from_dict, config_to_dict, parse_override, replace_key


def test_shipped_configs_load():
    cfg = lj.load_config("configs/exam_scores.toml")
    assert (cfg.optimizer.name, cfg.optimizer.learning_rate, cfg.train.epochs) == ("sgd", 1.0, 100)
    assert (cfg.model.init, cfg.features.standardize, cfg.plot.step, cfg.plot.levels) == ("uniform", True, 0.5, 20)
    assert cfg.predict.points == ((45.0, 85.0),)
    assert lj.load_config("configs/exam_scores_converged.toml").dtype == "float64"


STUDIES = {
    "compare_gradients": "gradients.GradientsConfig",
    "compare_models": "models.ModelsConfig",
    "compare_optimizers": "optimizers.OptimizersConfig",
    "microchips_regularization": "regularization.RegularizationConfig",
    "sweep_lr": "sweeps.SweepConfig",
    "breast_cancer_path": "path.PathConfig",
    "sparse_synthetic_path": "path.PathConfig",
    "breast_cancer_influence": "influence.InfluenceConfig",
    "digits_influence": "influence.InfluenceConfig",
    "exam_scores_influence": "influence.InfluenceConfig",
    "tune_l2": "tune.TuneConfig",
    "tune_l2_breast_cancer": "tune.TuneConfig",
}


@pytest.mark.parametrize("path", sorted((ROOT / "configs").glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_config_loads_with_its_script(path):
    import importlib

    module, _, name = STUDIES.get(path.stem, ".Config").rpartition(".")
    cls = getattr(importlib.import_module(f"logreg_jax.studies.{module}"), name) if module else lj.Config
    cfg = lj.load_config(path, cls=cls)
    assert getattr(cfg, "base", cfg).name == path.stem


def test_a_study_refuses_an_ignored_key_set_but_not_one_left_at_its_default():
    from logreg_jax.studies.sweeps import SweepConfig

    with pytest.raises(lj.ConfigError, match="data.test_fraction is set, but this experiment does not use it"):
        lj.load_config("configs/sweep_lr.toml", ["data.test_fraction=0.5"], cls=SweepConfig)
    assert lj.load_config("configs/sweep_lr.toml", ["data.test_fraction=0.0"], cls=SweepConfig)


def test_overrides_are_typed_like_toml():
    cfg = lj.load_config(
        "configs/exam_scores.toml",
        [
            "optimizer.learning_rate=0.5",
            "train.epochs=7",
            "features.standardize=false",
            "optimizer.name=adam",
            'name="other"',
            "predict.points=[[1, 2], [3.5, 4]]",
            "loss.l2=1",
        ],
    )
    assert cfg.optimizer.learning_rate == 0.5 and cfg.train.epochs == 7
    assert cfg.features.standardize is False and cfg.optimizer.name == "adam" and cfg.name == "other"
    assert cfg.predict.points == ((1.0, 2.0), (3.5, 4.0)) and cfg.loss.l2 == 1.0
    assert isinstance(cfg.loss.l2, float)


def test_parse_override():
    assert parse_override("a.b=1e-3") == (["a", "b"], 1e-3)
    assert parse_override("a=[1, 2]") == (["a"], [1, 2])
    assert parse_override("a=adam") == (["a"], "adam")


@pytest.mark.parametrize(
    "override,message",
    [
        ("optimizer.learning_rate=0", "optimizer.learning_rate = 0: expected a finite number > 0"),
        ("optimizer.learning_rate=-1.5", "optimizer.learning_rate = -1.5"),
        ("optimizer.learning_rate=fast", "optimizer.learning_rate = 'fast': expected a number"),
        ("train.epochs=0", "train.epochs = 0: expected an integer > 0"),
        ("train.epochs=1.5", "train.epochs = 1.5: expected an integer"),
        ("train.epochs=true", "train.epochs = True: expected an integer"),
        ("optimizer.name=rmsprop", "optimizer.name = 'rmsprop': expected one of sgd, momentum, adam, lbfgs"),
        ("model.init=ones", "model.init = 'ones': expected one of uniform, zeros, normal"),
        ("model.name=svm", "model.name = 'svm'"),
        ("features.standardize=1", "features.standardize = 1: expected true or false"),
        ("optimizer.lr=0.1", "unknown key 'optimizer.lr'"),
        ("optimiser.learning_rate=0.1", "unknown key 'optimiser'"),
        ("loss.l2=-1", "loss.l2 = -1"),
        ("dtype=float16", "dtype = 'float16'"),
        ("plot.x1=[110, 20]", "plot.x1 = [110, 20]"),
        ("train.epochs.x=1", "'epochs' is a value, not a table"),
    ],
)
def test_bad_overrides_name_key_value_and_file(override, message):
    with pytest.raises(lj.ConfigError) as err:
        lj.load_config("configs/exam_scores.toml", [override])
    assert message in str(err.value)
    if "is a value" not in message:
        assert "configs/exam_scores.toml" in str(err.value)


def test_set_without_equals():
    with pytest.raises(lj.ConfigError, match="expected key=value"):
        lj.load_config("configs/exam_scores.toml", ["optimizer.learning_rate"])


def test_bad_files(tmp_path):
    with pytest.raises(lj.ConfigError, match="no such config file"):
        lj.load_config(tmp_path / "missing.toml")
    with pytest.raises(lj.ConfigError, match="not valid TOML"):
        lj.load_config(write_text(tmp_path, "bad.toml", "[train\nepochs = 1"))
    with pytest.raises(lj.ConfigError, match=r"bad2.toml: unknown key 'train.epoch'"):
        lj.load_config(write_text(tmp_path, "bad2.toml", "[train]\nepoch = 1\n"))
    with pytest.raises(lj.ConfigError, match=r"bad3.toml: train.epochs = -3"):
        lj.load_config(write_text(tmp_path, "bad3.toml", "[train]\nepochs = -3\n"))


def test_defaults_live_in_one_place():
    assert config_from_dict({}) == lj.Config()


def test_experiments_compose_the_config_with_their_own_keys():
    from dataclasses import dataclass, field

    @dataclass(frozen=True)
    class StudyConfig:
        base: lj.Config = field(default_factory=lj.Config)
        lambdas: tuple[float, ...] = (0.0, 1.0)

    cfg = config_from_dict({"lambdas": [2, 3]}, "s.toml", ["train.epochs=5"], cls=StudyConfig)
    assert cfg.lambdas == (2.0, 3.0) and cfg.base.train.epochs == 5
    assert config_to_dict(cfg) == {**config_to_dict(cfg.base), "lambdas": (2.0, 3.0)}  # flat, as in the TOML file
    with pytest.raises(lj.ConfigError, match="s.toml: lambdas = 'x'"):
        config_from_dict({"lambdas": "x"}, "s.toml", cls=StudyConfig)
    with pytest.raises(lj.ConfigError, match="s.toml: unknown key 'base'"):
        config_from_dict({"base": {}}, "s.toml", cls=StudyConfig)


def test_replace_key_validates_like_a_config_file():
    cfg = replace_key(lj.Config(), "optimizer.learning_rate", 0.5)
    assert cfg.optimizer.learning_rate == 0.5 and cfg.optimizer.name == lj.Config().optimizer.name
    with pytest.raises(lj.ConfigError, match="optimizer.learning_rate = -1.0: expected a finite number > 0"):
        replace_key(lj.Config(), "optimizer.learning_rate", -1.0)


def test_xor_and_synthetic_together_are_refused():
    with pytest.raises(lj.ConfigError, match="data.path = 'xor'"):
        config_from_dict({"data": {"path": "xor", "synthetic": {"m": 10}}}, "x.toml")


def test_experiments_refuse_inherited_keys_they_ignore():
    from logreg_jax.studies.gradients import GradientsConfig
    from logreg_jax.studies.sweeps import SweepConfig

    assert lj.load_config("configs/compare_gradients.toml", cls=GradientsConfig).base.model.name == "logistic"
    with pytest.raises(
        lj.ConfigError, match=r"compare_gradients.toml .*: model is set, but this experiment does not use it"
    ):
        lj.load_config("configs/compare_gradients.toml", ["model.name=mlp"], cls=GradientsConfig)
    with pytest.raises(lj.ConfigError, match="train.batch_size is set"):
        lj.load_config("configs/sweep_lr.toml", ["train.batch_size=10"], cls=SweepConfig)


def test_the_default_run_folder_is_runs_slash_name():
    from logreg_jax.cli.args import parse_args
    from logreg_jax.studies.regularization import RegularizationConfig
    from logreg_jax.studies.sweeps import SweepConfig

    for config, cls in [
        ("configs/exam_scores.toml", lj.Config),
        ("configs/sweep_lr.toml", SweepConfig),
        ("configs/microchips_regularization.toml", RegularizationConfig),
    ]:
        assert parse_args([config], "test", cls)[1] == Path("runs") / Path(config).stem


def test_set_a_whole_section_merges_into_it():
    """Issue 18: --set 'plot={levels=5}' sets levels and keeps what the file and earlier --set gave."""
    cfg = lj.load_config(ROOT / "configs/exam_scores.toml", ["plot.cmap=viridis", "plot={levels=5}"])
    assert cfg.plot.levels == 5 and cfg.plot.cmap == "viridis"
    assert cfg.plot.x1 == (20.0, 110.0) and cfg.plot.axis_labels == ("exam 1 score", "exam 2 score")
    nested = lj.load_config(ROOT / "configs/exam_scores.toml", ["data={xor={noise=0.1}}", "data.xor.m=40"])
    assert nested.data.xor == type(nested.data.xor)(m=40, noise=0.1) and nested.data.path == "data/exam_scores.txt"


def test_set_a_table_of_free_keys_replaces_it(tmp_path):
    """sweep.values is a table of swept keys, not a section: a --set gives the whole table."""
    from logreg_jax.studies.sweeps import SweepConfig

    cfg = lj.load_config(ROOT / "configs/sweep_lr.toml", ['sweep.values={"loss.l2" = [0.0, 1.0]}'], SweepConfig)
    assert list(cfg.sweep.values) == ["loss.l2"] and list(cfg.sweep.logspace) == ["optimizer.learning_rate"]
