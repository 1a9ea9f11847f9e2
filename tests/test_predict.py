"""experiments/predict.py and lj.load_run: a run's model applied to new rows, against train.py's own numbers."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, load_script, train_run, write_text
from sklearn.metrics import log_loss, roc_auc_score

import logreg_jax as lj
from logreg_jax.cli.args import run_main
from logreg_jax.runs.folder import MARKER, run_files
from logreg_jax.runs.predictor import label_scores
from logreg_jax.runs.store import load_fit

predict_script = load_script("predict")
EXAM = np.loadtxt(ROOT / "data" / "exam_scores.txt", delimiter=",")


@pytest.fixture(scope="module")
def run64(tmp_path_factory):
    """The exam-scores model fitted to convergence in float64 (784 iterations, ~2 s)."""
    return train_run(tmp_path_factory, "configs/exam_scores_converged.toml", "conv64")


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], np.array(rows[1:], dtype=np.float64)


def predict(run, data, out):
    predict_script.main([str(run), str(data), "--out", str(out)])
    return read_csv(out)


def test_predictions_equal_train_py_and_the_raw_unit_formula(run64, tmp_path):
    rows = np.vstack([[45.0, 85.0], EXAM[:20, :2]])
    data = write_text(tmp_path, "new.txt", "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in rows))
    header, table = predict(run64, data, tmp_path / "p.csv")
    assert header == ["x1", "x2", "p_0", "p_1", "predicted"]
    np.testing.assert_array_equal(table[:, :2], rows)
    reported = json.loads((run64 / "metrics.json").read_text())["predictions"][0]
    assert reported["x"] == [45.0, 85.0]
    assert abs(table[0, 3] - reported["probability"]) <= 1e-12
    # An independent reference: σ(θ'·[1, x]) with θ in raw units, as metrics.json reports it.
    theta = np.asarray(json.loads((run64 / "metrics.json").read_text())["theta_original_units"])
    np.testing.assert_allclose(table[:, 3], 1 / (1 + np.exp(-(theta[0] + rows @ theta[1:]))), rtol=1e-10)
    expected = lj.predict_proba(load_fit(run64), rows)[:, 1]
    np.testing.assert_allclose(table[:, 3], expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(lj.load_run(run64).predict_proba(rows)[:, 1], expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(table[:, 2] + table[:, 3], 1.0, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(table[:, 4], expected >= 0.5)


def test_header_and_label_column_give_loss_accuracy_and_auc(run64, tmp_path, capsys):
    body = "".join(f"{float(a)!r},{float(b)!r},{int(y)}\n" for a, b, y in EXAM)
    data = write_text(tmp_path, "labelled.csv", "exam1,exam2,admitted\n" + body)
    header, table = predict(run64, data, tmp_path / "p.csv")
    assert header == ["exam1", "exam2", "admitted", "p_0", "p_1", "predicted"]
    np.testing.assert_array_equal(table[:, :3], EXAM)
    printed = capsys.readouterr().out
    assert "100 rows of 2 features (exam1, exam2), with a label column (admitted)" in printed
    # Independent references: scikit-learn's metrics on the written probabilities.
    y, p1 = EXAM[:, 2], table[:, 4]
    assert f"loss {log_loss(y, p1):.6f}" in printed  # the converged model: 0.203498
    assert f"accuracy {np.mean((p1 >= 0.5) == y):.4f}" in printed  # 0.8900
    assert f"ROC AUC {roc_auc_score(y, p1):.4f}" in printed
    s = label_scores(lj.load_run(run64), EXAM[:, :2], y)
    assert s["loss"] == pytest.approx(log_loss(y, p1), rel=1e-12)
    assert s["auc"] == pytest.approx(roc_auc_score(y, p1), abs=1e-15)


def test_npy_input_and_the_default_output_path(run64, tmp_path, capsys):
    np.save(tmp_path / "points.npy", EXAM[:5, :2])
    predict_script.main([str(run64), str(tmp_path / "points.npy")])
    out = run64 / "predictions" / "points.csv"
    assert f"wrote {out}" in capsys.readouterr().out
    header, table = read_csv(out)
    assert header == ["x1", "x2", "p_0", "p_1", "predicted"]
    np.testing.assert_allclose(table[:, 3], lj.predict_proba(load_fit(run64), EXAM[:5, :2])[:, 1], rtol=0, atol=1e-12)
    assert [p.name for p in out.parent.iterdir()] == ["points.csv"]  # no partial file left behind
    assert "predictions" in run_files(run64)  # the run's own: a retrained run replaces it


@pytest.mark.parametrize(
    "text,message",
    [
        ("1,2,3,4\n", "bad.txt: 4 columns; the run's model takes 2 features (x1, x2), so expected 2 columns, or 3"),
        ("1\n", "bad.txt: 1 columns"),
        ("1,2\n3\n", "bad.txt:2: expected 2 comma-separated fields, found 1"),
        ("1,2\n3,abc\n", "bad.txt:2: 'abc' is not a number"),
        ("a,b\n", "bad.txt: the file has a header line but no data rows"),
        ("1,2,0\n3,4,2\n", "bad.txt:2: label 2 is not 0 or 1"),
        ("1,inf\n", "not finite"),
    ],
)
def test_bad_rows_are_one_line_errors_and_write_nothing(run64, tmp_path, capsys, text, message):
    data = write_text(tmp_path, "bad.txt", text)
    with pytest.raises(SystemExit) as exit_:
        run_main(lambda: predict_script.main([str(run64), str(data), "--out", str(tmp_path / "p.csv")]))
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.startswith("error: ") and err.count("\n") == 1 and message in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.txt"]


def test_folders_that_are_not_train_runs(run64, tmp_path, capsys):
    data = write_text(tmp_path, "ok.txt", "1,2\n")
    sweep = tmp_path / "sweep_run"
    sweep.mkdir()
    (sweep / MARKER).write_text('{"written_by": "logreg_jax", "kind": "sweep"}')
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [
        (sweep, "a run folder of experiments/sweep.py, not of experiments/train.py"),
        (empty, f"not a run folder (no {MARKER} marker)"),
        (tmp_path / "nowhere", "no such folder"),
    ]
    for run, message in cases:
        with pytest.raises(SystemExit):
            run_main(lambda: predict_script.main([str(run), str(data)]))
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err
    assert not (sweep / "predictions").exists() and list(empty.iterdir()) == []
    with pytest.raises(lj.DataError, match=r"expected rows of 2 features \(x1, x2\), found an array of shape \(3,\)"):
        lj.load_run(run64).predict_proba([1.0, 2.0, 3.0])


@pytest.mark.slow
def test_command_line_error_is_one_line_without_traceback(run64, tmp_path):
    data = write_text(tmp_path, "bad.txt", "1,2,3,4\n")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "predict.py"), str(run64), str(data)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("error: ")
    assert not (run64 / "predictions" / "bad.csv").exists()


@pytest.mark.slow
def test_a_softmax_run_predicts_every_class(tmp_path_factory, tmp_path, capsys):
    run = tmp_path_factory.mktemp("runs") / "iris"
    load_script("train").main(
        ["configs/iris_softmax.toml", "--out", str(run), "--set", "train.epochs=30", "--set", "train.log_every=30"]
    )
    header, table = predict(run, "data/iris.csv", tmp_path / "p.csv")
    assert header[-4:] == ["p_0", "p_1", "p_2", "predicted"]
    iris = lj.load_dataset("data/iris.csv", multiclass=True)
    proba = lj.predict_proba(load_fit(run), iris.X)
    np.testing.assert_allclose(table[:, -4:-1], proba, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(table[:, -1], proba.argmax(axis=1))
    printed = capsys.readouterr().out
    assert f"accuracy {np.mean(proba.argmax(axis=1) == iris.y):.4f}" in printed and "ROC AUC" not in printed
    bad = write_text(tmp_path, "bad.csv", "5.1,3.5,1.4,0.2,3\n")
    with pytest.raises(lj.DataError, match="bad.csv:1: label 3 is not one of the model's classes 0 … 2"):
        predict(run, bad, tmp_path / "q.csv")


def test_out_never_replaces_a_file_or_folder_the_user_has(run64, tmp_path, capsys):
    data = write_text(tmp_path, "rows.txt", "45,85\n")
    folder = tmp_path / "folder"
    folder.mkdir()
    for out in (data, folder):
        with pytest.raises(SystemExit):
            run_main(lambda out=out: predict_script.main([str(run64), str(data), "--out", str(out)]))
        err = capsys.readouterr().err
        assert (
            err
            == f"error: --out {out}: exists; choose a new file (the default, RUN/predictions/<DATA stem>.csv, is replaced)\n"
        )
    assert data.read_text() == "45,85\n" and list(folder.iterdir()) == []


@pytest.fixture(scope="module")
def named_run(tmp_path_factory):
    """A float32 run trained on a file with a header (exam1, exam2, admitted)."""
    folder = tmp_path_factory.mktemp("named")
    train = folder / "train.csv"
    np.savetxt(train, EXAM, delimiter=",", header="exam1,exam2,admitted", comments="", fmt="%.17g")
    out = folder / "run"
    load_script("train").main(["configs/exam_scores.toml", "--out", str(out), "--set", f'data.path="{train}"'])
    return out


def predict_error(run, data, tmp_path, capsys) -> str:
    with pytest.raises(SystemExit) as exit_:
        run_main(lambda: predict_script.main([str(run), str(data), "--out", str(tmp_path / "p.csv")]))
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert not (tmp_path / "p.csv").exists()
    return err


def test_columns_are_matched_by_header_name(named_run, tmp_path, capsys):
    """Issue 18: swapped columns (exam2, exam1) are predicted by name, not position; other names are refused."""
    straight = tmp_path / "straight.csv"
    np.savetxt(straight, EXAM[:10], delimiter=",", header="exam1,exam2,admitted", comments="", fmt="%.17g")
    swapped = tmp_path / "swapped.csv"
    np.savetxt(swapped, EXAM[:10, [1, 0, 2]], delimiter=",", header="exam2,exam1,admitted", comments="", fmt="%.17g")
    head_a, a = predict(named_run, straight, tmp_path / "a.csv")
    head_b, b = predict(named_run, swapped, tmp_path / "b.csv")
    assert head_a == head_b and head_a[:3] == ["exam1", "exam2", "admitted"]
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[:, :3], EXAM[:10])
    other = write_text(tmp_path, "other.csv", "height,weight\n1,2\n")
    assert "the header has no column 'exam1'" in predict_error(named_run, other, tmp_path, capsys)


def test_values_beyond_the_dtype_are_an_error_not_nan(named_run, tmp_path, capsys):
    """Issue 18: 1e300 in a float32 run gave NaN probabilities and a NaN loss with exit 0."""
    data = write_text(tmp_path, "huge.csv", "exam1,exam2,admitted\n45,85,1\n1e300,1e300,1\n")
    err = predict_error(named_run, data, tmp_path, capsys)
    assert "huge.csv: data row 2 (1e+300, 1e+300): no finite probability" in err and "float32" in err
