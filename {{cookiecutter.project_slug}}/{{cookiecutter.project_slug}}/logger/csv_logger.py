"""``metrics.csv``: one row per epoch, appended as training goes, safe to resume."""

import csv
from pathlib import Path

from ..utils.csv_output import write_dicts
from ..utils.errors import RunDirError, first_line
from ..utils.run_dir import RunFiles
from .base import LOGGERS, BaseLogger, RunInfo


@LOGGERS.register("csv")
class CSVLogger(BaseLogger):
    """Columns: epoch, train_*, val_*, lr, epoch_time (fixed by the first row).

    ``resume_epoch``: rows after that epoch (written after the checkpoint the run
    resumes from) are dropped, so a resumed run never duplicates an epoch.
    """

    def __init__(self, path: Path | str, resume_epoch: int | None = None) -> None:
        self.path = Path(path)
        self.fieldnames: list[str] | None = None
        if self.path.exists():
            self._truncate_after(resume_epoch or 0)

    @classmethod
    def from_run(cls, config, run: RunInfo) -> "CSVLogger":
        return cls(RunFiles(run.run_dir).metrics, run.resume_epoch)

    def log_epoch(self, epoch: int, metrics: dict[str, float], step: int) -> None:
        new_file = not self.path.exists() or self.path.stat().st_size == 0
        if self.fieldnames is None:
            self.fieldnames = list(metrics)
        with self.path.open("a", newline="", encoding="utf-8") as handle:
            write_dicts(handle, self.fieldnames, [metrics], header=new_file)

    def _truncate_after(self, epoch: int) -> None:
        rows, fieldnames = check_metrics_file(self.path)
        self.fieldnames = fieldnames or None
        kept = [row for row in rows if int(row["epoch"]) <= epoch]
        with self.path.open("w", newline="", encoding="utf-8") as handle:
            if fieldnames:
                write_dicts(handle, fieldnames, kept)


def read_metrics(path: Path | str) -> tuple[list[dict[str, str]], list[str]]:
    """Rows and column names of a metrics.csv (complete lines only)."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = [row for row in reader if None not in row.values()]
        return rows, list(reader.fieldnames or [])


def check_metrics_file(path: Path) -> tuple[list[dict[str, str]], list[str]]:
    """``read_metrics``, or one clear error if the file is not a metrics.csv this project
    wrote (a resumed run appends to it, so it must be readable first)."""
    try:
        rows, fieldnames = read_metrics(path)
        if rows and "epoch" not in fieldnames:
            raise ValueError("it has no 'epoch' column")
        for row in rows:
            int(row["epoch"])
    except (ValueError, UnicodeDecodeError, csv.Error) as error:
        raise RunDirError(
            f"{path} is corrupt ({first_line(error)}), so the resumed run cannot "
            "append to it; restore it, or move it away to start a new metrics.csv"
        ) from None
    return rows, fieldnames
