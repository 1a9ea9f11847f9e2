"""Loading datasets, and every kind of bad data file answered with a clear DataError."""

import numpy as np
import pytest
from conftest import write_text

import logreg_jax as lj


def test_loads_exam_scores():
    data = lj.load_dataset("data/exam_scores.txt")
    assert data.X.shape == (100, 2) and data.X.dtype == np.float64
    assert data.y.shape == (100,) and set(np.unique(data.y)) == {0.0, 1.0}
    assert data.feature_names == ("x1", "x2")
    # First row of the file: 34.62365962451697,78.0246928153624,0
    np.testing.assert_array_equal(data.X[0], [34.62365962451697, 78.0246928153624])
    assert int(data.y.sum()) == 60


def test_microchips_is_bundled():
    data = lj.load_dataset("data/microchips.txt")
    assert data.X.shape == (118, 2)


def test_header_line_names_features(tmp_path):
    path = write_text(tmp_path, "d.csv", "exam1, exam2, admitted\n1,2,0\n3,4,1\n\n")
    data = lj.load_dataset(path)
    assert data.feature_names == ("exam1", "exam2")
    np.testing.assert_array_equal(data.X, [[1, 2], [3, 4]])


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "empty"),
        ("\n  \n", "empty"),
        ("a,b,label\n", "no data rows"),
        ("1,2,0\n3,4,1\n5,6\n", ":3: expected 3 comma-separated fields, found 2"),
        ("1,2,0\n3,x,1\n", ":2: 'x' is not a number"),
        ("1,2,0\n3,nan,1\n", ":2: 'nan' is not finite"),
        ("1,inf,0\n3,4,1\n", ":1: 'inf' is not finite"),
        ("1,2,0\n3,4,2\n", ":2: label 2 is not 0 or 1"),
        ("1,2,1\n3,4,1\n", "every label is 1"),
        ("1\n2\n", "at least 2 comma-separated fields"),
    ],
)
def test_bad_files_are_named(tmp_path, text, message):
    path = write_text(tmp_path, "bad.csv", text)
    with pytest.raises(lj.DataError, match="bad.csv") as err:
        lj.load_dataset(path)
    assert message in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(lj.DataError, match="no such data file"):
        lj.load_dataset(tmp_path / "nope.txt")


def test_blank_and_comment_lines_are_skipped_and_lines_keep_their_numbers(tmp_path):
    plain = lj.load_dataset(write_text(tmp_path, "plain.txt", "1,2,0\n3,4,1\n"))
    commented = write_text(tmp_path, "c.txt", "# exam scores\n1,2,0\n\n  # a note\n3,4,1\n")
    data = lj.load_dataset(commented)
    np.testing.assert_array_equal(data.X, plain.X)
    np.testing.assert_array_equal(data.y, plain.y)
    with pytest.raises(lj.DataError, match=r"bad.txt:4: label 2 is not 0 or 1"):
        lj.load_dataset(write_text(tmp_path, "bad.txt", "# header comment\n1,2,0\n\n3,4,2\n"))
