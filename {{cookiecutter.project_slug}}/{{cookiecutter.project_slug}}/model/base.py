"""BaseModel: an ``nn.Module`` that must define ``forward`` and can describe and freeze itself."""

import abc

import torch
from torch import nn


class BaseModel(nn.Module, abc.ABC):
    """Subclass this and implement ``forward``. A subclass that forgets it fails when
    it is built: ``TypeError: Can't instantiate abstract class ... 'forward'``."""

    @classmethod
    def from_config(cls, config, input_shape: tuple[int, ...], num_classes: int) -> "BaseModel":
        """Build from the ``model.*`` config; override when the constructor takes options."""
        return cls(input_shape, num_classes)

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
        """Stop training the named submodules (all parameters when no name is given)."""
        self._set_requires_grad(module_names, False)

    def unfreeze(self, module_names: list[str] | tuple[str, ...] = ()) -> None:
        self._set_requires_grad(module_names, True)

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
