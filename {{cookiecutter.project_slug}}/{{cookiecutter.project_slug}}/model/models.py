"""Concrete models. Each takes the data's ``input_shape`` and ``num_classes``, plus
its own options: a ``ModelConfig`` subclass registered with it, whose fields are the
``model.*`` keys this model accepts (typed and range-checked when the config loads) and
which ``BaseModel.from_config`` passes to the constructor by name."""

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..config.schema import ModelConfig, at_least, probability
from .base import MODELS, BaseModel


def hidden_layers(size: int, hidden_sizes, dropout: float) -> tuple[list[nn.Module], int]:
    """[Linear -> ReLU -> (Dropout)] per hidden size, and the width that comes out."""
    layers: list[nn.Module] = []
    for hidden in hidden_sizes:
        layers += [nn.Linear(size, hidden), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        size = hidden
    return layers, size


@dataclass
class MLPConfig(ModelConfig):
    hidden_sizes: list[int] = at_least(1, [128, 64])
    dropout: float = probability(0.0)


@MODELS.register("mlp", options=MLPConfig)
class MLP(BaseModel):
    """The course's fully connected network: flatten -> [Linear -> ReLU]* -> Linear.

    With ``hidden_sizes=[128, 64]`` on MNIST it is 784-128-64-10.
    """

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_classes: int,
        hidden_sizes: list[int] = (128, 64),
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        layers, width = hidden_layers(math.prod(input_shape), hidden_sizes, dropout)
        self.features = nn.Sequential(nn.Flatten(), *layers)
        self.head = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@dataclass
class CNNConfig(ModelConfig):
    channels: list[int] = at_least(1, [32, 64])  # one conv block per entry
    hidden_sizes: list[int] = at_least(1, [128])  # the fully connected head's hidden layers
    batch_norm: bool = True
    dropout: float = probability(0.0)  # after each hidden layer of the head
    # Average each feature map to one number before the head: the head then sees what is in
    # the picture, not where (few images cannot teach every position); fewer weights too.
    global_pool: bool = False


@MODELS.register("cnn", options=CNNConfig)
class SmallCNN(BaseModel):
    """[Conv3x3 -> (BatchNorm) -> ReLU -> MaxPool2]* -> (global average pool) ->
    [Linear -> ReLU -> (Dropout)]* -> Linear."""

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_classes: int,
        channels: list[int] = (32, 64),
        hidden_sizes: list[int] = (128,),
        batch_norm: bool = True,
        dropout: float = 0.0,
        global_pool: bool = False,
    ) -> None:
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(
                f"cnn takes images (channels, height, width), but the data gives inputs of "
                f"shape {tuple(input_shape)}; for a table use model.name=mlp"
            )
        in_channels, height, width = input_shape
        layers: list[nn.Module] = []
        for out_channels in channels:
            layers.append(nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out_channels))
            layers += [nn.ReLU(), nn.MaxPool2d(2)]
            in_channels, height, width = out_channels, height // 2, width // 2
        if global_pool:
            layers.append(nn.AdaptiveAvgPool2d(1))
            height = width = 1
        self.features = nn.Sequential(*layers, nn.Flatten())
        head, size = hidden_layers(in_channels * height * width, hidden_sizes, dropout)
        self.head = nn.Sequential(*head, nn.Linear(size, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
