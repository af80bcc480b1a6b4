"""``trainer.precision=bf16|fp16``: autocast for the forward pass and, for fp16, a
GradScaler. The loop keeps its verbs: it calls ``scale(loss).backward()``, then asks
``gradients_finite`` (which unscales the gradients, so clipping sees their true size)
before ``optimizer.step()``, and ``update()`` after it, as GradScaler's ``step`` would."""

import functools
import logging

import torch

from .errors import ConfigError
from .precision import PRECISIONS, Float32Precision

log = logging.getLogger(__name__)

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class MixedPrecision(Float32Precision):
    def __init__(self, precision: str, device: torch.device) -> None:
        if precision == "fp16" and device.type != "cuda":
            raise ConfigError(
                f"trainer.precision=fp16 needs CUDA (device is {device}); use precision=bf16 on CPU"
            )
        if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise ConfigError(
                f"trainer.precision=bf16: {torch.cuda.get_device_name(device)} has no "
                "bfloat16 support; use precision=fp16"
            )
        self.dtype = AMP_DTYPES[precision]
        self.device_type = device.type
        # GradScaler only matters for fp16; disabled it is a pass-through.
        self.scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")

    def autocast(self):
        return torch.autocast(device_type=self.device_type, dtype=self.dtype)

    def scale(self, loss: torch.Tensor) -> torch.Tensor:
        return self.scaler.scale(loss)

    def gradients_finite(self, optimizer: torch.optim.Optimizer) -> bool:
        if not self.scaler.is_enabled():
            return True
        self.scaler.unscale_(optimizer)
        # What GradScaler.step reads before it calls optimizer.step() (one host sync).
        found = self.scaler._found_inf_per_device(optimizer)
        return not sum(value.item() for value in found.values())

    def update(self) -> None:
        self.scaler.update()

    def state_dict(self) -> dict:
        return self.scaler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        if self.scaler.is_enabled() and not state:
            log.info("the checkpoint has no fp16 loss scale (trained in fp32/bf16): starting fresh")
            return
        self.scaler.load_state_dict(state)


PRECISIONS.update({name: functools.partial(MixedPrecision, name) for name in AMP_DTYPES})
