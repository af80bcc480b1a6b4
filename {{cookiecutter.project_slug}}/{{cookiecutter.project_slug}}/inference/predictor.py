"""``Predictor``: what predict.py runs inputs through, whatever file the model came from:
the logits of a batch, the class names and the preprocessing recorded at training time."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from .loading import Trained, load_trained


@dataclass
class Predictor:
    logits: Callable[[torch.Tensor], torch.Tensor]  # (N, C, H, W) inputs -> (N, classes) on CPU
    classes: list[str]
    preprocessing: dict  # input_shape, mean, std
    batch_size: int


def predictor_from_trained(trained: Trained) -> Predictor:
    @torch.no_grad()
    def logits(batch: torch.Tensor) -> torch.Tensor:
        return trained.model(batch.to(trained.device)).float().cpu()

    batch_size = trained.config.data.eval_batch_size
    return Predictor(logits, trained.classes, trained.preprocessing, batch_size)


def load_checkpoint_predictor(path: Path, overrides: list[str]) -> Predictor:
    """A training checkpoint's model (``.pt``), rebuilt and checked by ``load_trained``."""
    return predictor_from_trained(load_trained(path, overrides))


# Loaders of other model files, by suffix: a module that reads another format adds its
# own here when imported. Any other file is read as a training checkpoint.
LOADERS: dict[str, Callable[[Path, list[str]], Predictor]] = {}


def load_predictor(path: Path, overrides: list[str]) -> Predictor:
    """The ``Predictor`` of a model file: a format in ``LOADERS``, or a checkpoint."""
    return LOADERS.get(path.suffix.lower(), load_checkpoint_predictor)(path, overrides)
