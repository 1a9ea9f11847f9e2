"""Loading datasets, and every kind of bad data file answered with a clear DataError."""

import os

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


def test_byte_order_mark_and_quotes_stay_out_of_the_names(tmp_path):
    """Issue 18: a spreadsheet's UTF-8 BOM and quoted header fields: the names are the plain words."""
    path = tmp_path / "bom.csv"
    path.write_bytes('\ufeff"score1",\'score2\',"label"\n1,2,0\n3,4,1\n'.encode())
    data = lj.load_dataset(path)
    assert data.feature_names == ("score1", "score2")
    np.testing.assert_array_equal(data.X, [[1, 2], [3, 4]])


def test_a_fifo_is_refused_not_read(tmp_path):
    """Issue 18: a FIFO as the data file would block forever; it is refused before it is opened."""
    fifo = tmp_path / "rows.fifo"
    os.mkfifo(fifo)
    with pytest.raises(lj.DataError, match="not a regular file"):
        lj.load_dataset(fifo)


def test_a_huge_field_is_cut_in_the_message(tmp_path):
    """Issue 18: a 2-million-character field is named by its start and length, not echoed whole."""
    path = tmp_path / "long.csv"
    path.write_text(f"1,2,0\n{'9' * 2_000_000}x,4,1\n")
    with pytest.raises(lj.DataError) as err:
        lj.load_dataset(path)
    assert len(str(err.value)) < 200 and "2,000,001 characters" in str(err.value) and ":2:" in str(err.value)


def test_semicolons_with_decimal_commas_get_a_hint(tmp_path):
    path = tmp_path / "de.csv"
    path.write_text("34,6;78,0;0\n30,2;43,8;0\n")
    with pytest.raises(lj.DataError, match="separated by semicolons.*decimal commas"):
        lj.load_dataset(path)
