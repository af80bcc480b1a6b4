"""Any data: a CSV table of numeric feature columns and a label column trains, evaluates
and predicts end to end (``data.name=csv data.root=<file.csv>``)."""

import csv
import json

import numpy as np
import pytest
import torch

from {{cookiecutter.project_slug}}.config import load_config
from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.utils.errors import DataError

from .conftest import FAST, run_script

FEATURES = ["height", "width", "weight", "age"]
KINDS = ["bird", "cat", "dog"]


def write_table(path, rows: int = 150, seed: int = 0, label: str = "label"):
    """Three classes whose feature means differ: an MLP separates them."""
    rng = np.random.default_rng(seed)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*FEATURES[:2], label, *FEATURES[2:]])  # the label need not be last
        for i in range(rows):
            kind = i % 3
            values = rng.normal(kind * 2.0, 0.7, len(FEATURES)) * [1, 10, 100, 0.1]
            writer.writerow([*values[:2].round(4), KINDS[kind], *values[2:].round(4)])
    return path


def datamodule(path, *overrides):
    config = load_config(overrides=[*FAST, "data.name=csv", f"data.root={path}", *overrides])
    return build_datamodule(config.data, seed=0)


def test_a_table_becomes_standardized_feature_vectors(tmp_path):
    dm = datamodule(write_table(tmp_path / "animals.csv"))
    assert dm.classes == KINDS and dm.input_shape == (4,)
    assert len(dm.train_set) + len(dm.val_set) + len(dm.test_set) == 150
    train = dm.train_set.inputs
    assert torch.allclose(train.mean(0), torch.zeros(4), atol=1e-5)
    assert torch.allclose(train.std(0), torch.ones(4), atol=1e-4)
    preprocessing = dm.preprocessing()
    assert preprocessing["input_shape"] == [4] and preprocessing["features"] == FEATURES
    assert len(preprocessing["mean"]) == 4 and len(preprocessing["std"]) == 4


def test_another_label_column_by_name(tmp_path):
    dm = datamodule(write_table(tmp_path / "t.csv", label="species"), "data.label_column=species")
    assert dm.classes == KINDS


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda text: text.replace("label", "kind", 1), "no column 'label'"),
        (lambda text: text.replace("\n", "\n1,2,cat,abc,4\n", 1), "'abc' in column 'weight'"),
        (lambda text: "", "is empty"),
        (lambda text: text.splitlines()[0] + "\n", "no data rows"),
    ],
    ids=["no_label_column", "text_in_a_feature", "empty_file", "header_only"],
)
def test_bad_tables_are_one_clear_error(tmp_path, mutate, message):
    path = write_table(tmp_path / "t.csv")
    path.write_text(mutate(path.read_text()))
    with pytest.raises(DataError, match=message) as error:
        datamodule(path)
    assert str(path) in str(error.value)


def test_a_missing_file_names_it(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        datamodule(tmp_path / "nothing.csv")


@pytest.mark.slow
def test_train_evaluate_predict_on_a_table(tmp_path):
    table = write_table(tmp_path / "animals.csv", rows=300)
    run_dir = tmp_path / "run"
    args = [
        "data.name=csv",
        f"data.root={table}",
        "model.name=mlp",  # image_folder projects default to a CNN
        "trainer.epochs=15",
        "trainer.progress_bar=false",
    ]
    trained = run_script("train.py", *args, f"output_dir={run_dir}")
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert json.loads((run_dir / "test_metrics.json").read_text())["test_accuracy"] >= 0.9

    best = run_dir / "checkpoints" / "best.pt"
    evaluated = run_script("evaluate.py", f"checkpoint={best}")
    assert evaluated.returncode == 0, evaluated.stderr
    assert "test_accuracy:" in evaluated.stdout

    new_rows = tmp_path / "new.csv"  # feature columns in another order, no label
    new_rows.write_text("age,weight,width,height\n0.0,0.0,0.0,0.0\n0.4,400,40,4\n")
    predicted = run_script("predict.py", f"checkpoint={best}", f"input={new_rows}")
    assert predicted.returncode == 0, predicted.stderr
    with (run_dir / "predictions.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["file"] for row in rows] == ["new.csv:2", "new.csv:3"]  # line numbers
    assert [row["class"] for row in rows] == ["bird", "dog"]

    short = tmp_path / "short.csv"  # a row with fewer values than the header has columns
    short.write_text("age,weight,width,height\n0.4,400,40,4\n7.5,150\n")
    refused = run_script("predict.py", f"checkpoint={best}", f"input={short}", "output=x.csv")
    assert refused.returncode == 1, refused.stderr
    assert refused.stderr.count("\n") == 1 and "short.csv, line 3: 2 values" in refused.stderr
    assert not (tmp_path / "x.csv").exists()
