"""Do a checkpoint's weights fit a model? Checked before they are loaded, so a mismatch
is one line naming the file; and, before a resumed run writes anything, whether the
whole training state fits the model and optimizer that the config builds."""

from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checkpoint import CheckpointError, require_training_checkpoint

TRAINING_KEYS = ("model", "optimizer", "trainer", "rng", "config")


def load_model_weights(model: nn.Module, weights: dict[str, Any], path: Path | str) -> None:
    """``model.load_state_dict(weights)``, or one error naming the file when they do not
    fit the model that the checkpoint's own config describes."""
    problem = weights_mismatch(weights, model)
    if problem:
        raise CheckpointError(
            f"the weights in {path} do not fit the {type(model).__name__} its config "
            f"describes ({problem}): the checkpoint's config or weights were changed after training"
        )
    model.load_state_dict(weights)


def check_resumable(
    checkpoint: dict[str, Any], path: Path | str, model: nn.Module, params: list[torch.Tensor]
) -> None:
    """Raise CheckpointError unless ``checkpoint`` is a training checkpoint whose weights fit
    ``model`` and whose optimizer state fits ``params`` (what the optimizer will train)."""
    require_training_checkpoint(checkpoint, path, TRAINING_KEYS)
    problem = weights_mismatch(checkpoint["model"], model)
    problem = problem or _optimizer_mismatch(checkpoint["optimizer"], params)
    if problem:
        raise CheckpointError(
            f"{path} does not fit the configured {type(model).__name__} ({problem}); resume "
            "with the settings it was trained with (drop the model/data overrides)"
        )


def weights_mismatch(weights: dict[str, Any], model: nn.Module) -> str | None:
    """What differs between a state dict and ``model``'s, or None if it fits."""
    expected = model.state_dict()
    missing = sorted(expected.keys() - weights.keys())
    unexpected = sorted(weights.keys() - expected.keys())
    reshaped = [
        f"{name!r}: {tuple(weights[name].shape)} in the file, {tuple(tensor.shape)} in the model"
        for name, tensor in expected.items()
        if name in weights and tuple(weights[name].shape) != tuple(tensor.shape)
    ]
    problems = [
        f"tensors {what}: {len(names)} (e.g. {names[0]})"
        for names, what in (
            ([repr(name) for name in missing], "missing"),
            ([repr(name) for name in unexpected], "unexpected"),
            (reshaped, "of another shape"),
        )
        if names
    ]
    return ", ".join(problems) or None


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
