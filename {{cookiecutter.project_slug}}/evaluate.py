"""Evaluate a checkpoint on the test split.

    python evaluate.py checkpoint=runs/<run>/checkpoints/best.pt
        [output=metrics.json] [overwrite=true] [key=value ...]

Prints each metric by name (``test_accuracy: 0.9712``; per class:
``test_class_<name>_precision`` and ``_recall``), then the same figures of two
baselines fitted on the checkpoint's training split on stderr (the majority class and a
logistic regression: see run/baseline.py), and saves them as JSON (the baselines' under
``"baselines"``), with the confusion matrix drawn beside it (``confusion_matrix.png``):

- ``output=<file>`` given: to that file. An existing file is replaced only with
  ``overwrite=true``.
- otherwise, when the checkpoint lies in a run directory that train.py wrote (it sits
  in ``<run>/checkpoints/`` and train.py marked ``<run>`` with its ``.run`` file): to
  ``<run>/test_metrics.json``, the run's own file; the output says when it replaced one.
- otherwise (e.g. ``checkpoint=downloads/model.pt``): nowhere; the output says so.

The checkpoint (a training checkpoint whose weights are finite and fit its config's
model) and the output path are checked before anything is computed or written. The
checkpoint's own config rebuilds the data and the model; overrides such as
``data.root=/data`` or ``trainer.device=cpu`` still apply.
"""

import sys
from functools import partial
from pathlib import Path

from {{cookiecutter.project_slug}}.config import ConfigError, parse_cli
from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.inference import load_trained
from {{cookiecutter.project_slug}}.logger.confusion import confusion_figure
from {{cookiecutter.project_slug}}.run import (
    confusion_path,
    metrics_destination,
    print_baselines,
    print_metrics,
    split_baselines,
    write_test_results,
)
from {{cookiecutter.project_slug}}.saver import parse_overwrite
from {{cookiecutter.project_slug}}.trainer import evaluate_test_split
from {{cookiecutter.project_slug}}.utils.errors import error_boundary


def evaluate_checkpoint(checkpoint_path: Path, overrides: list[str]):
    """Test-split metrics of the checkpoint's model, its confusion matrix (as a figure,
    drawn but not saved) and the baselines on the same splits; writes nothing."""
    trained = load_trained(checkpoint_path, overrides)
    config = trained.config
    datamodule = build_datamodule(config.data, seed=config.seed)
    device = trained.device
    batches = (partial(datamodule.transfer_batch_to_device, device=device), datamodule.batch_size)
    loader = datamodule.test_dataloader()
    metrics, matrix = evaluate_test_split(
        trained.model, loader, config, trained.classes, device, trained.precision.autocast, batches
    )
    baselines = split_baselines(datamodule, config, splits=("train", "test"))
    return metrics, confusion_figure(matrix, trained.classes), baselines, config


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
    metrics, figure, baselines, config = evaluate_checkpoint(checkpoint_path, overrides)
    print_metrics(metrics)
    print_baselines(metrics, baselines, config, file=sys.stderr)  # stdout: the model's
    if destination is None:
        print(
            f"metrics not saved: {checkpoint_path} is not in a run directory "
            "(<run>/checkpoints/ of a folder train.py marked with .run); pass output=<file.json> "
            "to save them"
        )
        return 0
    # An existing picture beside a user's output= file is kept unless overwrite=true.
    replaced, picture = write_test_results(
        metrics, figure, destination, output is None or overwrite, baselines
    )
    note = " (replaced the previous file)" if replaced else ""
    print(f"metrics written to {destination}{note}")
    # On stderr: stdout stays the metrics and where they went, for scripts reading it.
    if picture is None:
        picture = confusion_path(destination)
        print(
            f"confusion matrix not drawn: {picture} exists (overwrite=true replaces it)",
            file=sys.stderr,
        )
    else:
        print(f"confusion matrix drawn in {picture}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
