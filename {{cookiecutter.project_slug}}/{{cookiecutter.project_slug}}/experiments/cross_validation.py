"""K-fold summary: for each fold, its validation metrics at the best epoch (the epoch of
best.pt, by ``trainer.checkpoint.monitor``) and its test metrics (of best.pt); then the
mean and standard deviation over the folds."""

import json
import statistics
from pathlib import Path

from .runs_table import best_row, read_run
from .table import format_table


def summarise(fold_dirs: list[Path]) -> dict:
    per_fold = []
    for run_dir in fold_dirs:
        run = read_run(run_dir)
        row = best_row(run) or {}
        values = {k: float(v) for k, v in row.items() if k.startswith("val_")}
        values.update(run.test_metrics)
        per_fold.append(values)
    names = [n for n in per_fold[0] if all(n in fold for fold in per_fold)]
    metrics = {}
    for name in names:
        values = [fold[name] for fold in per_fold]
        metrics[name] = {
            "mean": statistics.fmean(values),
            # Sample standard deviation (n - 1): the folds are a sample of possible splits.
            "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "folds": values,
        }
    return {"folds": len(fold_dirs), "runs": [str(d) for d in fold_dirs], "metrics": metrics}


def summary_table(summary: dict) -> list[str]:
    rows = []
    for name, stats in summary["metrics"].items():
        row = {"metric": name, "mean ± std": f"{stats['mean']:.4f} ± {stats['std']:.4f}"}
        row.update({f"fold {i}": v for i, v in enumerate(stats["folds"])})
        rows.append(row)
    columns = ["metric", "mean ± std", *(f"fold {i}" for i in range(summary["folds"]))]
    return format_table(rows, columns)


def write_summary(summary: dict, path: Path) -> None:
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
