"""Evaluate a checkpoint on the test split.

    python evaluate.py checkpoint=runs/<run>/checkpoints/best.pt
        [output=metrics.json] [overwrite=true] [key=value ...]

Prints each metric by name (``test_accuracy: 0.9712``; per class:
``test_class_<name>_precision`` and ``_recall``) and saves them as JSON, with the
confusion matrix drawn beside it (``confusion_matrix.png``):

- ``output=<file>`` given: to that file. An existing file is replaced only with
  ``overwrite=true``.
- otherwise, when the checkpoint lies in a run directory that train.py wrote (it sits
  in ``<run>/checkpoints/`` and ``<run>/config.yaml`` exists): to
  ``<run>/test_metrics.json``, the run's own file; the output says when it replaced one.
- otherwise (e.g. ``checkpoint=downloads/model.pt``): nowhere; the output says so.

The checkpoint (a training checkpoint whose weights are finite and fit its config's
model) and the output path are checked before anything is computed or written. The
checkpoint's own config rebuilds the data and the model; overrides such as
``data.root=/data`` or ``trainer.device=cpu`` still apply.
"""

import json
import math
import sys
from pathlib import Path

from {{cookiecutter.project_slug}}.config import ConfigError, parse_cli
from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.inference import load_trained
from {{cookiecutter.project_slug}}.logger.confusion import confusion_figure
from {{cookiecutter.project_slug}}.saver import (
    check_output_file,
    parse_overwrite,
    write_output,
)
from {{cookiecutter.project_slug}}.trainer import evaluate_test_split
from {{cookiecutter.project_slug}}.utils.errors import UserError, error_boundary

RUN_METRICS_FILE = "test_metrics.json"
CONFUSION_FILE = "confusion_matrix.png"  # beside the metrics file


def run_directory(checkpoint_path: Path) -> Path | None:
    """``<run>`` when the checkpoint sits in ``<run>/checkpoints/`` beside the run's
    ``config.yaml``; None for a checkpoint anywhere else (its folders are not ours)."""
    folder = checkpoint_path.resolve().parent
    if folder.name == "checkpoints" and (folder.parent / "config.yaml").is_file():
        return folder.parent
    return None


def metrics_destination(checkpoint_path: Path, output: Path | None, overwrite: bool):
    """The file the metrics go to (None: print only), checked before any work."""
    if output is not None:
        check_output_file(output, overwrite)
        return output
    run_dir = run_directory(checkpoint_path)
    if run_dir is None:
        return None
    destination = run_dir / RUN_METRICS_FILE
    # The run's own file, written by train.py for this run: replacing it is expected.
    check_output_file(destination, overwrite=True, label=f"the run's metrics file {destination}")
    return destination


def evaluate_checkpoint(checkpoint_path: Path, overrides: list[str]):
    """Test-split metrics of the checkpoint's model and its confusion matrix (as a
    figure, drawn but not saved); writes nothing."""
    trained = load_trained(checkpoint_path, overrides)
    config = trained.config
    datamodule = build_datamodule(config.data, seed=config.seed)
    metrics, matrix = evaluate_test_split(
        trained.model,
        datamodule.test_dataloader(),
        config,
        trained.classes,
        trained.device,
        trained.precision.autocast,
    )
    return metrics, confusion_figure(matrix, trained.classes)


def save_metrics(metrics: dict[str, float], destination: Path) -> str:
    """Write the JSON (strict: NaN/inf are refused, never written as invalid JSON)."""
    bad = {name: value for name, value in metrics.items() if not math.isfinite(value)}
    if bad:
        raise UserError(
            f"the test metrics are not finite ({bad}); {destination} was not written, "
            "as JSON cannot hold NaN or inf; check the checkpoint and the test data"
        )
    replaced = destination.exists()
    write_output(destination, json.dumps(metrics, indent=2, allow_nan=False) + "\n")
    note = " (replaced the previous file)" if replaced else ""
    return f"metrics written to {destination}{note}"


@error_boundary
def main(argv: list[str] | None = None) -> int:
    keys = ("checkpoint", "output", "overwrite")
    _, overrides, args = parse_cli(argv, script_keys=keys)
    if "checkpoint" not in args:
        raise ConfigError("missing checkpoint=<path to a .pt file>")
    checkpoint_path = Path(args["checkpoint"])
    output = Path(args["output"]) if "output" in args else None
    overwrite = parse_overwrite(args.get("overwrite"))
    destination = metrics_destination(checkpoint_path, output, overwrite)
    metrics, figure = evaluate_checkpoint(checkpoint_path, overrides)
    for name, value in metrics.items():
        print(f"{name}: {value:.4f}")
    if destination is None:
        print(
            f"metrics not saved: {checkpoint_path} is not in a run directory "
            "(<run>/checkpoints/ beside <run>/config.yaml); pass output=<file.json> to save them"
        )
    else:
        print(save_metrics(metrics, destination))
        # On stderr: stdout stays the metrics and where they went, for scripts reading it.
        picture = destination.with_name(CONFUSION_FILE)
        if picture.exists() and output is not None and not overwrite:
            note = f"confusion matrix not drawn: {picture} exists (overwrite=true replaces it)"
        else:
            figure.savefig(picture, dpi=100)
            note = f"confusion matrix drawn in {picture}"
        print(note, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
