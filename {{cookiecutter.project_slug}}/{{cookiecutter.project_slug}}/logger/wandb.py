"""Weights & Biases: config, per-step and per-epoch metrics, prediction grids, and
optional ``wandb.watch`` (gradient and parameter histograms).

Set ``WANDB_MODE=offline`` to log without an account or network; sync later with
``wandb sync <run_dir>/wandb/offline-run-*``.
"""

import logging
from pathlib import Path
from typing import Any

import torch

from ..utils.run_dir import TRACKER_FOLDERS
from .base import LOGGERS, RunInfo, panel_name
from .drawing import figure_pixels
from .tracker_hooks import TrackerHooks

log = logging.getLogger(__name__)
TRACKER_FOLDERS["wandb"] = "wandb"  # train.py's closing lines list <run>/wandb

RUN_ID_FILE = "wandb_run_id.txt"


@LOGGERS.register("wandb")
class WandbLogger(TrackerHooks):
    """One W&B run per training run; a resumed training continues the same W&B run."""

    wants_predictions = True

    def __init__(
        self,
        run_dir: Path | str,
        project: str,
        config: dict[str, Any],
        watch: bool = False,
        resume: bool = False,
        watch_log_freq: int = 100,
    ) -> None:
        import wandb  # deferred: only runs that log to W&B import it

        self.wandb = wandb
        run_dir = Path(run_dir)
        id_file = run_dir / RUN_ID_FILE
        run_id = id_file.read_text().strip() if resume and id_file.exists() else None
        self.run = wandb.init(
            project=project,
            name=run_dir.name,
            id=run_id,
            dir=str(run_dir),
            config=config,
            resume="allow" if run_id else None,
        )
        id_file.write_text(self.run.id)
        self.watch, self.watch_log_freq = watch, watch_log_freq
        self._log_location()

    @classmethod
    def from_run(cls, config, run: RunInfo) -> "WandbLogger":
        from ..config import to_plain_dict

        return cls(
            run.run_dir,
            config.logger.wandb_project,
            to_plain_dict(config),
            watch=config.logger.wandb_watch,
            resume=run.resume_epoch is not None,
            watch_log_freq=config.trainer.log_every_n_steps,
        )

    def _log_location(self) -> None:
        if self.run.offline:
            log.info(
                "W&B offline run %s in %s; upload it with: wandb sync %s",
                self.run.id,
                self.run.dir,
                Path(self.run.dir).parent,
            )
        else:
            log.info("W&B run %s (files in %s)", self.run.url, self.run.dir)

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        self.run.log(dict(metrics), step=step)

    def log_epoch(self, epoch: int, metrics: dict[str, float], step: int) -> None:
        self.run.log({panel_name(name): value for name, value in metrics.items()}, step=step)

    def log_model(self, model: torch.nn.Module, example_input: torch.Tensor) -> None:
        if self.watch:
            self.run.watch(model, log="all", log_freq=self.watch_log_freq)

    def log_predictions(self, images, predictions, targets, classes: list[str], epoch: int) -> None:
        from .figures import prediction_grid

        grid = prediction_grid(images, predictions, targets, classes)
        # commit=False: joins the step of this epoch's metrics, logged just before.
        image = self.wandb.Image(grid, caption=f"epoch {epoch}")
        self.run.log({"val/predictions": image}, commit=False)

    def log_figure(self, tag: str, figure, step: int) -> None:
        self.run.log({tag: self._image(figure)}, step=step)

    def _image(self, figure):
        """A matplotlib figure as a ``wandb.Image`` (its pixels, drawn once for every
        tracker; no plotly needed)."""
        return self.wandb.Image(figure_pixels(figure)[..., :3].copy())

    def finalize(self) -> None:
        self.run.finish()
