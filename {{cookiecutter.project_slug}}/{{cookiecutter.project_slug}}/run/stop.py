"""After a graceful stop (Ctrl-C, SIGTERM): tell the user how to continue."""

import sys
from collections.abc import Callable

from ..trainer import TrainingInterrupted

# Added parts that handle a stop their own way (another launcher's command, a job to
# submit again): each is called with the stop and returns True when it told the user.
STOP_HANDLERS: list[Callable[[TrainingInterrupted], bool]] = []


def report_stop(stop: TrainingInterrupted) -> int:
    """Say how to continue; the exit code."""
    told = [handler(stop) for handler in STOP_HANDLERS]  # every one runs
    if stop.checkpoint is not None and not any(told):
        print(f"stopped; resume with: python train.py resume={stop.checkpoint}", file=sys.stderr)
    return 128 + stop.signum
