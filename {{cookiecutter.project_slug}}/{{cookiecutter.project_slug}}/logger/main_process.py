"""Under torchrun only the main process (rank 0) logs: the other ranks print warnings and
errors only, write no train.log and get an empty logger collection, so nothing is shown
or written twice. logger/__init__.py exports these in place of the one-process
``setup_logging`` and ``build_loggers``, which they call on rank 0."""

import logging
from pathlib import Path

from omegaconf import DictConfig

from ..utils.dist import is_main_process
from . import base, console
from .tracker_hooks import check_loggers


def setup_logging(run_dir: Path | None, is_main: bool | None = None) -> None:
    """``console.setup_logging`` on rank 0; stdout at WARNING on the other ranks.
    ``is_main``: this process is rank 0 (by default, read from the environment)."""
    if on_main(is_main):
        console.setup_logging(run_dir)
    else:
        console.setup_logging(None)
        logging.getLogger().setLevel(logging.WARNING)


def build_loggers(
    config: DictConfig,
    run_dir: Path,
    is_main: bool | None = None,
    resume_epoch: int | None = None,
    resume_step: int | None = None,
) -> base.LoggerCollection:
    """``base.build_loggers``'s loggers on rank 0; an empty collection on the others."""
    if not on_main(is_main):
        return base.LoggerCollection([])
    return base.build_loggers(config, run_dir, resume_epoch, resume_step)


def on_main(is_main: bool | None) -> bool:
    return is_main_process() if is_main is None else is_main


__all__ = ["build_loggers", "check_loggers", "setup_logging"]
