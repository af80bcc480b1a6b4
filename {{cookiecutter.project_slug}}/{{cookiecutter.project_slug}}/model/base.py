"""BaseModel: an ``nn.Module`` that must define ``forward`` and can describe and freeze itself."""

import abc
import dataclasses

import torch
from omegaconf import OmegaConf
from torch import nn

from ..config import Registry
from ..config.schema import ModelConfig

BATCHNORM = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)

MODELS = Registry("model.name")  # @MODELS.register("name") on each model class


class BaseModel(nn.Module, abc.ABC):
    """Subclass this and implement ``forward``. A subclass that forgets it fails when
    it is built: ``TypeError: Can't instantiate abstract class ... 'forward'``."""

    # Frozen BatchNorm layers stay in eval mode, so their running statistics (buffers,
    # which requires_grad=False does not protect) stay fixed too and a frozen module is
    # truly unchanged by training. Set from ``model.freeze_batchnorm``; False gives the
    # plain requires_grad=False behaviour, where running stats still adapt to the data.
    freeze_batchnorm: bool = True

    @classmethod
    def from_config(cls, config, input_shape: tuple[int, ...], num_classes: int) -> "BaseModel":
        """Build from the ``model.*`` config: the model's own options (the fields of the
        dataclass registered with it) passed to the constructor by name."""
        return cls(input_shape, num_classes, **model_options(config))

    @abc.abstractmethod
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map a batch of inputs to logits."""

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    def summary(self) -> str:
        """The module tree and its parameter counts, as printed at the start of training."""
        total, trainable = self.num_parameters(), self.num_parameters(trainable_only=True)
        return f"{self}\nparameters: {total:,} total, {trainable:,} trainable"

    def freeze(self, module_names: list[str] | tuple[str, ...] = ()) -> None:
        """Stop training the named submodules (all parameters when no name is given):
        ``requires_grad=False``, so the optimizer skips them and no gradient is computed.
        Names are dotted module paths (``backbone``, ``backbone.layer4``); an unknown name
        raises ``ValueError`` listing the top-level modules."""
        self._set_requires_grad(module_names, False)

    def unfreeze(self, module_names: list[str] | tuple[str, ...] = ()) -> None:
        """Train the named submodules again (all parameters when no name is given)."""
        self._set_requires_grad(module_names, True)

    def train(self, mode: bool = True) -> "BaseModel":
        """``nn.Module.train``, except frozen BatchNorm layers stay in eval mode
        (see ``freeze_batchnorm``). A BatchNorm counts as frozen when none of its
        parameters requires grad."""
        super().train(mode)
        if mode and self.freeze_batchnorm:
            for module in self.modules():
                if isinstance(module, BATCHNORM) and _is_frozen(module):
                    module.eval()
        return self

    def _set_requires_grad(self, module_names, flag: bool) -> None:
        modules = dict(self.named_modules())
        unknown = [name for name in module_names if name not in modules]
        if unknown:
            top_level = [name for name, _ in self.named_children()]
            raise ValueError(f"no submodule named {unknown}; top-level modules: {top_level}")
        targets = [modules[name] for name in module_names] or [self]
        for module in targets:
            for parameter in module.parameters():
                parameter.requires_grad_(flag)
        self.train(self.training)  # re-apply the BatchNorm rule to the new frozen set


def _is_frozen(module: nn.Module) -> bool:
    """True if the module has parameters of its own and none of them requires grad."""
    params = list(module.parameters(recurse=False))
    return bool(params) and not any(p.requires_grad for p in params)


def model_options(config) -> dict:
    """The values of the options a model declared (its registered ``ModelConfig``
    subclass), beyond the keys every model has (name, freeze...)."""
    schema = MODELS.options.get(config.name) or ModelConfig
    common = {spec.name for spec in dataclasses.fields(ModelConfig)}
    own = [spec.name for spec in dataclasses.fields(schema) if spec.name not in common]
    values = OmegaConf.to_container(config) if OmegaConf.is_config(config) else dict(config)
    return {name: values[name] for name in own}
