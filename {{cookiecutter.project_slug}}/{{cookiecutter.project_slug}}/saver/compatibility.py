"""Does a checkpoint fit the model and optimizer that the config builds? Checked before a
resumed run writes anything, so a mismatch never touches the run directory."""

from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checkpoint import CheckpointError

TRAINING_KEYS = ("model", "optimizer", "trainer", "rng", "config")
ADVICE = "resume with the settings it was trained with (drop the model/data overrides)"


def check_resumable(
    checkpoint: dict[str, Any], path: Path | str, model: nn.Module, params: list[torch.Tensor]
) -> None:
    """Raise CheckpointError unless ``checkpoint`` is a training checkpoint whose weights fit
    ``model`` and whose optimizer state fits ``params`` (what the optimizer will train)."""
    missing = [key for key in TRAINING_KEYS if key not in checkpoint]
    if missing:
        raise CheckpointError(
            f"{path} is not a training checkpoint written by train.py (it has no {missing}); "
            "resume from a run's checkpoints/last.pt"
        )
    problem = _model_mismatch(checkpoint["model"], model.state_dict())
    problem = problem or _optimizer_mismatch(checkpoint["optimizer"], params)
    if problem:
        raise CheckpointError(f"{path} does not fit the configured model: {problem}; {ADVICE}")


def _model_mismatch(saved: dict[str, Any], expected: dict[str, torch.Tensor]) -> str | None:
    missing = [key for key in expected if key not in saved]
    unexpected = [key for key in saved if key not in expected]
    if missing or unexpected:
        parts = [f"it lacks the model's weights {missing[:3]}"] if missing else []
        parts += [f"it has weights the model does not: {unexpected[:3]}"] if unexpected else []
        return ", ".join(parts)
    for key, tensor in expected.items():
        if tuple(saved[key].shape) != tuple(tensor.shape):
            return (
                f"{key} has shape {tuple(saved[key].shape)} in the checkpoint but "
                f"{tuple(tensor.shape)} in the model"
            )
    return None


def _optimizer_mismatch(saved: dict[str, Any], params: list[torch.Tensor]) -> str | None:
    """The default optimizer numbers its parameters 0..n-1 in ``params`` order."""
    ids = [index for group in saved.get("param_groups", []) for index in group["params"]]
    if len(ids) != len(params):
        return f"its optimizer state holds {len(ids)} parameters, the model trains {len(params)}"
    for index, param in zip(ids, params, strict=True):
        for name, value in saved.get("state", {}).get(index, {}).items():
            if isinstance(value, torch.Tensor) and value.ndim and value.shape != param.shape:
                return (
                    f"optimizer state {name!r} of parameter {index} has shape "
                    f"{tuple(value.shape)}, the parameter {tuple(param.shape)}"
                )
    return None
