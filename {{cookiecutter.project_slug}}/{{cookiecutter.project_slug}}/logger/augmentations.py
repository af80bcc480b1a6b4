"""``augmentations.png``: a few training images as read and after the training transforms
(two random draws), one column per image. A mirrored digit or a crop that cuts the object
away shows here at the start of a run."""

import torch

from .drawing import DPI

CELL_INCHES = 1.4


def augmentation_figure(names: list[str], columns: list[list[torch.Tensor]]):
    """The matplotlib figure: row 0 the images as read (their size under them), then one
    row per draw of ``data.train_transforms``; ``columns[i]`` are image i's views."""
    from matplotlib.figure import Figure  # deferred: slow to import; no pyplot state

    rows = len(columns[0])
    figure = Figure(figsize=(CELL_INCHES * len(columns), CELL_INCHES * rows + 0.5), dpi=DPI)
    axes = figure.subplots(rows, len(columns), squeeze=False)
    labels = ["as read", *(f"augmented ({draw})" for draw in range(1, rows))]
    for col, (name, views) in enumerate(zip(names, columns, strict=True)):
        for row, view in enumerate(views):
            axis = axes[row][col]
            pixels = view.permute(1, 2, 0).numpy()
            if pixels.shape[2] == 1:
                axis.imshow(pixels[:, :, 0], cmap="gray", vmin=0, vmax=1)
            else:
                axis.imshow(pixels)
            axis.set_xticks([])
            axis.set_yticks([])
            axis.set_xlabel(f"{view.shape[2]}x{view.shape[1]}", fontsize=7)
            if row == 0:
                axis.set_title(name, fontsize=8)
            if col == 0:
                axis.set_ylabel(labels[row], fontsize=8)
    figure.suptitle("training images as read, then after data.train_transforms", fontsize=9)
    figure.tight_layout()
    return figure
