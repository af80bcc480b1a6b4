"""The command-line contract: train.py writes a complete run directory, evaluate.py
reports test metrics by name, resume continues the same run."""

import json

import pytest
import torch

from {{cookiecutter.project_slug}}.logger import read_metrics
from {{cookiecutter.project_slug}}.run.baseline import NAMES

from .conftest import FAST, copy_run, run_script
from .guard_tools import assert_one_error_line, snapshot


def test_train_writes_every_artifact(script_run):
    """``script_run``: train.py started from another directory, output_dir= given."""
    run_dir, stdout = script_run, (script_run.parent / "stdout.txt").read_text()
    for name in ("config.yaml", "train.log", "metrics.csv", "curves.png", "test_metrics.json"):
        assert (run_dir / name).is_file(), name
    assert (run_dir / "checkpoints" / "last.pt").is_file()
    assert (run_dir / "checkpoints" / "best.pt").is_file()
    rows, columns = read_metrics(run_dir / "metrics.csv")
    assert [int(row["epoch"]) for row in rows] == [1, 2]
    for column in ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"):
        assert column in columns
    assert "epoch 2/2" in (run_dir / "train.log").read_text()
    assert f"outputs in {run_dir.resolve()}" in stdout
    assert "test_accuracy:" in stdout
    checkpoint = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)
    assert checkpoint["trainer"]["epoch"] == 2
    assert checkpoint["config"]["output_dir"] == str(run_dir)


def test_evaluate_prints_metrics_and_writes_json(script_run, tmp_path):
    """On a copy of ``script_run`` without its report and picture: evaluate.py writes the
    report train.py wrote (same best.pt, same test split) and redraws the picture."""
    run_dir = copy_run(script_run, tmp_path)
    (run_dir / "test_metrics.json").unlink()
    picture = run_dir / "confusion_matrix.png"
    picture.unlink()
    result = run_script("evaluate.py", f"checkpoint={run_dir / 'checkpoints' / 'best.pt'}")
    assert result.returncode == 0, result.stderr
    assert f"confusion matrix drawn in {picture}" in result.stderr
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    *metric_lines, saved = result.stdout.strip().splitlines()
    printed = dict(line.split(": ") for line in metric_lines)
    written = json.loads((run_dir / "test_metrics.json").read_text())
    assert saved.startswith(f"metrics written to {run_dir / 'test_metrics.json'}")
    baselines = written.pop("baselines")  # on stderr: stdout stays the model's metrics
    assert set(printed) == set(written) >= {"test_loss", "test_accuracy"}
    assert float(printed["test_accuracy"]) == round(written["test_accuracy"], 4)
    trained = json.loads((script_run / "test_metrics.json").read_text())
    assert written == pytest.approx({k: v for k, v in trained.items() if k != "baselines"})
    for kind, scores in trained["baselines"].items():  # fitted again on the same splits
        assert baselines[kind] == pytest.approx(scores, abs=1e-3), kind
        assert f"baseline {NAMES[kind]}: test_accuracy " in result.stderr


def test_evaluate_needs_a_checkpoint():
    result = run_script("evaluate.py")
    assert result.returncode == 2 and "checkpoint=" in result.stderr


def test_resume_continues_the_same_run_without_duplicate_rows(script_run, tmp_path):
    run_dir = copy_run(script_run, tmp_path)  # 2 epochs done
    result = run_script(
        "train.py", f"resume={run_dir / 'checkpoints' / 'last.pt'}", "trainer.epochs=3"
    )
    assert result.returncode == 0, result.stderr
    rows, _ = read_metrics(run_dir / "metrics.csv")
    assert [int(row["epoch"]) for row in rows] == [1, 2, 3]
    log = (run_dir / "train.log").read_text()
    # Said in words, not as a dataclass repr.
    assert "checkpoints/last.pt: epoch 2 done, step " in log and "TrainState(" not in log


def test_a_finished_run_is_never_overwritten(script_run, tmp_path):
    """The quick suite's overwrite guard (the rest: test_run_dirs.py, slow): a new run
    into a finished run's output_dir stops with one line and changes nothing."""
    run_dir = copy_run(script_run, tmp_path)
    before = snapshot(run_dir)
    result = run_script("train.py", *FAST, f"output_dir={run_dir}")
    line = assert_one_error_line(result, 1)
    assert f"output_dir={run_dir} already holds a run" in line
    assert f"resume={run_dir / 'checkpoints' / 'last.pt'}" in line
    assert snapshot(run_dir) == before
