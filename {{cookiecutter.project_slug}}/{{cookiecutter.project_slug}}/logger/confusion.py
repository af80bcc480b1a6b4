"""The test split's confusion matrix: per-class precision and recall, and a PNG of the
counts and row shares (rows: true class, columns: predicted)."""

from pathlib import Path

import torch

from .drawing import DPI, save_png


def per_class_scores(matrix: torch.Tensor, classes: list[str], prefix: str) -> dict[str, float]:
    """``<prefix>_class_<name>_precision`` and ``_recall``; 0 for a class never
    predicted (precision) or absent from the split (recall)."""
    matrix = matrix.double()
    hits = matrix.diagonal()
    precision = hits / matrix.sum(dim=0).clamp_min(1)
    recall = hits / matrix.sum(dim=1).clamp_min(1)
    scores = {}
    for index, name in enumerate(classes):
        scores[f"{prefix}_class_{name}_precision"] = precision[index].item()
        scores[f"{prefix}_class_{name}_recall"] = recall[index].item()
    return scores


def confusion_figure(matrix: torch.Tensor, classes: list[str]):
    """One panel: each cell holds its count and its share of the true class (the row),
    coloured by that share, so the diagonal reads as per-class recall."""
    import matplotlib  # deferred: slow to import

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    counts = matrix.long()
    shares = matrix.double() / matrix.sum(dim=1, keepdim=True).clamp_min(1)
    size = max(4.0, 0.6 * len(classes) + 2)
    figure = Figure(figsize=(size + 1.5, size), dpi=DPI)
    axis = figure.subplots()
    image = axis.imshow(shares.numpy(), cmap="Blues", vmin=0.0, vmax=1.0)
    axis.set(title="test split: count and share of the true class", xlabel="predicted")
    axis.set_ylabel("true")
    ticks = range(len(classes))
    # A few short names fit upright; long or many names are slanted so they do not overlap.
    upright = len(classes) * max(len(str(name)) for name in classes) <= 40
    font = 10 if len(classes) <= 10 else 7
    if upright:
        axis.set_xticks(ticks, classes, fontsize=font)
    else:
        axis.set_xticks(ticks, classes, rotation=45, ha="right", fontsize=font)
    axis.set_yticks(ticks, classes, fontsize=font)
    if len(classes) <= 20:  # numbers stay readable
        for row in range(len(classes)):
            for col in range(len(classes)):
                share = shares[row, col].item()
                axis.text(
                    col,
                    row,
                    f"{counts[row, col].item()}\n{share:.0%}",
                    ha="center",
                    va="center",
                    fontsize=font if len(classes) <= 10 else 6,
                    color="white" if share > 0.5 else "black",  # on the dark half of the map
                )
    figure.colorbar(image, ax=axis, fraction=0.046, label="share of the true class")
    figure.tight_layout()
    return figure


def save_confusion_matrix(matrix: torch.Tensor, classes: list[str], path: Path):
    """Draw the PNG at ``path``; returns the figure (for the trackers: drawn already)."""
    figure = confusion_figure(matrix, classes)
    save_png(figure, path)
    return figure
