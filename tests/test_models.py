"""A model from a user's own file (docs/models.md): the registry loads it by module:attr, it trains
to statsmodels' optimum, and every script works on its run folder."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

import logreg_jax as lj
from logreg_jax.models import registry

DOC = (ROOT / "docs" / "models.md").read_text()


def _block(lang: str, first_line: str = "") -> str:
    blocks = re.findall(rf"```{lang}\n(.*?)```", DOC, flags=re.S)
    return next(b for b in blocks if b.startswith(first_line))


@pytest.fixture
def user_folder(tmp_path, monkeypatch):
    """A folder holding the page's my_models.py and probit.toml, the bundled data beside them."""
    (tmp_path / "my_models.py").write_text(_block("python", "# my_models.py"))
    (tmp_path / "probit.toml").write_text(_block("toml"))
    (tmp_path / "data").symlink_to(ROOT / "data")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    sys.modules.pop("my_models", None)
    registry._resolve.cache_clear()


def test_probit_from_a_users_file_equals_statsmodels(user_folder):
    sm = pytest.importorskip("statsmodels.api")
    cfg = lj.load_config("probit.toml")
    fitted = lj.fit_config(cfg)
    data = np.loadtxt(ROOT / "data" / "exam_scores.txt", delimiter=",")
    ref = sm.Probit(data[:, 2], sm.add_constant(data[:, :2])).fit(disp=0, tol=1e-12)
    np.testing.assert_allclose(fitted.params, ref.params, rtol=1e-9)
    assert fitted.history.converged and fitted.history.final_loss == pytest.approx(-ref.llf / 100, rel=1e-12)
    assert fitted.model.name == "my_models:probit" and not fitted.model.inference
    # lj.fit takes the Model object itself, with any name in the config.
    import my_models

    direct = lj.fit(lj.load_config("probit.toml", ["model.name=logistic"]), model=my_models.probit)
    np.testing.assert_allclose(direct.params, fitted.params, rtol=1e-12)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("probit", "expected one of logistic, softmax, mlp, or module:attribute"),
        ("no_such_module:probit", "cannot load 'probit' from module 'no_such_module' (ModuleNotFoundError"),
        ("my_models:nothing", "cannot load 'nothing' from module 'my_models' (AttributeError"),
        ("my_models:log_ndtr", None),  # a function: called with the config, it must return a Model
        (":probit", "expected one of"),
    ],
)
def test_a_bad_model_name_is_one_line_naming_it(user_folder, name, expected):
    with pytest.raises(lj.ConfigError) as err:
        lj.fit_config(lj.load_config("probit.toml", [f"model.name={name}"]))
    message = str(err.value)
    assert "\n" not in message and f"model.name = {name!r}" in message
    assert expected is None or expected in message


@pytest.mark.slow
def test_every_script_works_on_the_users_model(user_folder):
    def run(script, *args):
        out = subprocess.run(
            [sys.executable, str(ROOT / "experiments" / f"{script}.py"), *args],
            capture_output=True,
            text=True,
            cwd=user_folder,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    printed = run("train", "probit.toml", "--out", "runs/probit")
    assert "final loss 0.200361 (" in printed and "training accuracy 0.900" in printed and "= 0.7622" in printed
    run("predict", "runs/probit", "data/exam_scores.txt", "--out", "p.csv")
    p = np.genfromtxt(user_folder / "p.csv", delimiter=",", names=True)
    assert np.mean((p["p_1"] >= 0.5) == (p["label"] == 1)) == pytest.approx(0.9)
    before = (user_folder / "runs/probit/decision_boundary.png").stat().st_mtime_ns
    run("replot", "runs/probit")
    assert (user_folder / "runs/probit/decision_boundary.png").stat().st_mtime_ns > before
    run("train", str(ROOT / "configs" / "exam_scores.toml"), "--out", "runs/logistic")
    table = run("compare_runs", "runs/probit", "runs/logistic", "--out", "cmp")
    assert "my_models:probit" in table and Path(user_folder / "cmp").is_dir()


def test_a_model_factory_gives_one_model_per_config(monkeypatch):
    """A function ``cfg -> Model`` that builds new partials each call must not cost a recompilation
    per fit: the registry builds each config's model once (jitted code keys on the Model)."""
    import functools
    import types

    from logreg_jax.config import ModelConfig
    from logreg_jax.models import logistic

    module = types.ModuleType("factory_models")
    module.make = lambda cfg: logistic.MODEL._replace(logits=functools.partial(logistic.logits))
    monkeypatch.setitem(sys.modules, "factory_models", module)
    cfg = ModelConfig(name="factory_models:make")
    assert lj.get_model(cfg) is lj.get_model(cfg)
    registry._resolve.cache_clear()
