"""Every CSV the project writes for people to open (predictions.csv, metrics.csv, tables
of runs and trials) goes through one writer that neutralises spreadsheet formulas
(OWASP's CSV-injection rule: a leading single quote) and leaves numbers as numbers."""

import csv
import re
from pathlib import Path

import pytest

import predict
from {{cookiecutter.project_slug}}.config import load_config
from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.logger.csv_logger import CSVLogger, read_metrics
from {{cookiecutter.project_slug}}.model import build_model
from {{cookiecutter.project_slug}}.trainer import ClassificationTrainer
from {{cookiecutter.project_slug}}.utils.csv_output import dicts_text, safe_cell

from .conftest import FAST

PACKAGE = Path(__file__).resolve().parents[1] / "{{cookiecutter.project_slug}}"
HOSTILE_CLASSES = ["-1", "=1+1", "@SUM(1+1)*cmd|' /C calc'!A0"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=HYPERLINK(1).csv:2", "'=HYPERLINK(1).csv:2"),
        ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
        ("+cmd", "'+cmd"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\t-1", "'\t-1"),  # a number with a tab before it is not a number
        ("-0.5", "-0.5"),
        ("+3", "+3"),
        ("-1e-3", "-1e-3"),
        ("-inf", "-inf"),
        ("cat", "cat"),
        ("", ""),
        (-0.5, -0.5),
        (7, 7),
        (None, None),
    ],
)
def test_formulas_are_neutralised_and_numbers_stay_numbers(cell, written):
    assert safe_cell(cell) == written


def test_a_table_written_as_text_keeps_negative_numbers(tmp_path):
    text = dicts_text(["run", "loss"], [{"run": "=cmd", "loss": -0.5}, {"run": "a"}])
    assert text.splitlines() == ["run,loss", "'=cmd,-0.5", "a,"]


def test_metrics_csv_neutralises_text_and_reads_numbers_back(tmp_path):
    logger = CSVLogger(tmp_path / "metrics.csv")
    logger.log_epoch(1, {"epoch": 1, "train_loss": -0.25, "note": "=1+1"}, step=10)
    rows, columns = read_metrics(tmp_path / "metrics.csv")
    assert columns == ["epoch", "train_loss", "note"]
    assert rows == [{"epoch": "1", "train_loss": "-0.25", "note": "'=1+1"}]


def test_every_csv_writer_is_the_safe_one():
    """One writer: no module but utils/csv_output.py builds a csv writer (where the web demo
    is baked, its one-row file is predict.py's input, read back by the project itself)."""
    allowed = {"utils/csv_output.py", "inference/demo_page.py"}
    writers = re.compile(r"csv\.writer\(|csv\.DictWriter\(|\.to_csv\(")
    found = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if writers.search(path.read_text(encoding="utf-8"))
    ]
    assert found and set(found) <= allowed, found


@pytest.fixture(scope="module")
def hostile_model(tmp_path_factory):
    """A briefly trained table model whose class names are formulas (and one number)."""
    folder = tmp_path_factory.mktemp("hostile")
    table = folder / "table.csv"
    with table.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["a", "b", "label"])
        for i in range(90):
            kind = i % 3
            writer.writerow([kind + 0.1 * (i % 7), -kind + 0.05 * (i % 5), HOSTILE_CLASSES[kind]])
    run_dir = folder / "run"
    overrides = [*FAST, "data.name=csv", f"data.root={table}", "model.name=mlp"]
    config = load_config(overrides=[*overrides, f"output_dir={run_dir}"])
    datamodule = build_datamodule(config.data, seed=config.seed)
    assert sorted(datamodule.classes) == sorted(HOSTILE_CLASSES)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    ClassificationTrainer(model, datamodule, config, run_dir).fit()
    return run_dir / "checkpoints" / "best.pt", table


def test_predictions_csv_neutralises_file_and_class_names(hostile_model, tmp_path):
    """The issue's reproducer: input='=HYPERLINK(1).csv' and formula class names."""
    checkpoint, table = hostile_model
    hostile_input = tmp_path / "=HYPERLINK(1).csv"
    hostile_input.write_text(table.read_text())
    output = tmp_path / "p.csv"
    rows = predict.predict(checkpoint, hostile_input, output, [])
    assert rows[0][0] == "=HYPERLINK(1).csv:2"  # printed as it is; only the CSV is guarded
    with output.open(newline="") as handle:
        written = list(csv.reader(handle))
    assert written[0] == ["file", "class", "probability"]
    assert len(written) == len(rows) + 1
    for (name, label, probability), cells in zip(rows, written[1:], strict=True):
        assert cells[0] == "'" + name
        assert cells[1] == (label if label == "-1" else "'" + label)  # -1 is a number
        assert float(cells[2]) == pytest.approx(probability, abs=1e-6)
    text_cells = [cell for cells in written[1:] for cell in cells[:2] if cell != "-1"]
    assert not any(cell.startswith(FORMULA_STARTS) for cell in text_cells)
