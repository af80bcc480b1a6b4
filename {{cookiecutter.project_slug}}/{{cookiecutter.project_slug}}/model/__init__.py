"""Models, losses and metrics, built by name from config.

To add a model: subclass ``BaseModel`` in models.py (implement ``forward``) and decorate
it with ``@MODELS.register("name", options=MyConfig)``: the fields of ``MyConfig`` (a
``ModelConfig`` subclass) are its ``model.*`` keys, passed to ``__init__`` by name.
"""

from ..config import ConfigError
from ..config.schema import ModelConfig
from .base import MODELS, BaseModel
from .loss import build_loss
from .metric import build_metrics, check_metrics
from .models import MLP, SmallCNN
from .transfer import ResNetClassifier


def build_model(config: ModelConfig, input_shape: tuple[int, ...], num_classes: int) -> BaseModel:
    """The model named by ``model.name``, sized for the data, with ``model.freeze`` applied."""
    model_class = MODELS.get(config.name)
    try:
        model = model_class.from_config(config, input_shape, num_classes)
        model.freeze_batchnorm = config.freeze_batchnorm
        if config.freeze:
            model.freeze(list(config.freeze))
    except ValueError as error:  # a bad option value: report it like any config error
        raise ConfigError(f"model: {error}") from None
    return model


__all__ = [
    "MLP",
    "MODELS",
    "BaseModel",
    "ResNetClassifier",
    "SmallCNN",
    "build_loss",
    "build_metrics",
    "check_metrics",
    "build_model",
]
