"""Transfer learning as the course teaches it: a torchvision backbone, a new head,
and the backbone frozen with ``model.freeze=[backbone]``."""

from pathlib import Path

import torch
from torch import nn

from .base import BaseModel


def _cached_weights(weights_name: str):
    """Resolve torchvision weights, refusing to download: only the local cache is used."""
    from torchvision.models import ResNet18_Weights

    try:
        weights = ResNet18_Weights[weights_name]
    except KeyError:
        allowed = [w.name for w in ResNet18_Weights]
        raise ValueError(f"model.weights={weights_name!r} is not one of {allowed}") from None
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    if not cached.is_file():
        raise FileNotFoundError(
            f"pretrained weights {weights_name} are not in the local cache: {cached} is missing.\n"
            f"This project does not download. Copy the file from {weights.url} there (or set "
            "TORCH_HOME to a folder whose hub/checkpoints/ holds it), or train from scratch "
            "with model.weights=null."
        )
    return weights


class ResNetClassifier(BaseModel):
    """ResNet-18 features (``backbone``) + a fresh linear ``head``.

    Grayscale inputs are repeated to three channels, so pretrained RGB filters apply.
    """

    def __init__(
        self, input_shape: tuple[int, ...], num_classes: int, weights: str | None = None
    ) -> None:
        super().__init__()
        from torchvision.models import resnet18  # deferred: only transfer runs import it

        self.in_channels = input_shape[0]
        self.backbone = resnet18(weights=_cached_weights(weights) if weights else None)
        features = self.backbone.fc.in_features
        self.backbone.fc = nn.Identity()
        self.head = nn.Linear(features, num_classes)

    @classmethod
    def from_config(cls, config, input_shape, num_classes) -> "ResNetClassifier":
        return cls(input_shape, num_classes, config.weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.in_channels == 1:
            x = x.expand(-1, 3, -1, -1)
        return self.head(self.backbone(x))
