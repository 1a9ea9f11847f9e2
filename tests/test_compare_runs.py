"""experiments/compare_runs.py: exactly the config keys that differ, the metrics each run wrote, the figure."""

import csv
import json

import pytest
from conftest import load_script

import logreg_jax as lj
from logreg_jax.cli.args import run_main
from logreg_jax.runs.compare import RunInfo, collect, comparison_rows, differing_keys, flatten
from logreg_jax.runs.folder import MARKER

pytestmark = pytest.mark.slow  # three training runs and the script on them

compare_script = load_script("compare_runs")
RUNS = {"sgd_lr1": ("sgd", 1.0), "sgd_lr03": ("sgd", 0.3), "adam": ("adam", 0.1)}


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory):
    """Three 15-epoch exam-scores runs differing only in optimizer.name and optimizer.learning_rate."""
    root = tmp_path_factory.mktemp("runs")
    train = load_script("train")
    for name, (optimizer, lr) in RUNS.items():
        train.main(
            [
                "configs/exam_scores.toml",
                "--out",
                str(root / name),
                "--set",
                f"optimizer.name='{optimizer}'",
                "--set",
                f"optimizer.learning_rate={lr}",
                "--set",
                "train.epochs=15",
            ]
        )
    return [root / name for name in RUNS]


SWEEP_MARKER = '{"written_by": "logreg_jax", "kind": "sweep"}'


def fake_run(folder, files):
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_three_runs_show_exactly_the_keys_that_differ(three_runs, tmp_path, capsys):
    not_a_run = tmp_path / "notes"
    not_a_run.mkdir()
    out = tmp_path / "comparison"
    compare_script.main([*map(str, three_runs), str(not_a_run), "--out", str(out)])
    printed = capsys.readouterr().out
    assert f"{not_a_run}: skipped, not a run folder (no .logreg_jax_run)" in printed
    assert sorted(p.name for p in out.iterdir()) == [".logreg_jax_run", "comparison.csv", "comparison.md", "curves.png"]
    with open(out / "comparison.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert list(table[0]) == [
        "run",
        "optimizer.learning_rate",
        "optimizer.name",
        "final_loss",
        "train_accuracy",
        "epochs",
        "converged",
    ]
    for row, folder in zip(table, three_runs):
        optimizer, lr = RUNS[folder.name]
        metrics = json.loads((folder / "metrics.json").read_text())
        assert row["run"] == folder.name and row["optimizer.name"] == optimizer
        assert float(row["optimizer.learning_rate"]) == lr
        assert float(row["final_loss"]) == metrics["final_loss"]  # written at full precision
        assert float(row["train_accuracy"]) == metrics["train_accuracy"]
        assert int(row["epochs"]) == 15 and row["converged"] == "false"
    md = (out / "comparison.md").read_text()
    assert "| run | optimizer.learning_rate | optimizer.name | final_loss |" in md and md.count("\n| adam |") == 1
    assert md.split("\n", 2)[2].strip() in printed  # the same table is printed
    png = (out / "curves.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000


def test_differing_keys_count_an_absent_key_as_a_value():
    runs = [
        RunInfo(None, n, "train", flatten(c), {}, None)
        for n, c in [
            ("a", {"name": "a", "seed": 0, "optimizer": {"name": "sgd"}, "predict": {"points": [[1.0, 2.0]]}}),
            ("b", {"name": "b", "seed": 0, "optimizer": {"name": "sgd"}, "predict": {"points": [[1.0, 3.0]]}}),
            (
                "c",
                {"name": "c", "seed": 0, "optimizer": {"name": "sgd", "extra": 1}, "predict": {"points": [[1.0, 2.0]]}},
            ),
        ]
    ]
    assert differing_keys(runs) == ["optimizer.extra", "predict.points"]  # "name" is the run column
    rows, columns = comparison_rows(runs)
    assert columns == ["run", "optimizer.extra", "predict.points"]
    assert [r["optimizer.extra"] for r in rows] == [None, None, 1] and rows[1]["predict.points"] == "[[1.0, 3.0]]"


def test_runs_of_different_kinds(three_runs, tmp_path):
    sweep = fake_run(
        tmp_path / "sweep",
        {
            "config.json": '{"name": "s", "sweep": {"x": "seed"}}',
            "sweep.csv": "",
            "metrics.json": '{"epochs": 100}',
            MARKER: SWEEP_MARKER,
        },
    )
    with pytest.raises(lj.DataError, match=r"a sweep.py run\): sweep.py runs have no final_loss"):
        collect([three_runs[0], sweep])
    # Runs of one kind compare whatever they share, here the config and epochs.
    other = fake_run(
        tmp_path / "sweep2",
        {
            "config.json": '{"name": "s", "sweep": {"x": "loss.l2"}}',
            "sweep.csv": "",
            "metrics.json": '{"epochs": 100}',
            MARKER: SWEEP_MARKER,
        },
    )
    runs, notes = collect([sweep, other])
    assert notes == [] and comparison_rows(runs)[1] == ["run", "sweep.x", "epochs"]


def test_no_run_folder_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "a").mkdir()  # a folder, not a run folder (a missing path is an error of its own)
    with pytest.raises(SystemExit) as exit_:
        run_main(lambda: compare_script.main([str(tmp_path / "a"), str(tmp_path), "--out", str(tmp_path / "c")]))
    err = capsys.readouterr().err
    assert (
        exit_.value.code == 2
        and err == "error: none of the 2 path(s) is a run folder (a folder with .logreg_jax_run)\n"
    )
    assert not (tmp_path / "c").exists()
