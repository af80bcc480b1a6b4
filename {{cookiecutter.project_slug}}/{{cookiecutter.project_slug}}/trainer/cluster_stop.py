"""The graceful stop on a cluster: also SIGUSR1 (what a scheduler sends before a time
limit: train.py then may requeue the job), kept from the start of the process; under
torchrun every rank stops at the same step, so the request is agreed on across ranks."""

import logging
import signal
import threading
import time
from collections.abc import Callable

from ..utils import dist
from ..utils.dist import DistInfo
from .graceful_stop import GracefulStop

log = logging.getLogger(__name__)

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


class ClusterStop(GracefulStop):
    # SIGUSR1 does not exist on Windows.
    signals = tuple(
        getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGUSR1") if hasattr(signal, name)
    )

    def __init__(self, dist_info: DistInfo, at_sync_point: Callable[[], bool]) -> None:
        super().__init__()
        self.distributed, self.at_sync_point = dist_info.enabled, at_sync_point
        self._first_time = 0.0  # when the first signal arrived (time.monotonic)
        if _early:
            self.signum, self._first_time = _early[0], time.monotonic()
            _early.clear()
            log.warning("SIGUSR1 received while starting: stopping after the first step")

    def requested(self) -> bool:
        """One process: as soon as a signal arrived. Under torchrun the request is
        all-reduced, and only at points that all ranks reach together (log steps and
        epoch ends): no extra per-step host sync."""
        if not self.distributed:
            return super().requested()
        if self.at_sync_point():
            self.signum = dist.max_over_ranks(self.signum or 0) or None
            return super().requested()
        return False

    def _on_signal(self, signum, frame) -> None:
        # Under torchrun (and SLURM) one stop request can arrive twice, from the
        # scheduler and forwarded by torchrun: count repeats within 2 s as one.
        repeat = self.signum is not None and time.monotonic() - self._first_time < 2.0
        if repeat and self.distributed:
            return
        if self.signum is None:
            self._first_time = time.monotonic()
        super()._on_signal(signum, frame)
