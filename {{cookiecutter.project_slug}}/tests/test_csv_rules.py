"""The one set of rules a CSV table is read by, for training and for predict.py alike:
labels compared as numbers when they are numbers, empty/NaN/inf labels and duplicate
column names refused with the file and line, two classes or more each with training
rows, and cells of any size read (and then judged as values)."""

import random

import pytest
import torch

from {{cookiecutter.project_slug}}.data.splits import split_indices
from {{cookiecutter.project_slug}}.inference.inputs import PredictInputError, load_table
from {{cookiecutter.project_slug}}.utils.errors import DataError

from .conftest import run_script
from .test_csv_data import datamodule

BIG = 200 * 1024  # over the csv module's 128 KiB field limit


def write_rows(path, labels, header="a,b,label"):
    """Two feature columns that differ per row, then the given labels."""
    lines = [header] + [f"{i % 7},{-(i % 5) * 0.5},{label}" for i, label in enumerate(labels)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_labels_that_are_the_same_number_are_one_class(tmp_path):
    labels = ["1", "1.0", "2", "2.00", " 10 ", "1e1", "-0", "0"] * 6
    dm = datamodule(write_rows(tmp_path / "t.csv", labels))
    assert dm.classes == ["0", "1", "2", "10"]
    targets = torch.cat([dm.train_set.targets, dm.val_set.targets, dm.test_set.targets])
    assert sorted(targets.tolist()) == sorted([1, 1, 2, 2, 3, 3, 0, 0] * 6)


def test_class_order_is_numbers_then_text_whatever_the_row_order(tmp_path):
    labels = ["b", "10", "a", "2", "-1", "B", "1.5"] * 6
    expected = ["-1", "1.5", "2", "10", "B", "a", "b"]
    for seed in range(3):
        random.Random(seed).shuffle(labels)
        assert datamodule(write_rows(tmp_path / f"t{seed}.csv", labels)).classes == expected


@pytest.mark.parametrize("bad", ["", "  ", "nan", "NaN", "inf", "-inf", "1e999"])
def test_empty_and_non_finite_labels_are_refused_with_file_and_line(tmp_path, bad):
    labels = ["x", "y"] * 10
    labels[4] = bad  # line 6 of the file (the header is line 1)
    path = write_rows(tmp_path / "t.csv", labels)
    with pytest.raises(DataError, match=r"label") as error:
        datamodule(path)
    assert f"{path}, line 6:" in str(error.value)


def test_a_class_without_training_rows_is_refused(tmp_path):
    n = 60
    config_defaults = datamodule(write_rows(tmp_path / "ok.csv", ["x", "y"] * (n // 2))).config
    _, _, test_idx = split_indices(
        n, config_defaults.val_fraction, config_defaults.test_fraction, config_defaults.split_seed
    )
    labels = ["x", "y"] * (n // 2)
    labels[int(test_idx[0])] = "rare"  # its only row lands in the test split
    path = write_rows(tmp_path / "t.csv", labels)
    with pytest.raises(DataError, match=r"'rare'.*no rows in the training split") as error:
        datamodule(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize("header", ["f,f,label", "f, f ,label", "label,f,label"])
def test_duplicate_column_names_are_refused(tmp_path, header):
    path = write_rows(tmp_path / "t.csv", ["x", "y"] * 10, header=header)
    name = "label" if header.startswith("label") else "f"
    with pytest.raises(DataError, match=rf"column {name!r} appears twice") as error:
        datamodule(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_predict_refuses_duplicate_column_names_too(tmp_path):
    path = tmp_path / "new.csv"
    path.write_text("a,b,a\n1,2,3\n")
    preprocessing = {"features": ["a", "b"], "mean": [0.0, 0.0], "std": [1.0, 1.0]}
    with pytest.raises(PredictInputError, match=r"column 'a' appears twice") as error:
        load_table(path, preprocessing)
    assert str(path) in str(error.value)


def test_a_table_with_one_class_is_refused(tmp_path):
    path = write_rows(tmp_path / "t.csv", ["only"] * 30)
    with pytest.raises(DataError, match=r"one class \(only\); a classifier needs two or more"):
        datamodule(path)


def test_train_refuses_one_class_before_the_run_directory(tmp_path):
    path = write_rows(tmp_path / "t.csv", ["only"] * 30)
    run_dir = tmp_path / "run"
    args = ["data.name=csv", f"data.root={path}", "model.name=mlp", f"output_dir={run_dir}"]
    result = run_script("train.py", *args, "trainer.epochs=1", "trainer.progress_bar=false")
    assert result.returncode == 1, result.stderr[-2000:]
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert str(path) in result.stderr and "one class" in result.stderr
    assert not run_dir.exists()


@pytest.mark.parametrize(
    ("cell", "message"),
    [("1" * BIG, "NaN or inf"), ("x" * BIG, "is not a number")],
    ids=["huge_number", "huge_text"],
)
def test_a_huge_feature_cell_is_one_line_naming_file_line_and_column(tmp_path, cell, message):
    path = write_rows(tmp_path / "t.csv", ["x", "y"] * 10)
    lines = path.read_text().splitlines()
    lines[3] = f"1,{cell},y"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=message) as error:
        datamodule(path)
    text = str(error.value)
    assert f"{path}, line 4:" in text and "column 'b'" in text
    assert len(text) < 400 and "\n" not in text  # the cell is not pasted whole


def test_predict_reads_a_huge_cell_in_a_column_it_ignores(tmp_path):
    path = tmp_path / "new.csv"
    path.write_text(f"a,notes,b\n1,{'n' * BIG},2\n3,short,4\n")
    preprocessing = {"features": ["b", "a"], "mean": [0.0, 1.0], "std": [1.0, 2.0]}
    names, values = load_table(path, preprocessing)
    assert names == ["new.csv:2", "new.csv:3"]
    assert values.tolist() == [[2.0, 0.0], [4.0, 1.0]]


def test_predict_names_a_huge_feature_cell(tmp_path):
    path = tmp_path / "new.csv"
    path.write_text(f"a,b\n1,2\n3,{'9' * BIG}\n")
    preprocessing = {"features": ["a", "b"], "mean": [0.0, 0.0], "std": [1.0, 1.0]}
    with pytest.raises(PredictInputError, match=r"NaN or inf") as error:
        load_table(path, preprocessing)
    assert f"{path}, line 3:" in str(error.value) and "column 'b'" in str(error.value)


@pytest.mark.parametrize(
    "row", ['3,4,"never closed\n5,6,x', '3,4,"y"z'], ids=["unclosed_quote", "text_after_quote"]
)
def test_a_malformed_quote_is_refused_with_the_line_it_starts_on(tmp_path, row):
    """Not silently a class named ``never closed\\n5,6,x`` (the rest of the file)."""
    path = tmp_path / "t.csv"
    path.write_text(f"a,b,label\n1,2,x\n{row}\n7,8,y\n")
    with pytest.raises(DataError, match=r"not valid CSV") as error:
        datamodule(path)
    assert f"{path}, line 3:" in str(error.value)
