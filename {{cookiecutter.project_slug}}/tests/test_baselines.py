"""A baseline beside every result: the majority class and a linear model (a logistic
regression on the inputs), fitted on the run's own splits when it starts, said in the
log, written into test_metrics.json and set beside the model's test figures at the end,
with one line when the model ends below the linear model."""

import json
import re

import pytest
import torch

from {{cookiecutter.project_slug}}.data.datasets import InMemoryDataset
from {{cookiecutter.project_slug}}.model import baseline
from {{cookiecutter.project_slug}}.model.baseline import (
    Baselines,
    fit_baselines,
    shrunk_shape,
)
from {{cookiecutter.project_slug}}.run.baseline import NAMES, below_baseline

CLASSES = ["a", "b", "c"]


def bright_pixel_set(per_class: list[int], seed: int = 0) -> InMemoryDataset:
    """(1, 4, 4) noise images; class k lights pixel k: a linear model separates them."""
    targets = torch.cat([torch.full((n,), k) for k, n in enumerate(per_class)])
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.rand(len(targets), 1, 4, 4, generator=generator) * 0.2
    inputs.view(len(targets), -1)[torch.arange(len(targets)), targets] += 1.0
    return InMemoryDataset(inputs, targets, CLASSES)


def test_the_majority_class_and_a_linear_model_on_the_same_splits():
    train, test = bright_pixel_set([30, 50, 20]), bright_pixel_set([10, 10, 20], seed=1)
    result = fit_baselines({"train": train, "test": test}, 3)
    # Always class b (the most frequent in training): right on test's 10 b of 40.
    assert result.scores["majority"] == {"test_accuracy": pytest.approx(10 / 40)}
    assert result.scores["linear"]["test_accuracy"] == 1.0
    assert result.sizes == {"test": 40}
    assert len(result.notes) == 1 and result.notes[0].startswith(
        "linear baseline: logistic regression on 16 input values, fitted on 100 training samples"
    )


def test_over_its_time_budget_the_linear_model_is_skipped_in_one_line(monkeypatch):
    monkeypatch.setattr(baseline, "READ_SECONDS", -1.0)  # already over budget
    train, test = bright_pixel_set([30, 50, 20]), bright_pixel_set([10, 10, 20], seed=1)
    result = fit_baselines({"train": train, "test": test}, 3)
    assert "linear" not in result.scores
    assert result.scores["majority"] == {"test_accuracy": pytest.approx(10 / 40)}  # labels only
    [note] = result.notes
    assert note.startswith("linear baseline skipped: reading the inputs took more than")


def test_a_large_training_split_is_fitted_on_a_fixed_subset(monkeypatch):
    monkeypatch.setattr(baseline, "MAX_CELLS", 16 * 40)  # 40 samples of 16 values
    train, test = bright_pixel_set([30, 50, 20]), bright_pixel_set([10, 10, 20], seed=1)
    first = fit_baselines({"train": train, "test": test}, 3, seed=3)
    again = fit_baselines({"train": train, "test": test}, 3, seed=3)
    assert "fitted on 40 training samples (a random 40 of 100" in first.notes[0]
    assert first.scores == again.scores


def test_large_images_are_averaged_down_small_ones_kept():
    assert shrunk_shape((1, 28, 28)) == (1, 28, 28)
    channels, height, width = shrunk_shape((3, 224, 320))
    assert channels == 3 and channels * height * width <= baseline.MAX_FEATURES
    assert width > height  # the aspect ratio kept


def test_below_the_linear_baseline_is_said_with_what_to_try(config_factory, tmp_path):
    config = config_factory("trainer.epochs=7")
    scores = Baselines(scores={"linear": {"test_accuracy": 0.96}}, sizes={"test": 50})
    picture = tmp_path / "augmentations.png"
    line = below_baseline({"test_accuracy": 0.88}, scores, config, picture)
    assert line.startswith("the model is below the linear baseline: test_accuracy 0.8800 < 0.9600")
    assert "(4 fewer of 50 right)" in line
    assert "trainer.epochs=7 now" in line and "optimizer.lr=" in line
    assert "augmentations.png" not in line  # no picture drawn: not named
    picture.write_bytes(b"png")
    assert str(picture) in below_baseline({"test_accuracy": 0.88}, scores, config, picture)
    assert below_baseline({"test_accuracy": 0.97}, scores, config) is None


def test_a_run_reports_its_baselines_beside_the_model(script_run):
    """Said when the run starts (train.log), written into test_metrics.json, printed
    under the model's test metrics."""
    stdout = (script_run.parent / "stdout.txt").read_text()
    log = (script_run / "train.log").read_text()
    written = json.loads((script_run / "test_metrics.json").read_text())
    assert set(written["baselines"]) == {"majority", "linear"}
    for kind, scores in written["baselines"].items():
        assert set(scores) >= {"test_accuracy"} and all(n.startswith("test_") for n in scores)
        assert f"baseline {NAMES[kind]}: val_accuracy " in log
        assert f"baseline {NAMES[kind]}: test_accuracy {scores['test_accuracy']:.4f}" in stdout
    assert re.search(r"linear baseline: logistic regression on \d+ input values, fitted on", log)
    # The baselines come after the model's metrics, before the outputs.
    lines = stdout.splitlines()
    model_line = next(i for i, line in enumerate(lines) if line.startswith("test_accuracy:"))
    baseline_line = next(i for i, line in enumerate(lines) if line.startswith("baseline linear"))
    outputs_line = next(i for i, line in enumerate(lines) if line.startswith("outputs in"))
    assert model_line < baseline_line < outputs_line
