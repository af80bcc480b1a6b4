{% if cookiecutter.profile == "full" -%}
"""Graceful stop: the first SIGINT/SIGTERM/SIGUSR1 finishes the current step, saves
last.pt and stops; a second one stops at once. Under torchrun every rank must stop at
the same step, so the request is agreed on across ranks. SIGUSR1 is what a cluster
scheduler sends before a time limit: train.py then may requeue the job."""
{%- else -%}
"""Graceful stop: the first SIGINT/SIGTERM finishes the current step, saves last.pt and
stops; a second one stops at once."""
{%- endif %}

import contextlib
import logging
import os
import signal
import threading
{%- if cookiecutter.profile == "full" %}
import time
{%- endif %}
from pathlib import Path
{%- if cookiecutter.profile == "full" %}

from ..utils import DistInfo, dist
{%- endif %}

log = logging.getLogger(__name__)
{%- if cookiecutter.profile == "full" %}

# SIGUSR1 does not exist on Windows.
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGUSR1") if hasattr(signal, name)
)
{%- else %}

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
{%- endif %}


class TrainingInterrupted(Exception):
    """A stop signal arrived; ``last.pt`` was saved. ``signum`` is the signal number."""

    def __init__(self, signum: int, checkpoint: Path | None) -> None:
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum, self.checkpoint = signum, checkpoint
{%- if cookiecutter.profile == "full" %}


# USR1s that arrived before the trainer's handlers (catch_usr1_early), for the next trainer.
_early: list[int] = []


def catch_usr1_early() -> None:
    """From here until a trainer installs its handlers, a USR1 is kept for it instead of
    killing the process (USR1's default). SLURM sends it before a time limit or at a
    preemption, to torchrun and every process; one that came during start-up (data,
    model, process group) killed the job, which was then not requeued. Seen on a real
    cluster when the time limit was near: the trainer now stops after its first step."""
    usr1 = getattr(signal, "SIGUSR1", None)
    if usr1 is not None and threading.current_thread() is threading.main_thread():
        signal.signal(usr1, lambda signum, frame: _early.append(signum))
{%- endif %}


class GracefulStop:
{%- if cookiecutter.profile == "full" %}
    def __init__(self, dist_info: DistInfo) -> None:
        self.distributed = dist_info.enabled
        self.signum: int | None = None
        self._first_time = 0.0  # when the first signal arrived (time.monotonic)
{%- else %}
    def __init__(self) -> None:
        self.signum: int | None = None
{%- endif %}
        self._pid = os.getpid()  # the process whose handlers these are (not a forked worker)
{%- if cookiecutter.profile == "full" %}
        if _early:
            self.signum, self._first_time = _early[0], time.monotonic()
            _early.clear()
            log.warning("SIGUSR1 received while starting: stopping after the first step")
{%- endif %}
{%- if cookiecutter.profile == "full" %}

    def requested(self, sync: bool) -> bool:
        """Whether to stop here. One process: as soon as a signal arrived. Under torchrun
        the request is all-reduced, and only at ``sync`` points that all ranks reach
        together (log steps and epoch ends): no extra per-step host sync."""
        if not self.distributed:
            return self.signum is not None
        if sync:
            self.signum = dist.max_over_ranks(self.signum or 0) or None
            return self.signum is not None
        return False
{%- else %}

    def requested(self) -> bool:
        """Whether to stop here: as soon as a signal arrived."""
        return self.signum is not None
{%- endif %}

    @contextlib.contextmanager
    def handlers(self):
        """Install the stop-signal handlers for the ``with`` block (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        self._pid = os.getpid()
        previous = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum, frame) -> None:
        if os.getpid() != self._pid:
            # A DataLoader worker (forked with this handler): a terminal's Ctrl-C reaches
            # it too. The training process stops and shuts the workers down; they ignore it.
            return
        if self.signum is not None:
{%- if cookiecutter.profile == "full" %}
            # Under torchrun (and SLURM) one stop request can arrive twice, from the
            # scheduler and forwarded by torchrun: count repeats within 2 s as one.
            if self.distributed and time.monotonic() - self._first_time < 2.0:
                return
{%- endif %}
            raise KeyboardInterrupt
{%- if cookiecutter.profile == "full" %}
        self.signum, self._first_time = signum, time.monotonic()
{%- else %}
        self.signum = signum
{%- endif %}
        log.warning(
            "%s received: finishing the current step, then saving last.pt "
            "(press Ctrl-C again to quit at once)",
            signal.Signals(signum).name,
        )
