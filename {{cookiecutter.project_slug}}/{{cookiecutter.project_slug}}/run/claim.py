"""The run directory, claimed for the life of a run: the main process creates (or
opens) and locks it; every process learns it, or leaves with the reason it cannot be used.

    with RunDirClaim(config, strategy) as claim:
        trainer = ClassificationTrainer(..., claim.run_dir, ...)
        claim.start()      # from here on the directory is the run's
        ...

A directory this run created is removed again if the run fails before ``start``."""

import time
from pathlib import Path

from ..utils.errors import RunDirError
from ..utils.run_dir import (
    RunLock,
    check_free,
    clear_run,
    create_unique_dir,
    mark_run,
    remove_unused,
)


class RunDirClaim:
    def __init__(self, config, strategy) -> None:
        self.config, self.strategy = config, strategy
        self.lock: RunLock | None = None
        self.created = self.started = False
        self.run_dir = Path()

    def __enter__(self) -> "RunDirClaim":
        self.run_dir = self.strategy.on_main(self._claim)
        return self

    def _claim(self) -> Path:
        if self.config.output_dir is None:
            # A timestamp names the run; mkdir settles two runs started in the same second.
            run_dir = create_unique_dir(Path("runs") / time.strftime("%Y%m%d-%H%M%S"))
            self.created = True
        else:
            run_dir = Path(self.config.output_dir)
            self.created = not run_dir.exists()
            run_dir.mkdir(parents=True, exist_ok=True)
        self.lock = RunLock(run_dir).acquire()
        try:
            # Checked again under the lock: another run may have finished here meanwhile.
            check_free(run_dir, bool(self.config.resume), self.config.overwrite)
        except RunDirError:
            self.lock.release()
            raise
        mark_run(run_dir)
        return run_dir

    def start(self) -> None:
        """The run begins: ``output_dir`` names the directory, ``overwrite=true`` empties it."""
        self.started = True
        self.config.output_dir = str(self.run_dir)
        if self.config.overwrite and self.strategy.is_main:
            clear_run(self.run_dir)

    def __exit__(self, error_type, *_) -> None:
        if self.lock is None:
            return
        self.lock.release()
        if error_type is not None and self.created and not self.started:
            remove_unused(self.run_dir)
