"""Evaluate a checkpoint on the test split.

    python evaluate.py checkpoint=runs/<run>/checkpoints/best.pt [key=value ...]

Prints each metric by name (``test_accuracy: 0.9712``) and writes them to
``<run>/test_metrics.json``. The checkpoint's own config rebuilds the data and the
model; overrides such as ``data.root=/data`` or ``trainer.device=cpu`` still apply.
"""

import json
import sys
from pathlib import Path

from {{cookiecutter.project_slug}}.config import ConfigError, load_config, parse_cli
from {{cookiecutter.project_slug}}.data import DatasetNotFoundError, build_datamodule
from {{cookiecutter.project_slug}}.model import build_model
from {{cookiecutter.project_slug}}.saver import CheckpointError, load_checkpoint
from {{cookiecutter.project_slug}}.trainer import ClassificationTrainer


def evaluate(checkpoint_path: Path, overrides: list[str]) -> dict[str, float]:
    checkpoint = load_checkpoint(checkpoint_path)  # weights_only: never runs pickled code
    if "model" not in checkpoint or "config" not in checkpoint:
        raise CheckpointError(f"{checkpoint_path} holds no model weights and config")
    config = load_config(overrides=overrides, base=checkpoint["config"])
    config.model.weights = None  # the checkpoint holds the weights: no pretrained file needed
    datamodule = build_datamodule(config.data, seed=config.seed)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    model.load_state_dict(checkpoint["model"])
    run_dir = checkpoint_path.resolve().parent.parent
    trainer = ClassificationTrainer(model, datamodule, config, run_dir)
    metrics = trainer.test(datamodule.test_dataloader())
    (run_dir / "test_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def main(argv: list[str] | None = None) -> int:
    try:
        _, overrides, script_args = parse_cli(argv, script_keys=("checkpoint",))
        if "checkpoint" not in script_args:
            raise ConfigError("missing checkpoint=<path to a .pt file>")
        metrics = evaluate(Path(script_args["checkpoint"]), overrides)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (CheckpointError, DatasetNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for name, value in metrics.items():
        print(f"{name}: {value:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
