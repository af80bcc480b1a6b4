"""The test split's confusion matrix: per-class precision and recall, and a PNG of the
counts beside the row-normalised matrix (rows: true class, columns: predicted)."""

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
    import matplotlib  # deferred: slow to import

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    counts = matrix.long()
    normalised = matrix.double() / matrix.sum(dim=1, keepdim=True).clamp_min(1)
    size = max(4.0, 0.45 * len(classes) + 2)
    figure = Figure(figsize=(2 * size + 1, size), dpi=DPI)
    panels = ((counts, "counts"), (normalised, "normalised by true class"))
    # A few short names fit upright; long or many names are slanted so they do not overlap.
    upright = len(classes) * max(len(str(name)) for name in classes) <= 40
    font = 10 if len(classes) <= 10 else 7
    for axis, (values, title) in zip(figure.subplots(1, 2), panels, strict=True):
        image = axis.imshow(values.numpy(), cmap="Blues")
        axis.set(title=title, xlabel="predicted", ylabel="true")
        ticks = range(len(classes))
        if upright:
            axis.set_xticks(ticks, classes, fontsize=font)
        else:
            axis.set_xticks(ticks, classes, rotation=45, ha="right", fontsize=font)
        axis.set_yticks(ticks, classes, fontsize=font)
        if len(classes) <= 20:  # numbers stay readable
            # White on the dark half of the colour map, black on the light half.
            threshold = (values.max().item() + values.min().item()) / 2
            for (row, col), value in _cells(values):
                dark = values[row, col].item() > threshold
                axis.text(
                    col,
                    row,
                    value,
                    ha="center",
                    va="center",
                    fontsize=font if len(classes) <= 10 else 6,
                    color="white" if dark else "black",
                )
        figure.colorbar(image, ax=axis, fraction=0.046)
    figure.tight_layout()
    return figure


def _cells(values: torch.Tensor):
    for row in range(values.shape[0]):
        for col in range(values.shape[1]):
            value = values[row, col].item()
            yield (row, col), (f"{value:.2f}" if isinstance(value, float) else str(value))


def save_confusion_matrix(matrix: torch.Tensor, classes: list[str], path: Path):
    """Draw the PNG at ``path``; returns the figure (for the trackers: drawn already)."""
    figure = confusion_figure(matrix, classes)
    save_png(figure, path)
    return figure
