"""Metrics from torchmetrics: chosen by name with options and checked when the config
loads; exact over all the samples of an epoch; a test report with per-class precision
and recall and the confusion matrix."""

import json

import numpy as np
import pytest
import torch

from {{cookiecutter.project_slug}}.config import ConfigError, load_config
from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.model import build_model
from {{cookiecutter.project_slug}}.trainer import ClassificationTrainer
from {{cookiecutter.project_slug}}.utils import MetricTracker

from .conftest import SCRIPT_RUN_METRICS

METRICS = "metrics=[accuracy, {name: f1, average: macro}, {name: auroc, label: auc}]"


def test_entries_with_options_get_labels_that_monitors_can_name(config_factory):
    config = config_factory(
        METRICS, "trainer.early_stopping.monitor=val_f1_macro", "trainer.early_stopping.mode=max"
    )
    assert config.trainer.early_stopping.monitor == "val_f1_macro"


@pytest.mark.parametrize(
    "override, message",
    [
        ("metrics=[{name: f1, average: none}]", r"average='none' is not one of"),
        ("metrics=[{name: accuracy, topk: 3}]", r"options of accuracy: \['top_k'\]"),
        ("metrics=[{name: auroc, average: micro}]", "auroc takes average=macro or weighted"),
        ("metrics=[{average: macro}]", "is not a metric"),
        ("metrics=[accuracy, {name: accuracy}]", "which is taken"),
        ("metrics=[{name: f1, label: f1-macro}]", "which is not a name"),
        ("metrics=[f1, {name: f2}]", "metrics='f2' is not one of"),
    ],
)
def test_bad_entries_are_config_errors(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=[override])


def macro_f1(predictions: np.ndarray, targets: np.ndarray, num_classes: int) -> float:
    scores = []
    for c in range(num_classes):
        hit = np.sum((predictions == c) & (targets == c))
        predicted, actual = np.sum(predictions == c), np.sum(targets == c)
        precision = hit / predicted if predicted else 0.0
        recall = hit / actual if actual else 0.0
        scores.append(0.0 if hit == 0 else 2 * precision * recall / (precision + recall))
    return float(np.mean(scores))


def test_epoch_values_are_exact_over_all_samples(config_factory, tmp_path):
    """Macro F1 over the whole validation split, by hand, equals the logged value; the
    average of per-batch F1 (small batches) does not, so the test tells them apart."""
    config = config_factory(METRICS, "data.eval_batch_size=7", "trainer.epochs=1")
    datamodule = build_datamodule(config.data, seed=config.seed)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    trainer = ClassificationTrainer(model, datamodule, config, tmp_path / "run")
    logged = trainer.fit()
    model.eval()
    predictions, targets, batch_f1 = [], [], []
    with torch.no_grad():
        for inputs, labels in datamodule.val_dataloader():
            predicted = model(inputs).argmax(dim=1).numpy()
            predictions.append(predicted)
            targets.append(labels.numpy())
            batch_f1.append(macro_f1(predicted, labels.numpy(), datamodule.num_classes))
    predictions, targets = np.concatenate(predictions), np.concatenate(targets)
    exact = macro_f1(predictions, targets, datamodule.num_classes)
    assert logged["val_f1_macro"] == pytest.approx(exact, abs=1e-6)
    assert abs(float(np.mean(batch_f1)) - exact) > 1e-3
    assert logged["val_accuracy"] == pytest.approx(float(np.mean(predictions == targets)))
    assert 0.0 <= logged["val_auc"] <= 1.0


def test_the_tracker_sums_counts_as_they_are_and_means_by_batch_size():
    """Training accuracy reaches the tracker as each batch's count of right answers (an
    integer tensor): summed as it is, it gives the exact share; a float (the loss) is a
    batch mean, weighted by the batch's size."""
    tracker = MetricTracker()
    tracker.update({"loss": torch.tensor(1.0), "accuracy": torch.tensor(3)}, 4)
    tracker.update({"loss": torch.tensor(4.0), "accuracy": torch.tensor(1)}, 2)
    assert tracker.compute() == {"loss": (1.0 * 4 + 4.0 * 2) / 6, "accuracy": 4 / 6}


def test_test_report_has_per_class_scores_and_the_confusion_matrix(script_run):
    """``script_run`` trained with accuracy and macro recall."""
    assert "recall" in SCRIPT_RUN_METRICS
    run_dir, stdout = script_run, (script_run.parent / "stdout.txt").read_text()
    report = json.loads((run_dir / "test_metrics.json").read_text())
    recalls = [
        v for k, v in report.items() if k.startswith("test_class_") and k.endswith("_recall")
    ]
    precisions = [k for k in report if k.startswith("test_class_") and k.endswith("_precision")]
    assert len(recalls) == len(precisions) == 10
    # torchmetrics' macro recall is the mean of the recalls read off the confusion matrix.
    assert report["test_recall_macro"] == pytest.approx(float(np.mean(recalls)), abs=1e-6)
    picture = run_dir / "confusion_matrix.png"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "test_class_" not in stdout  # the console shows the overall values
    # evaluate.py writes the same report and redraws the picture: test_cli.py


def test_confusion_matrix_numbers_and_labels_are_readable():
    """Each cell shows its count and its share of the true class, in a colour that contrasts
    with the cell (white on dark, black on light) at a readable size; a few short class
    names are not turned sideways."""
    import matplotlib.colors
    import torch

    from {{cookiecutter.project_slug}}.logger.confusion import confusion_figure

    matrix = torch.tensor([[50, 0, 1], [2, 40, 0], [0, 3, 45]])
    figure = confusion_figure(matrix, ["cat", "dog", "owl"])
    axis = figure.axes[0]  # the panel (then its colour bar)
    texts = {tuple(int(v) for v in t.get_position()): t for t in axis.texts}
    assert len(texts) == 9
    assert texts[(0, 0)].get_text() == "50\n98%"  # row, col = true cat, predicted cat
    assert texts[(0, 1)].get_text() == "2\n5%"  # x = predicted cat, y = true dog: 2 of 42
    for text in texts.values():
        assert text.get_fontsize() >= 9
    diagonal = [t for (x, y), t in texts.items() if x == y]
    zeros = [t for t in texts.values() if t.get_text().startswith("0\n")]
    assert len(zeros) == 3
    assert all(matplotlib.colors.to_hex(t.get_color()) == "#ffffff" for t in diagonal)
    assert all(matplotlib.colors.to_hex(t.get_color()) == "#000000" for t in zeros)
    assert all(label.get_rotation() == 0 for label in axis.get_xticklabels())
    long_names = [f"class_with_a_long_name_{i}" for i in range(3)]
    figure = confusion_figure(matrix, long_names)
    assert all(label.get_rotation() > 0 for label in figure.axes[0].get_xticklabels())
