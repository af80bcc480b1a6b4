"""``curves.png``: loss and each metric per epoch, train and val, drawn from metrics.csv."""

from pathlib import Path

from ..utils.run_dir import RunFiles
from .base import LOGGERS, BaseLogger, RunInfo
from .csv_logger import read_metrics


def plot_curves(csv_path: Path | str, png_path: Path | str) -> Path | None:
    """Draw one panel per quantity (loss, accuracy...) with its train and val lines."""
    rows, fieldnames = read_metrics(csv_path)
    if not rows:
        return None
    from .drawing import save_png

    return save_png(curves_figure(rows, fieldnames), png_path)


def curves_figure(rows: list[dict[str, str]], fieldnames: list[str]):
    """The figure: a panel per quantity, a line per split that has it (train_accuracy
    needs trainer.train_metrics, on by default)."""
    from matplotlib.figure import Figure  # deferred: slow to import; no pyplot state

    from .drawing import DPI

    quantities = sorted(
        {name.split("_", 1)[1] for name in fieldnames if name.startswith(("train_", "val_"))},
        key=lambda name: (name != "loss", name),
    )
    epochs = [int(row["epoch"]) for row in rows]
    figure = Figure(figsize=(5 * len(quantities), 4), dpi=DPI)
    axes = figure.subplots(1, len(quantities), squeeze=False)
    for axis, quantity in zip(axes[0], quantities, strict=True):
        for split in ("train", "val"):
            column = f"{split}_{quantity}"
            if column in fieldnames:
                axis.plot(epochs, [float(row[column]) for row in rows], marker="o", label=split)
        axis.set(title=quantity, xlabel="epoch")
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    return figure


@LOGGERS.register("curves")
class CurvesLogger(BaseLogger):
    """Redraws curves.png from metrics.csv when training ends (or stops)."""

    def __init__(self, csv_path: Path | str, png_path: Path | str) -> None:
        self.csv_path, self.png_path = Path(csv_path), Path(png_path)

    @classmethod
    def from_run(cls, config, run: RunInfo) -> "CurvesLogger":
        files = RunFiles(run.run_dir)
        return cls(files.metrics, files.curves)

    def finalize(self) -> None:
        if self.csv_path.exists():
            plot_curves(self.csv_path, self.png_path)
