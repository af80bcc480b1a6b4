"""Concrete models. Each takes the data's ``input_shape`` and ``num_classes``."""

import math

import torch
from torch import nn

from .base import MODELS, BaseModel


@MODELS.register("mlp")
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
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(input_shape)
        for hidden in hidden_sizes:
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = hidden
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(width, num_classes)

    @classmethod
    def from_config(cls, config, input_shape, num_classes) -> "MLP":
        return cls(input_shape, num_classes, list(config.hidden_sizes), config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@MODELS.register("cnn")
class SmallCNN(BaseModel):
    """[Conv3x3 -> (BatchNorm) -> ReLU -> MaxPool2]* -> Linear -> ReLU -> Linear."""

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_classes: int,
        channels: list[int] = (32, 64),
        hidden_sizes: list[int] = (128,),
        batch_norm: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        in_channels, height, width = input_shape
        layers: list[nn.Module] = []
        for out_channels in channels:
            layers.append(nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out_channels))
            layers += [nn.ReLU(), nn.MaxPool2d(2)]
            in_channels, height, width = out_channels, height // 2, width // 2
        self.features = nn.Sequential(*layers, nn.Flatten())
        hidden = hidden_sizes[0] if hidden_sizes else 128
        self.head = nn.Sequential(
            nn.Linear(in_channels * height * width, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    @classmethod
    def from_config(cls, config, input_shape, num_classes) -> "SmallCNN":
        return cls(
            input_shape,
            num_classes,
            list(config.channels),
            list(config.hidden_sizes),
            config.batch_norm,
            config.dropout,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
