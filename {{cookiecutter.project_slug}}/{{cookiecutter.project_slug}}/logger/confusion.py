"""The test split's confusion matrix: per-class precision and recall, and a PNG of the
counts beside the row-normalised matrix (rows: true class, columns: predicted)."""

from pathlib import Path

import torch


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
    import matplotlib  # deferred: slow to import

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    counts = matrix.long()
    normalised = matrix.double() / matrix.sum(dim=1, keepdim=True).clamp_min(1)
    size = max(4.0, 0.45 * len(classes) + 2)
    figure = Figure(figsize=(2 * size + 1, size))
    panels = ((counts, "counts"), (normalised, "normalised by true class"))
    for axis, (values, title) in zip(figure.subplots(1, 2), panels, strict=True):
        image = axis.imshow(values.numpy(), cmap="Blues")
        axis.set(title=title, xlabel="predicted", ylabel="true")
        ticks = range(len(classes))
        axis.set_xticks(ticks, classes, rotation=90, fontsize=7)
        axis.set_yticks(ticks, classes, fontsize=7)
        if len(classes) <= 20:  # numbers stay readable
            for (row, col), value in _cells(values):
                axis.text(col, row, value, ha="center", va="center", fontsize=6)
        figure.colorbar(image, ax=axis, fraction=0.046)
    figure.tight_layout()
    return figure


def _cells(values: torch.Tensor):
    for row in range(values.shape[0]):
        for col in range(values.shape[1]):
            value = values[row, col].item()
            yield (row, col), (f"{value:.2f}" if isinstance(value, float) else str(value))


def save_confusion_matrix(matrix: torch.Tensor, classes: list[str], path: Path):
    """Draw the PNG at ``path``; returns the figure (for the trackers)."""
    figure = confusion_figure(matrix, classes)
    figure.savefig(path, dpi=100)
    return figure
