"""Transfer learning as the course teaches it: a torchvision backbone, a new head,
and the backbone frozen with ``model.freeze=[backbone]``.

Pretrained weights come from a local file (``model.weights=/path/resnet18.pth``) or,
by torchvision name (``model.weights=IMAGENET1K_V1``), from the local torch hub cache
(``$TORCH_HOME/hub/checkpoints``, default ``~/.cache/torch/hub/checkpoints``); the
project never downloads, so a missing file is an error that says where to put it.
"""

import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..config.schema import ModelConfig, probability
from ..utils.errors import DataError, first_line
from .base import MODELS, BaseModel


class WeightsNotFoundError(DataError, FileNotFoundError):
    """Pretrained weights were asked for but are not in the local cache."""


def cached_weights_path(weights_name: str) -> Path:
    """Where torchvision would cache ``ResNet18_Weights.<weights_name>``."""
    from torchvision.models import ResNet18_Weights

    try:
        weights = ResNet18_Weights[weights_name]
    except KeyError:
        allowed = [w.name for w in ResNet18_Weights]
        raise ValueError(f"model.weights={weights_name!r} is not one of {allowed}") from None
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name


def is_weights_file(weights: str) -> bool:
    """``model.weights`` names a file (``/path/resnet18.pth``) rather than a torchvision
    weights enum (``IMAGENET1K_V1``)."""
    return "/" in weights or "\\" in weights or weights.endswith((".pth", ".pt"))


def load_cached_weights(weights_name: str) -> dict[str, torch.Tensor]:
    """The state dict of the named weights (or of the file ``weights_name`` names), read
    with ``weights_only=True``."""
    if is_weights_file(weights_name):
        path = Path(weights_name).expanduser()
        if not path.is_file():
            raise WeightsNotFoundError(
                f"model.weights={weights_name}: no such file; give the path of a ResNet-18 "
                "state dict (.pth), a torchvision weights name, or null"
            )
    else:
        path = cached_weights_path(weights_name)
    if not path.is_file():
        raise WeightsNotFoundError(
            f"pretrained weights {weights_name} are not in the local cache: {path} is missing "
            f"(this project does not download); copy resnet18 weights ({path.name}, from "
            "https://download.pytorch.org/models/) to that path, or set TORCH_HOME to a folder "
            "whose hub/checkpoints/ holds it, or train from scratch with model.weights=null"
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile) as error:
        reason = first_line(error)
        raise WeightsNotFoundError(
            f"cannot read pretrained weights {path} ({reason}); replace the file"
        ) from None


def frozen_random_warning(config) -> str | None:
    """A model with a ``weights`` option left null whose modules are frozen keeps those
    random weights for good: only the rest trains, on random features. Why and what to do,
    or None."""
    if "weights" not in config or config.weights or not config.freeze:
        return None
    frozen = ", ".join(config.freeze)
    return (
        f"model.freeze=[{frozen}] keeps random weights (model.weights=null): only the "
        "unfrozen layers train, on random features. Give pretrained weights "
        "(model.weights=<file.pth> or a torchvision name in the local cache), or train "
        "everything with model.freeze=[]"
    )


@dataclass
class ResNetConfig(ModelConfig):
    weights: str | None = None  # torchvision weights name, e.g. IMAGENET1K_V1 (local cache)
    dropout: float = probability(0.0)  # on the backbone's features, before the head


@MODELS.register("resnet18", options=ResNetConfig)
class ResNetClassifier(BaseModel):
    """ResNet-18 features (``backbone``) + dropout + a fresh linear ``head``.

    Grayscale inputs are repeated to three channels, so pretrained RGB filters apply.
    ``weights=None`` starts from random weights (what the tests use: nothing to download).
    """

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_classes: int,
        weights: str | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        from torchvision.models import resnet18  # deferred: only transfer runs import it

        if input_shape[0] not in (1, 3):
            raise ValueError(f"resnet18 takes 1- or 3-channel images, got shape {input_shape}")
        self.in_channels = input_shape[0]
        self.backbone = resnet18(weights=None)
        if weights:
            # Loaded by hand rather than through torchvision so nothing can trigger a download.
            self.backbone.load_state_dict(load_cached_weights(weights))
        features = self.backbone.fc.in_features
        self.backbone.fc = nn.Identity()  # the ImageNet classifier is replaced by `head`
        self.dropout = dropout
        self.head = nn.Linear(features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.in_channels == 1:
            x = x.expand(-1, 3, -1, -1)  # a view: no copy of the grayscale batch
        features = self.backbone(x)
        if self.dropout:
            features = nn.functional.dropout(features, self.dropout, self.training)
        return self.head(features)
