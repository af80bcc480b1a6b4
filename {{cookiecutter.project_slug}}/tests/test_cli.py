"""The command-line contract: train.py writes a complete run directory, evaluate.py
reports test metrics by name, resume continues the same run."""

import json

import torch

from {{cookiecutter.project_slug}}.logger import read_metrics

from .conftest import run_script


def test_train_writes_every_artifact(tmp_path, fast_args):
    run_dir = tmp_path / "run"
    result = run_script("train.py", *fast_args, "logger.curves=true")
    assert result.returncode == 0, result.stderr
    for name in ("config.yaml", "train.log", "metrics.csv", "curves.png", "test_metrics.json"):
        assert (run_dir / name).is_file(), name
    assert (run_dir / "checkpoints" / "last.pt").is_file()
    assert (run_dir / "checkpoints" / "best.pt").is_file()
    rows, columns = read_metrics(run_dir / "metrics.csv")
    assert [int(row["epoch"]) for row in rows] == [1, 2]
    for column in ("epoch", "train_loss", "val_loss", "val_accuracy", "lr"):
        assert column in columns
    assert "train_accuracy" not in columns  # trainer.train_metrics=false by default
    assert "epoch 2/2" in (run_dir / "train.log").read_text()
    assert f"outputs in {run_dir.resolve()}" in result.stdout
    assert "test_accuracy:" in result.stdout
    checkpoint = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)
    assert checkpoint["trainer"]["epoch"] == 2
    assert checkpoint["config"]["output_dir"] == str(run_dir)


def test_evaluate_prints_metrics_and_writes_json(tmp_path, fast_args):
    run_dir = tmp_path / "run"
    assert run_script("train.py", *fast_args).returncode == 0
    result = run_script("evaluate.py", f"checkpoint={run_dir / 'checkpoints' / 'best.pt'}")
    assert result.returncode == 0, result.stderr
    *metric_lines, saved = result.stdout.strip().splitlines()
    printed = dict(line.split(": ") for line in metric_lines)
    written = json.loads((run_dir / "test_metrics.json").read_text())
    assert saved.startswith(f"metrics written to {run_dir / 'test_metrics.json'}")
    assert set(printed) == set(written) >= {"test_loss", "test_accuracy"}
    assert float(printed["test_accuracy"]) == round(written["test_accuracy"], 4)


def test_evaluate_needs_a_checkpoint():
    result = run_script("evaluate.py")
    assert result.returncode == 2 and "checkpoint=" in result.stderr


def test_resume_continues_the_same_run_without_duplicate_rows(tmp_path, fast_args):
    run_dir = tmp_path / "run"
    assert run_script("train.py", *fast_args, "trainer.epochs=1").returncode == 0
    result = run_script(
        "train.py", f"resume={run_dir / 'checkpoints' / 'last.pt'}", "trainer.epochs=3"
    )
    assert result.returncode == 0, result.stderr
    rows, _ = read_metrics(run_dir / "metrics.csv")
    assert [int(row["epoch"]) for row in rows] == [1, 2, 3]
    log = (run_dir / "train.log").read_text()
    # Said in words, not as a dataclass repr.
    assert "checkpoints/last.pt: epoch 1 done, step " in log and "TrainState(" not in log


def test_scripts_run_from_any_directory(tmp_path, fast_args):
    result = run_script("train.py", *fast_args, "trainer.epochs=1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "run" / "checkpoints" / "best.pt").is_file()
