"""After a graceful stop under torchrun or SLURM (registered in run/stop.py's
STOP_HANDLERS): the main process names the torchrun command, or, when SLURM asked to
stop (USR1 before the time limit), requeues the job. Requeued here, not by the sbatch
script, so that only a saved stop requeues: a job that crashes ends instead of starting
again and again."""

import sys
from pathlib import Path

from ..trainer import TrainingInterrupted
from ..utils import dist
from ..utils.slurm import REQUEUE_SIGNAL, requeue_job, slurm_job_id
from .stop import STOP_HANDLERS


def report_cluster_stop(stop: TrainingInterrupted) -> bool:
    """Requeue, or say how to continue under torchrun (rank 0), then leave with the other
    ranks; True when the user was told (or, on other ranks, nothing is to be said)."""
    told = not dist.is_main_process()  # only rank 0 speaks
    if stop.checkpoint is not None and dist.is_main_process():
        if stop.signum == REQUEUE_SIGNAL and slurm_job_id():
            requeue(stop.checkpoint)
            told = True
        elif dist.is_enabled():
            command = f"torchrun [same options] train.py resume={stop.checkpoint}"
            print(f"stopped; resume with: {command}", file=sys.stderr)
            told = True
    # The ranks stopped at the same step; leave together, or torchrun, seeing one rank
    # exit, kills the others while rank 0 still reports.
    dist.barrier()
    return told


def requeue(checkpoint: Path) -> None:
    job_id = slurm_job_id()
    problem = requeue_job(job_id)
    if problem is None:
        message = (
            f"stopped; SLURM job {job_id} requeued: it continues from {checkpoint} "
            "(resume=auto in the same output_dir)"
        )
    else:
        message = (
            f"stopped, but requeueing SLURM job {job_id} failed ({problem}); resubmit it, "
            f"it continues from {checkpoint} with resume=auto"
        )
    print(message, file=sys.stderr, flush=True)


STOP_HANDLERS.append(report_cluster_stop)
