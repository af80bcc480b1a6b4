"""SLURM: requeue the running batch job, so that it starts again with the same job id
(hence the same run directory) and continues from ``last.pt`` with ``resume=auto``."""

import os
import signal
import subprocess

# What SLURM sends before a time limit with ``#SBATCH --signal=USR1@<seconds>``.
REQUEUE_SIGNAL = getattr(signal, "SIGUSR1", None)


def slurm_job_id() -> str | None:
    return os.environ.get("SLURM_JOB_ID") or None


def requeue_job(job_id: str) -> str | None:
    """``scontrol requeue <job_id>``: None when it worked, else why it did not."""
    try:
        done = subprocess.run(
            ["scontrol", "requeue", job_id], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    if done.returncode != 0:
        return done.stderr.strip() or f"scontrol exited with code {done.returncode}"
    return None
