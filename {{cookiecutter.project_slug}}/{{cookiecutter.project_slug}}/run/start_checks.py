"""What a run's start checks under torchrun (registered in run/fit.py's START_CHECKS and
run/resume.py's QUIET): every process holds the same config and continues from the same
checkpoint, the main process checks that the trackers' stores (W&B, MLflow) can log
this run, and only rank 0 says what ``resume=auto`` found."""

from ..logger import check_loggers
from ..utils import dist
from ..utils.errors import RunDirError
from .fit import START_CHECKS
from .resume import AUTO, QUIET
from .same_config import agree_on_config


def check_start(config, strategy, resumed: dict | None) -> None:
    """Before the run directory is claimed; collectives: every rank calls it."""
    agree_on_config(config)  # each node's own command line: the same settings, or none trains
    agree_on_resume(config, resumed)
    if strategy.is_main:  # a tracking store that cannot log this run: before the run dir
        check_loggers(config, resuming=config.resume not in (None, AUTO))


def agree_on_resume(config, resumed: dict | None) -> None:
    """Under torchrun every rank resolved ``resume=`` itself: all must continue from the
    same checkpoint and state, or none starts (e.g. output_dir not on a shared disk)."""
    mine = (config.resume, resumed["trainer"] if resumed else None)
    everyone = dist.all_gather_object(mine)
    if any(other != mine for other in everyone):
        found = "; ".join(f"rank {rank}: {path}" for rank, (path, _) in enumerate(everyone))
        raise RunDirError(
            f"the processes found different checkpoints to resume from ({found}); with "
            "several nodes, output_dir must be on a filesystem that all of them share"
        )


START_CHECKS.append(check_start)
QUIET.append(lambda: not dist.is_main_process())
