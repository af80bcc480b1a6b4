"""Callbacks: behaviour added around the loop without editing it. The trainer calls
each hook a callback overrides, in the order of ``trainer.callbacks``; a callback with
state returns it from ``state_dict`` and every checkpoint keeps it under
``checkpoint["callbacks"][state_key]``: the class name, unless the class sets its own
(two stateful instances of one class need their own keys).

    class PrintLR(Callback):
        def on_epoch_end(self, trainer, epoch, metrics):
            print(epoch, metrics["lr"])

    ClassificationTrainer(..., callbacks=[PrintLR()])
"""

from collections.abc import Callable
from typing import Any

HOOKS = (
    "on_fit_start",
    "on_train_start",
    "on_optimizer_step",
    "on_before_zero_grad",
    "on_epoch_end",
)


class Callback:
    @property
    def state_key(self) -> str:
        """Where the checkpoint keeps this callback's state (a class may set its own)."""
        return type(self).__name__

    def on_fit_start(self, trainer) -> None:
        """Once the optimizer and LR scheduler are made, before a resume restores them."""

    def on_train_start(self, trainer, resumed: bool) -> None:
        """Before the first epoch (of this process: also after a resume)."""

    def on_before_zero_grad(self, trainer) -> None:
        """After ``optimizer.step()``, while the gradients are still there."""

    def on_optimizer_step(self, trainer, mid_epoch: bool) -> None:
        """After each optimizer step has been counted (``trainer.state.global_step``)."""

    def on_epoch_end(self, trainer, epoch: int, metrics: dict[str, float]) -> None:
        """After validation, logging and the scheduler; before the next epoch."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned."""


# Callbacks other parts add to every run (trainer/__init__.py imports them): factories
# taking the trainer, returning a Callback or None (not asked for by the config). The
# trainer places them after early stopping and the core's logging, before its own
# ``callbacks`` argument and the checkpoint policy.
ADDED_CALLBACKS: list[Callable[[Any], "Callback | None"]] = []


def overriding(callbacks: list[Callback], hook: str) -> list[Callback]:
    """The callbacks that implement ``hook``: the loop calls only those."""
    return [cb for cb in callbacks if getattr(type(cb), hook) is not getattr(Callback, hook)]
