"""Test results, written one way by train.py and evaluate.py alike: the metrics as strict
JSON (NaN/inf refused, never written as invalid JSON), atomically, and the confusion
matrix drawn beside them; then the run's outputs listed for the user."""

import json
import math
from pathlib import Path

from ..logger.drawing import save_png
from ..saver import output_destination, write_output
from ..utils.errors import UserError
from ..utils.run_dir import RunFiles


def metrics_destination(checkpoint_path: Path, output: Path | None, overwrite: bool):
    """The file the metrics go to (None: print only), checked before any work."""
    run_file = RunFiles(".").test_metrics.name
    return output_destination(checkpoint_path, output, overwrite, run_file, "metrics file")


def write_test_metrics(metrics: dict[str, float], destination: Path) -> bool:
    """Write the JSON atomically; True when it replaced a file. Refuses non-finite values."""
    bad = {name: value for name, value in metrics.items() if not math.isfinite(value)}
    if bad:
        raise UserError(
            f"the test metrics are not finite ({bad}); {destination} was not written, "
            "as JSON cannot hold NaN or inf; check the checkpoint and the test data"
        )
    replaced = destination.exists()
    write_output(destination, json.dumps(metrics, indent=2, allow_nan=False) + "\n")
    return replaced


def confusion_path(metrics_file: Path) -> Path:
    """The confusion matrix's PNG, beside its metrics file."""
    return metrics_file.with_name(RunFiles(metrics_file.parent).confusion.name)


def write_test_results(
    metrics: dict[str, float], figure, destination: Path, replace_picture: bool = True
) -> tuple[bool, Path | None]:
    """The metrics and, beside them, the confusion matrix figure (an existing picture is
    kept unless ``replace_picture``). Returns (whether the metrics replaced a file, the
    picture written or None)."""
    replaced = write_test_metrics(metrics, destination)
    picture = confusion_path(destination)
    if picture.exists() and not replace_picture:
        return replaced, None
    save_png(figure, picture)  # drawn once: the trackers' image reuses these pixels
    return replaced, picture


def print_metrics(metrics: dict[str, float], per_class: bool = True) -> None:
    for name, value in metrics.items():
        if per_class or not name.startswith("test_class_"):
            print(f"{name}: {value:.4f}")


def report(run_dir: Path, test_metrics: dict[str, float]) -> None:
    """The headline metrics (per-class values are in the JSON) and where everything went."""
    print_metrics(test_metrics, per_class=False)
    print(f"outputs in {run_dir.resolve()}:")
    for label, path in RunFiles(run_dir).outputs().items():
        if path.exists():
            print(f"  {label:<13} {path}")
