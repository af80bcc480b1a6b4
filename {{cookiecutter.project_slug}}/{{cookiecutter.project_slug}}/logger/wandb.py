"""Weights & Biases: config, per-step and per-epoch metrics, optional ``wandb.watch``.

Set ``WANDB_MODE=offline`` to log without an account or network; sync later with
``wandb sync <run_dir>/wandb/offline-run-*``.
"""

import logging
from pathlib import Path
from typing import Any

import torch

from .base import BaseLogger

log = logging.getLogger(__name__)


class WandbLogger(BaseLogger):
    def __init__(
        self,
        run_dir: Path | str,
        project: str,
        config: dict[str, Any],
        watch: bool = False,
        resume: bool = False,
    ) -> None:
        import wandb  # deferred: only runs that log to W&B import it

        self.wandb = wandb
        run_dir = Path(run_dir)
        id_file = run_dir / "wandb_run_id.txt"
        # Re-using the id makes a resumed training continue the same W&B run.
        run_id = (
            id_file.read_text().strip() if resume and id_file.exists() else wandb.util.generate_id()
        )
        id_file.write_text(run_id)
        self.run = wandb.init(
            project=project,
            name=run_dir.name,
            id=run_id,
            dir=str(run_dir),
            config=config,
            resume="allow",
        )
        self.watch = watch
        log.info("W&B run %s (files in %s)", self.run.url or self.run.id, self.run.dir)

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        self.run.log(dict(metrics), step=step)

    def log_epoch(self, epoch: int, metrics: dict[str, float], step: int) -> None:
        self.run.log(
            {name.replace("_", "/", 1): value for name, value in metrics.items()}, step=step
        )

    def log_model(self, model: torch.nn.Module, example_input: torch.Tensor) -> None:
        if self.watch:
            self.run.watch(model, log="all", log_freq=100)

    def finalize(self) -> None:
        self.run.finish()
