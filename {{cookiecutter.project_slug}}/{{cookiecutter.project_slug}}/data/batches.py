"""What a batch is, for the code that moves and counts it: tensors, alone or in tuples,
lists and dicts (nested). The data module's ``transfer_batch_to_device`` and
``batch_size`` use these; override those for another batch format."""

from typing import Any

import torch


def move_batch(batch: Any, device: torch.device) -> Any:
    """Every tensor of the batch on ``device`` (asynchronously to a GPU)."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=device.type == "cuda")
    if isinstance(batch, dict):
        return {key: move_batch(value, device) for key, value in batch.items()}
    if isinstance(batch, (tuple, list)):
        moved = [move_batch(item, device) for item in batch]
        return type(batch)(*moved) if hasattr(batch, "_fields") else type(batch)(moved)
    return batch


def batch_size(batch: Any) -> int:
    """Samples in the batch: the length of its first tensor."""
    if isinstance(batch, torch.Tensor):
        return len(batch)
    items = batch.values() if isinstance(batch, dict) else batch
    if isinstance(batch, (dict, tuple, list)) and len(items):
        return batch_size(next(iter(items)))
    raise TypeError(
        f"cannot tell the size of a batch of type {type(batch).__name__}; override the data "
        "module's batch_size(batch)"
    )
