"""``load_trained(checkpoint, overrides)``: a trained model rebuilt from a checkpoint,
for evaluate.py and predict.py. The checkpoint's own config rebuilds the model;
overrides such as ``trainer.device=cpu`` still apply."""

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from omegaconf import DictConfig

from ..config import load_config
from ..data import build_datamodule
from ..data.images import MAX_IMAGE_PIXELS
from ..model import build_model
from ..saver import CheckpointError, load_model_weights, load_training_checkpoint
from ..utils.device import prepare_device
from ..utils.precision import Float32Precision, build_precision


@dataclass
class Trained:
    model: torch.nn.Module  # in eval mode, on ``device``
    config: DictConfig
    classes: list[str]
    preprocessing: dict  # input_shape, mean, std: how inputs were prepared for training
    device: torch.device
    precision: Float32Precision  # autocast for the forward pass, as in training


def load_trained(checkpoint_path: Path, overrides: list[str]) -> Trained:
    checkpoint = load_training_checkpoint(checkpoint_path)  # weights_only, finite weights
    return rebuild_trained(checkpoint, checkpoint_path, overrides)


def rebuild_trained(checkpoint: dict, checkpoint_path: Path, overrides: list[str]) -> Trained:
    """The model a checked checkpoint dict describes (``model`` weights, ``config``,
    ``classes``, ``preprocessing``), or of any weights that carry that metadata."""
    config = load_config(overrides=overrides, base=checkpoint["config"])
    if "weights" in config.model:  # the checkpoint holds the weights: no pretrained file
        config.model.weights = None
    preprocessing, classes = checkpoint.get("preprocessing"), checkpoint.get("classes")
    if preprocessing is None or classes is None:
        # Older checkpoints: recompute from the data module (needs the training data).
        datamodule = build_datamodule(config.data, seed=config.seed)
        preprocessing, classes = datamodule.preprocessing(), datamodule.classes
    check_metadata(preprocessing, classes, checkpoint_path)
    device = prepare_device(config.trainer)
    model = build_model(config.model, tuple(preprocessing["input_shape"]), len(classes))
    load_model_weights(model, checkpoint["model"], checkpoint_path)
    precision = build_precision(config.trainer, device)
    return Trained(model.to(device).eval(), config, list(classes), preprocessing, device, precision)


def check_metadata(preprocessing, classes, checkpoint_path: Path) -> None:
    """The class names and input shape recorded in the checkpoint are usable."""
    shape = preprocessing.get("input_shape") if isinstance(preprocessing, dict) else None
    if not (
        isinstance(shape, (list, tuple))
        and len(shape) >= 1
        and all(isinstance(n, int) and n > 0 for n in shape)
    ):
        raise CheckpointError(
            f"checkpoint {checkpoint_path} records no usable input shape "
            f"(preprocessing.input_shape={shape!r}; expected the sizes of one input, e.g. "
            "[channels, height, width] for images or [features] for a table)"
        )
    image = len(shape) == 3
    if (
        shape[0] > MAX_CHANNELS or shape[1] * shape[2] > MAX_INPUT_PIXELS
        if image
        else math.prod(shape) > MAX_INPUT_PIXELS
    ):
        pixels = f"{MAX_CHANNELS} channels and {MAX_INPUT_PIXELS} pixels"
        limit = pixels if image else f"{MAX_INPUT_PIXELS} values"
        raise CheckpointError(
            f"checkpoint {checkpoint_path} records an implausible input shape "
            f"(preprocessing.input_shape={list(shape)}; at most {limit}): its metadata "
            "was changed after training"
        )
    if not (isinstance(classes, (list, tuple)) and classes):
        raise CheckpointError(
            f"checkpoint {checkpoint_path} records no class names (classes={classes!r})"
        )
    for key in ("mean", "std"):
        _check_statistic(preprocessing, key, shape[0], checkpoint_path)


# An input a model could have been trained on: beyond these, metadata was tampered with
# (predict.py would allocate the shape, e.g. 5 TB for a 1e6 x 1e6 image). The pixel
# limit is the one every image file is held to.
MAX_CHANNELS = 64
MAX_INPUT_PIXELS = MAX_IMAGE_PIXELS


def _check_statistic(preprocessing: dict, key: str, channels: int, path: Path) -> None:
    """``mean``/``std``: absent (no normalization) or one finite number per channel (or
    one for all); ``std`` positive, as every input is divided by it."""
    value = preprocessing.get(key)
    if value is None:
        return
    values = value if isinstance(value, (list, tuple)) else [value]
    usable = (
        len(values) in (1, channels)
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        and all(math.isfinite(v) and (key != "std" or v > 0) for v in values)
    )
    if not usable:
        rule = "positive numbers" if key == "std" else "finite numbers"
        raise CheckpointError(
            f"{path} records an unusable preprocessing.{key}={value!r} (expected 1 or "
            f"{channels} {rule}, one per channel): its metadata was changed after training; "
            "use the checkpoint train.py wrote"
        )
