"""experiments/compare_gradients.py end to end on a small config, and its config's validation."""

import csv

import pytest
from conftest import load_script

import logreg_jax as lj
from logreg_jax.studies.gradcheck import METHODS
from logreg_jax.studies.gradients import GradientsConfig

script = load_script("compare_gradients")

SMALL = [
    "compare.data_files=[]",
    "compare.polynomial_degrees=[]",
    "compare.synthetic_sizes=[100]",
    "compare.synthetic_features=8",
    "compare.draws=2",
    "compare.timing_sizes=[100]",
    "compare.timing_repeats=2",
    "train.epochs=30",
    "train.log_every=30",
]


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


@pytest.mark.slow  # the whole experiment
def test_smoke_run_writes_the_run_folder_and_the_errors_are_small(tmp_path, capsys):
    out = tmp_path / "cg"
    script.main(["configs/compare_gradients.toml", "--out", str(out), *[a for s in SMALL for a in ("--set", s)]])
    assert {p.name for p in out.iterdir()} == {
        ".logreg_jax_run",
        "config.json",
        "gradients.csv",
        "timing.csv",
        "report.md",
        "errors.png",
        "timing.png",
    }
    assert (out / "errors.png").stat().st_size > 20_000 and (out / "timing.png").stat().st_size > 20_000
    rows = read_csv(out / "gradients.csv")
    # 2 draws + the optimum, 2 dtypes, and every (quantity, method).
    assert len(rows) == 3 * 2 * sum(len(m) for m in METHODS.values())
    assert {r["point"] for r in rows} == {"draw 0", "draw 1", "optimum"}
    assert {(r["dataset"], r["m"], r["n"]) for r in rows} == {("synthetic m=100", "100", "9")}
    for r in rows:
        err = float(r["rel_err"])
        if r["dtype"] == "float64":
            assert err <= (1e-6 if r["method"] == "finite_diff" else 1e-12), r
        elif r["method"] != "finite_diff":
            assert err <= 1e-5, r
        else:  # float32 finite differences: poor, but not useless
            assert 1e-7 < err < 1e-2, r
        # Σ|terms| ≥ |value|: the measure is never looser than max|a − b| / max|b|.
        assert err <= float(r["rel_to_value"]) * (1 + 1e-12)
        assert float(r["rel_to_value"]) == pytest.approx(float(r["max_abs_err"]) / float(r["ref_max_abs"]))
    timing = read_csv(out / "timing.csv")
    # timing_sizes = [100] is the synthetic size above, so the timed functions reuse its compilations.
    assert [(t["m"], t["dtype"]) for t in timing] == [("100", "float32"), ("100", "float64")]
    assert all(float(t["analytic_s"]) > 0 and float(t["autodiff_s"]) > 0 for t in timing)  # no timed bounds
    report = (out / "report.md").read_text()
    assert "| gradient | autodiff |" in report and "| 100 | 9 | float64 |" in report
    assert "max |a − b| / max Σ|terms|" in report
    assert report in capsys.readouterr().out


def test_shipped_config_is_the_full_comparison():
    cfg = lj.load_config("configs/compare_gradients.toml", cls=GradientsConfig)
    assert cfg.compare.synthetic_sizes == (100, 10_000, 1_000_000) and cfg.compare.synthetic_features == 32
    assert cfg.compare.data_files == ("data/exam_scores.txt", "data/microchips.txt")
    assert cfg.compare.polynomial_degrees == (1, 6) and cfg.compare.dtypes == ("float32", "float64")
    assert cfg.compare.include_optimum and cfg.base.optimizer.name == "lbfgs"


@pytest.mark.parametrize(
    "override,message",
    [
        ("compare.draws=-1", "compare.draws = -1: expected an integer >= 0"),
        ('compare.dtypes=["float16"]', "compare.dtypes = ['float16']"),
        ("compare.dtypes=[]", "compare.dtypes = []"),
        ("compare.polynomial_degrees=[1]", "compare.polynomial_degrees = [1]: expected one integer >= 1 per data file"),
        ("compare.synthetic_sizes=[0]", "compare.synthetic_sizes = [0]"),
        ("compare.timing_repeats=0", "compare.timing_repeats = 0"),
        ("compare.draw_scale=0", "compare.draw_scale = 0"),
        ('compare.draws="3"', "compare.draws = '3': expected an integer"),
        ("compare.repeats=3", "unknown key 'compare.repeats'"),
    ],
)
def test_bad_config_values_are_named(override, message):
    with pytest.raises(lj.ConfigError) as err:
        lj.load_config("configs/compare_gradients.toml", [override], cls=GradientsConfig)
    assert message in str(err.value) and "configs/compare_gradients.toml" in str(err.value)


def test_nothing_to_compare_is_an_error():
    with pytest.raises(
        lj.ConfigError, match="compare.draws = 0: expected an integer >= 1 when include_optimum = false"
    ):
        lj.load_config(
            "configs/compare_gradients.toml", ["compare.draws=0", "compare.include_optimum=false"], cls=GradientsConfig
        )
    with pytest.raises(lj.ConfigError, match=r"compare.synthetic_sizes = \[\]: expected at least one size"):
        lj.load_config(
            "configs/compare_gradients.toml",
            ["compare.data_files=[]", "compare.polynomial_degrees=[]", "compare.synthetic_sizes=[]"],
            cls=GradientsConfig,
        )
