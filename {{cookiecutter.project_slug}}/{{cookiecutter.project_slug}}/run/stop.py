{% if cookiecutter.profile == "full" -%}
"""After a graceful stop: tell the user how to continue, or, when SLURM asked to stop
(USR1 before the time limit), requeue the job. Requeued here, not by the sbatch script,
so that only a saved stop requeues: a job that crashes ends instead of starting again
and again."""
{%- else -%}
"""After a graceful stop (Ctrl-C, SIGTERM): tell the user how to continue."""
{%- endif %}

import sys
{%- if cookiecutter.profile == "full" %}
from pathlib import Path
{%- endif %}

from ..trainer import TrainingInterrupted
{%- if cookiecutter.profile == "full" %}
from ..utils import dist
from ..utils.slurm import REQUEUE_SIGNAL, requeue_job, slurm_job_id
{%- endif %}


def report_stop(stop: TrainingInterrupted) -> int:
{%- if cookiecutter.profile == "full" %}
    """Say how to continue (rank 0), leave with the other ranks; the exit code."""
    if stop.checkpoint is not None and dist.is_main_process():
        if stop.signum == REQUEUE_SIGNAL and slurm_job_id():
            requeue(stop.checkpoint)
        else:
            launcher = (
                "torchrun [same options] train.py" if dist.is_enabled() else "python train.py"
            )
            print(f"stopped; resume with: {launcher} resume={stop.checkpoint}", file=sys.stderr)
    # The ranks stopped at the same step; leave together, or torchrun, seeing one rank
    # exit, kills the others while rank 0 still reports.
    dist.barrier()
{%- else %}
    """Say how to continue; the exit code."""
    if stop.checkpoint is not None:
        print(f"stopped; resume with: python train.py resume={stop.checkpoint}", file=sys.stderr)
{%- endif %}
    return 128 + stop.signum
{%- if cookiecutter.profile == "full" %}


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
{%- endif %}
