"""What a run shows before its first epoch, so a student can read its results: the
baselines on the same splits (train.log, the trackers) and, for image files, what the
training transforms do to a few images (augmentations.png)."""

import logging

from ..data.augmentation_preview import augmentation_preview
from ..logger.augmentations import augmentation_figure
from ..logger.drawing import save_png
from ..model.baseline import Baselines
from ..utils.run_dir import RunFiles
from .baseline import baseline_lines, split_baselines

log = logging.getLogger("train")


def first_look(trainer, files: RunFiles) -> Baselines | None:
    """Fit and log the baselines, draw augmentations.png; in the main process only
    (None elsewhere: other processes neither log nor write)."""
    if not trainer.strategy.is_main:
        return None
    datamodule, config = trainer.datamodule, trainer.config
    preview = augmentation_preview(datamodule)
    if preview is not None:
        figure = augmentation_figure(*preview)
        save_png(figure, files.augmentations)
        trainer.loggers.log_figure("augmentations", figure, 0)
        log.info("what the training transforms do: %s", files.augmentations)
    baselines = split_baselines(datamodule, config)
    for line in [*baseline_lines(baselines), *baselines.notes]:
        log.info("%s", line)
    trainer.loggers.log_baselines(baselines.scores)
    return baselines
