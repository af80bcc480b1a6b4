"""Test results, written one way by train.py and evaluate.py alike: the metrics as strict
JSON (NaN/inf refused, never written as invalid JSON), atomically, and the confusion
matrix drawn beside them, the baselines' figures in the same file; then the model's
figures beside the baselines' and the run's outputs listed for the user."""

import json
import logging
import math
from pathlib import Path

from ..logger.drawing import save_png
from ..model.baseline import Baselines
from ..saver import output_destination, write_output
from ..utils.errors import UserError
from ..utils.run_dir import RunFiles
from .baseline import baseline_lines, below_baseline

log = logging.getLogger("train")


def metrics_destination(checkpoint_path: Path, output: Path | None, overwrite: bool):
    """The file the metrics go to (None: print only), checked before any work."""
    run_file = RunFiles(".").test_metrics.name
    return output_destination(checkpoint_path, output, overwrite, run_file, "metrics file")


def write_test_metrics(
    metrics: dict[str, float], destination: Path, baselines: Baselines | None = None
) -> bool:
    """Write the JSON atomically; True when it replaced a file. Refuses non-finite values.
    ``baselines``: their test figures under ``"baselines"``, e.g. ``{"linear":
    {"test_accuracy": 0.96}, "majority": {...}}``."""
    bad = {name: value for name, value in metrics.items() if not math.isfinite(value)}
    if bad:
        raise UserError(
            f"the test metrics are not finite ({bad}); {destination} was not written, "
            "as JSON cannot hold NaN or inf; check the checkpoint and the test data"
        )
    replaced = destination.exists()
    content: dict = dict(metrics)
    if baselines is not None and baselines.scores:
        content["baselines"] = {
            kind: {n: v for n, v in scores.items() if n.startswith("test_") and math.isfinite(v)}
            for kind, scores in baselines.scores.items()
        }
    write_output(destination, json.dumps(content, indent=2, allow_nan=False) + "\n")
    return replaced


def confusion_path(metrics_file: Path) -> Path:
    """The confusion matrix's PNG, beside its metrics file."""
    return metrics_file.with_name(RunFiles(metrics_file.parent).confusion.name)


def write_test_results(
    metrics: dict[str, float],
    figure,
    destination: Path,
    replace_picture: bool = True,
    baselines: Baselines | None = None,
) -> tuple[bool, Path | None]:
    """The metrics (and the baselines') and, beside them, the confusion matrix figure (an
    existing picture is kept unless ``replace_picture``). Returns (whether the metrics
    replaced a file, the picture written or None)."""
    replaced = write_test_metrics(metrics, destination, baselines)
    picture = confusion_path(destination)
    if picture.exists() and not replace_picture:
        return replaced, None
    save_png(figure, picture)  # drawn once: the trackers' image reuses these pixels
    return replaced, picture


def print_metrics(metrics: dict[str, float], per_class: bool = True) -> None:
    for name, value in metrics.items():
        if per_class or not name.startswith("test_class_"):
            print(f"{name}: {value:.4f}")


def print_baselines(
    test_metrics: dict[str, float], baselines: Baselines | None, config, run_dir=None, file=None
) -> None:
    """The baselines' test figures under the model's (on ``file``, stdout by default), and
    a line when the model is below the linear one (naming the run's augmentations.png, if
    it drew one)."""
    if baselines is None:
        return
    for line in baseline_lines(baselines, split="test"):
        print(line, file=file)
    picture = None if run_dir is None else RunFiles(run_dir).augmentations
    if below := below_baseline(test_metrics, baselines, config, picture):
        log.warning("%s", below)  # in train.log too


def report(
    run_dir: Path,
    test_metrics: dict[str, float],
    baselines: Baselines | None = None,
    config=None,
) -> None:
    """The headline metrics (per-class values are in the JSON) beside the baselines', and
    where everything went."""
    print_metrics(test_metrics, per_class=False)
    print_baselines(test_metrics, baselines, config, run_dir)
    print(f"outputs in {run_dir.resolve()}:")
    for label, path in RunFiles(run_dir).outputs().items():
        if path.exists():
            print(f"  {label:<13} {path}")
