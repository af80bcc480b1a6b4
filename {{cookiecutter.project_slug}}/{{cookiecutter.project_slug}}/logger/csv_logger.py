"""``metrics.csv``: one row per epoch, appended as training goes, safe to resume."""

import csv
from pathlib import Path

from .base import BaseLogger


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

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        """Per-step values are not written; metrics.csv is per epoch."""

    def log_epoch(self, epoch: int, metrics: dict[str, float], step: int) -> None:
        new_file = not self.path.exists() or self.path.stat().st_size == 0
        if self.fieldnames is None:
            self.fieldnames = list(metrics)
        with self.path.open("a", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.fieldnames, extrasaction="ignore")
            if new_file:
                writer.writeheader()
            writer.writerow(metrics)

    def _truncate_after(self, epoch: int) -> None:
        rows, fieldnames = read_metrics(self.path)
        self.fieldnames = fieldnames or None
        kept = [row for row in rows if int(row["epoch"]) <= epoch]
        with self.path.open("w", newline="", encoding="utf-8") as handle:
            if fieldnames:
                writer = csv.DictWriter(handle, fieldnames=fieldnames)
                writer.writeheader()
                writer.writerows(kept)


def read_metrics(path: Path | str) -> tuple[list[dict[str, str]], list[str]]:
    """Rows and column names of a metrics.csv (complete lines only)."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = [row for row in reader if None not in row.values()]
        return rows, list(reader.fieldnames or [])
