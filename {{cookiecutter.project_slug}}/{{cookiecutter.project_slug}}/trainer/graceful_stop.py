"""Graceful stop: the first SIGINT/SIGTERM finishes the current step, saves last.pt and
stops; a second one stops at once."""

import contextlib
import logging
import os
import signal
import threading
from pathlib import Path

log = logging.getLogger(__name__)


class TrainingInterrupted(Exception):
    """A stop signal arrived; ``last.pt`` was saved. ``signum`` is the signal number."""

    def __init__(self, signum: int, checkpoint: Path | None) -> None:
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum, self.checkpoint = signum, checkpoint


class GracefulStop:
    signals = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signum: int | None = None
        self._pid = os.getpid()  # the process whose handlers these are (not a forked worker)

    def requested(self) -> bool:
        """Whether to stop here: as soon as a signal arrived."""
        return self.signum is not None

    @contextlib.contextmanager
    def handlers(self):
        """Install the stop-signal handlers for the ``with`` block (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        self._pid = os.getpid()
        previous = {sig: signal.signal(sig, self._on_signal) for sig in self.signals}
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
            raise KeyboardInterrupt
        self.signum = signum
        log.warning(
            "%s received: finishing the current step, then saving last.pt "
            "(press Ctrl-C again to quit at once)",
            signal.Signals(signum).name,
        )
