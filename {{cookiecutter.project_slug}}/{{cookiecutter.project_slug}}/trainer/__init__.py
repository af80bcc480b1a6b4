"""Trainer: the loop (BaseTrainer), the classification step (ClassificationTrainer), the
evaluation function, and the small parts the loop is made of (callbacks, precision...)."""
{% if cookiecutter.profile == "full" %}
from ..utils import amp  # noqa: F401  trainer.precision=bf16|fp16
from . import distributed, fsdp, kept_checkpoints, model_logging, step_schedulers  # noqa: F401
{%- endif %}
from .base import BaseTrainer
from .callbacks import Callback, EarlyStopping, ModelCheckpoint
from .evaluation import evaluate, evaluate_test_split
from .graceful_stop import TrainingInterrupted
from .nonfinite import NonFiniteLossError
from .state import TrainState
from .trainer import ClassificationTrainer

__all__ = [
    "BaseTrainer",
    "Callback",
    "ClassificationTrainer",
    "EarlyStopping",
    "ModelCheckpoint",
    "NonFiniteLossError",
    "TrainState",
    "TrainingInterrupted",
    "evaluate",
    "evaluate_test_split",
]
