"""Run directories belong to one run: created atomically, locked while in use, and never
overwritten unless the user says so.

- ``check_output_dir``: before any work, refuse a file, or a folder that already holds
  a run (unless resuming it, or ``overwrite=true``).
- ``create_unique_dir``: ``runs/<timestamp>``, with ``-1``, ``-2``... appended when
  another run took that name in the same second (``mkdir`` is atomic; a check then
  create is not).
- ``RunLock``: an exclusive ``flock`` on ``<run>/.lock`` for the life of the run. The
  kernel drops it when the process dies, so a killed run never blocks its own resume.
- ``mark_run``: ``<run>/.run``, written when train.py claims the folder: what tells a run
  directory from a folder that merely holds a ``config.yaml`` and ``checkpoints/``
  (``run_of_checkpoint``: where evaluate.py and predict.py may write unasked).
"""

import contextlib
import fcntl
import os
import shutil
from pathlib import Path

from .errors import RunDirError

LOCK_NAME = ".lock"
MARKER_NAME = ".run"  # the run's own record that train.py made this folder a run
MARKER_TEXT = "a training run: train.py claimed this folder (evaluate.py, predict.py write here)\n"
CHECKPOINTS, BEST, LAST = "checkpoints", "best.pt", "last.pt"  # <run>/checkpoints/best.pt
# Folders trackers keep in a run directory, by the label train.py's closing lines give
# them; a tracker that keeps one of its own adds it here.
TRACKER_FOLDERS = {"tensorboard": "tensorboard"}


class RunFiles:
    """The paths of a run directory's files: every name is written here, once."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.config = self.root / "config.yaml"
        self.log = self.root / "train.log"
        self.metrics = self.root / "metrics.csv"
        self.curves = self.root / "curves.png"
        self.augmentations = self.root / "augmentations.png"  # image files only
        self.checkpoints = self.root / CHECKPOINTS
        self.best, self.last = self.checkpoints / BEST, self.checkpoints / LAST
        self.tensorboard = self.root / TRACKER_FOLDERS["tensorboard"]
        self.test_metrics = self.root / "test_metrics.json"
        self.confusion = self.root / "confusion_matrix.png"

    def outputs(self) -> dict[str, Path]:
        """What a user looks at, by label, in the order train.py reports it."""
        return {
            "config": self.config,
            "log": self.log,
            "metrics": self.metrics,
            "curves": self.curves,
            "augmentations": self.augmentations,
            "checkpoints": self.checkpoints,
            **{label: self.root / name for label, name in TRACKER_FOLDERS.items()},
            "test metrics": self.test_metrics,
            "confusion": self.confusion,
        }

    def holds_run(self) -> bool:
        """Any of these means the folder already holds a run's results."""
        markers = (self.config, self.metrics, self.checkpoints, self.test_metrics)
        return self.root.is_dir() and any(path.exists() for path in markers)


def run_of_checkpoint(checkpoint: Path) -> Path | None:
    """``<run>`` when the checkpoint sits in ``<run>/checkpoints/`` of a folder that
    train.py marked as a run (``mark_run``); None for a checkpoint anywhere else, e.g.
    a service's folder with its own config.yaml: its files are not ours to replace."""
    folder = Path(checkpoint).resolve().parent
    if folder.name == CHECKPOINTS and (folder.parent / MARKER_NAME).is_file():
        return folder.parent
    return None


def mark_run(path: Path) -> None:
    (path / MARKER_NAME).write_text(MARKER_TEXT, encoding="utf-8")


def holds_run(path: Path) -> bool:
    return RunFiles(path).holds_run()


def check_output_dir(path: Path, resuming: bool, overwrite: bool) -> None:
    """Read-only checks of ``output_dir`` before any work (``check_free`` runs again
    under the lock, which settles races)."""
    if path.exists() and not path.is_dir():
        raise RunDirError(f"output_dir={path} is a file, not a folder; choose another output_dir")
    holder = lock_holder(path)
    if holder is not None:
        raise RunDirError(
            f"{path} is in use by another run (PID {holder}); wait for it to finish, "
            "or choose another output_dir"
        )
    check_free(path, resuming, overwrite)


def check_free(path: Path, resuming: bool, overwrite: bool) -> None:
    """A folder that holds a run is only used to resume it, or to replace it on request."""
    if holds_run(path) and not resuming and not overwrite:
        raise RunDirError(
            f"output_dir={path} already holds a run; continue it with "
            f"resume={RunFiles(path).last}, or choose another output_dir "
            "(overwrite=true replaces it)"
        )


def lock_holder(path: Path) -> str | None:
    """The PID written by the process that holds ``path``'s run lock, or None if free."""
    try:
        fd = os.open(path / LOCK_NAME, os.O_RDONLY)
    except OSError:  # no lock file (a new folder), or not readable
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # succeeds only if nobody holds it
        return None
    except BlockingIOError:
        return os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
    finally:
        os.close(fd)  # closing drops the probe's shared lock, if it got one


def create_unique_dir(path: Path) -> Path:
    """Create ``path``, or ``path-1``, ``path-2``... whichever is free first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1000):
        candidate = path if attempt == 0 else path.with_name(f"{path.name}-{attempt}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise RunDirError(f"no free run directory name next to {path}; clean up {path.parent}")


def clear_run(path: Path) -> None:
    """``overwrite=true``: remove the previous run as a whole (the lock file stays, held,
    and the mark of the run that replaces it)."""
    for entry in path.iterdir():
        if entry.name in (LOCK_NAME, MARKER_NAME):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def remove_unused(path: Path) -> None:
    """Remove a run directory this run created but never used (only its lock and mark)."""
    if {entry.name for entry in path.iterdir()} <= {LOCK_NAME, MARKER_NAME}:
        (path / LOCK_NAME).unlink(missing_ok=True)
        (path / MARKER_NAME).unlink(missing_ok=True)
        path.rmdir()


class RunLock:
    """``with RunLock(run_dir):`` one run per run directory (the process that writes it)."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / LOCK_NAME
        self._fd: int | None = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc_info) -> None:
        self.release()

    def acquire(self) -> "RunLock":
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            check_output_dir(self.path.parent, resuming=True, overwrite=False)  # names the PID
            raise  # (only if the holder let go in between: rare; the caller may retry)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
