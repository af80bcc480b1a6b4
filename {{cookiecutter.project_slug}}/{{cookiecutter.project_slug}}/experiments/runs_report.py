"""runs.py's outputs beyond the table: its rows sorted by a column, and one metrics.csv
column plotted per epoch for every run (the CSV: ``utils.csv_output.dicts_text``)."""

from pathlib import Path

from ..utils.errors import ConfigError
from .runs_table import number


def sort_rows(rows: list[dict], column: str, descending: bool) -> list[dict]:
    if not any(column in row for row in rows):
        columns = sorted({key for row in rows for key in row})
        raise ConfigError(f"--sort {column}: no such column; choose one of {columns}")
    present = [r for r in rows if r.get(column) not in (None, "")]
    missing = [r for r in rows if r.get(column) in (None, "")]
    numeric = all(number(r[column]) is not None for r in present)
    key = (lambda r: number(r[column])) if numeric else (lambda r: str(r[column]))
    return sorted(present, key=key, reverse=descending) + missing  # runs without it last


def plot(runs, names: list[str], metric: str, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    drawn = 0
    for run, name in zip(runs, names, strict=True):
        points = [(number(r.get("epoch")), number(r.get(metric))) for r in run.rows]
        points = [(x, y) for x, y in points if x is not None and y is not None]
        if points:
            axes.plot(*zip(*points, strict=True), marker="o", markersize=3, label=name)
            drawn += 1
    if not drawn:
        plt.close(figure)
        columns = sorted({c for run in runs for row in run.rows for c in row})
        raise ConfigError(f"--plot {metric}: no run logged it; metrics.csv columns: {columns}")
    axes.set_xlabel("epoch")
    axes.set_ylabel(metric)
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(out, dpi=100)
    plt.close(figure)
