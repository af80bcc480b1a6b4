"""``load_trained(checkpoint, overrides)``: a trained model rebuilt from a checkpoint,
for evaluate.py and predict.py. The checkpoint's own config rebuilds the model;
overrides such as ``trainer.device=cpu`` still apply."""

from dataclasses import dataclass
from pathlib import Path

import torch
from omegaconf import DictConfig

from ..config import load_config
from ..data import build_datamodule
from ..model import build_model
from ..saver import CheckpointError, load_model_weights, load_training_checkpoint
from ..utils.device import prepare_device
from ..utils.precision import Precision


@dataclass
class Trained:
    model: torch.nn.Module  # in eval mode, on ``device``
    config: DictConfig
    classes: list[str]
    preprocessing: dict  # input_shape, mean, std: how inputs were prepared for training
    device: torch.device
    precision: Precision


def load_trained(checkpoint_path: Path, overrides: list[str]) -> Trained:
    checkpoint = load_training_checkpoint(checkpoint_path)  # weights_only, finite weights
    return rebuild_trained(checkpoint, checkpoint_path, overrides)


def rebuild_trained(checkpoint: dict, checkpoint_path: Path, overrides: list[str]) -> Trained:
    """The model a checked checkpoint dict describes (``model`` weights, ``config``,
    ``classes``, ``preprocessing``); also used for exported weights with their sidecar."""
    config = load_config(overrides=overrides, base=checkpoint["config"])
    if "weights" in config.model:  # the checkpoint holds the weights: no pretrained file
        config.model.weights = None
    preprocessing, classes = checkpoint.get("preprocessing"), checkpoint.get("classes")
    if preprocessing is None or classes is None:
        # Older checkpoints: recompute from the data module (needs the training data).
        datamodule = build_datamodule(config.data, seed=config.seed)
        preprocessing, classes = datamodule.preprocessing(), datamodule.classes
    check_metadata(preprocessing, classes, checkpoint_path)
    device = prepare_device(config.trainer, dist_info=None)
    model = build_model(config.model, tuple(preprocessing["input_shape"]), len(classes))
    load_model_weights(model, checkpoint["model"], checkpoint_path)
    precision = Precision(config.trainer.precision, device)
    return Trained(model.to(device).eval(), config, list(classes), preprocessing, device, precision)


def check_metadata(preprocessing, classes, checkpoint_path: Path) -> None:
    """The class names and input shape recorded in the checkpoint are usable."""
    shape = preprocessing.get("input_shape") if isinstance(preprocessing, dict) else None
    if not (
        isinstance(shape, (list, tuple))
        and len(shape) == 3
        and all(isinstance(n, int) and n > 0 for n in shape)
    ):
        raise CheckpointError(
            f"checkpoint {checkpoint_path} records no usable input shape "
            f"(preprocessing.input_shape={shape!r}; expected [channels, height, width])"
        )
    if not (isinstance(classes, (list, tuple)) and classes):
        raise CheckpointError(
            f"checkpoint {checkpoint_path} records no class names (classes={classes!r})"
        )
