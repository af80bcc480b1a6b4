"""Models, losses and metrics, built by name from config.

To add a model: subclass ``BaseModel`` in models.py (implement ``forward``, and
``from_config`` if it takes options), then register it in ``MODELS``.
"""

from ..config import ConfigError
from ..config.schema import ModelConfig
from .base import BaseModel
from .loss import build_loss
from .metric import build_metrics
from .models import MLP, SmallCNN
from .transfer import ResNetClassifier

MODELS: dict[str, type[BaseModel]] = {
    "mlp": MLP,
    "cnn": SmallCNN,
    "resnet18": ResNetClassifier,
}


def build_model(config: ModelConfig, input_shape: tuple[int, ...], num_classes: int) -> BaseModel:
    """The model named by ``model.name``, sized for the data, with ``model.freeze`` applied."""
    if config.name not in MODELS:
        raise ConfigError(f"model.name={config.name!r} is not one of {sorted(MODELS)}")
    try:
        model = MODELS[config.name].from_config(config, input_shape, num_classes)
        model.freeze_batchnorm = config.freeze_batchnorm
        if config.freeze:
            model.freeze(list(config.freeze))
    except ValueError as error:  # a bad option value: report it like any config error
        raise ConfigError(f"model: {error}") from None
    return model


__all__ = ["MODELS", "BaseModel", "build_loss", "build_metrics", "build_model"]
