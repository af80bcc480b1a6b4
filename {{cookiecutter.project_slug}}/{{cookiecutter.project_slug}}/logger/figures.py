"""A matplotlib grid of images titled with predicted and true labels."""

import math

import torch


def tile(images: torch.Tensor, columns: int, gap: int, label_band: int) -> torch.Tensor:
    """Paste ``(N, C, H, W)`` images, each scaled to [0, 1], onto one white canvas with
    ``label_band`` rows above each image for its caption."""
    count, channels, height, width = images.shape
    flat = images.reshape(count, -1)
    low = flat.min(dim=1).values.view(-1, 1, 1, 1)
    high = flat.max(dim=1).values.view(-1, 1, 1, 1)
    images = (images - low) / (high - low).clamp_min(1e-8)  # normalized inputs, shown as seen
    rows = math.ceil(count / columns)
    cell_h, cell_w = label_band + height + gap, width + gap
    canvas = torch.ones(channels, rows * cell_h, columns * cell_w + gap)
    for index in range(count):
        row, col = divmod(index, columns)
        top, left = row * cell_h + label_band, gap + col * cell_w
        canvas[:, top : top + height, left : left + width] = images[index]
    return canvas


def prediction_grid(
    images: torch.Tensor, predictions, targets, classes: list[str], limit: int = 16
):
    """Green caption when right, red when wrong: ``pred 3 / true 3``.

    One ``imshow`` of a tiled canvas rather than one subplot per image: drawing 16 axes
    takes seconds, and this runs every few epochs."""
    import matplotlib  # deferred: only used when predictions are logged

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    count = min(limit, len(images))
    columns = min(8, count)
    images = images[:count].detach().float().cpu()
    height, width = images.shape[2:]
    gap, label_band = max(1, width // 14), math.ceil(height * 0.3) + 1
    canvas = tile(images, columns, gap, label_band)
    inches_per_pixel = 1.2 / (width + gap)
    figure = Figure(
        figsize=(canvas.shape[2] * inches_per_pixel, canvas.shape[1] * inches_per_pixel)
    )
    axis = figure.add_axes((0, 0, 1, 1))
    axis.axis("off")
    picture = canvas[0] if canvas.shape[0] == 1 else canvas.permute(1, 2, 0)
    axis.imshow(picture, cmap="gray", vmin=0, vmax=1, interpolation="nearest", aspect="auto")
    for index in range(count):
        row, col = divmod(index, columns)
        predicted, true = int(predictions[index]), int(targets[index])
        axis.text(
            gap + col * (width + gap) + width / 2,
            row * (label_band + height + gap) + label_band - 0.5,
            f"pred {classes[predicted]}\ntrue {classes[true]}",
            ha="center",
            va="bottom",
            fontsize=7,
            color="green" if predicted == true else "red",
        )
    return figure
