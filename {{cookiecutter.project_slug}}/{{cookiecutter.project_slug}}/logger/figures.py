"""A grid of validation images captioned with predicted and true labels.

Drawn with Pillow on the tiled pixels, not with matplotlib: the grid is drawn during
training (first epoch, every few epochs), where matplotlib's import and text layout cost
~0.4 s before the first grid and ~0.08 s per grid; Pillow takes a few milliseconds."""

import math

import numpy as np
import torch

CELL = 120  # pixels per image side, after scaling up (an 8x8 digit is unreadable as is)
FONT_SIZE = 11
RIGHT, WRONG = (0, 128, 0), (200, 0, 0)  # caption colours: green right, red wrong


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
) -> np.ndarray:
    """The grid as ``(height, width, 3)`` uint8 RGB pixels, eight images a row, each under
    its caption ``pred 3`` / ``true 3`` (green when right, red when wrong)."""
    from PIL import Image, ImageDraw, ImageFont  # deferred: only used when grids are logged

    count = min(limit, len(images))
    columns = min(8, count)
    images = images[:count].detach().float().cpu()
    scale = max(1, CELL // max(images.shape[2:]))
    images = images.repeat_interleave(scale, dim=2).repeat_interleave(scale, dim=3)
    height, width = images.shape[2:]
    gap, label_band = 6, 2 * FONT_SIZE + 8
    canvas = tile(images, columns, gap, label_band)
    if canvas.shape[0] == 1:  # grayscale: the same value in R, G and B
        canvas = canvas.expand(3, -1, -1)
    pixels = (canvas.permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
    picture = Image.fromarray(np.ascontiguousarray(pixels))
    draw, font = ImageDraw.Draw(picture), ImageFont.load_default(size=FONT_SIZE)
    for index in range(count):
        row, col = divmod(index, columns)
        predicted, true = int(predictions[index]), int(targets[index])
        left = gap + col * (width + gap)
        top = row * (label_band + height + gap) + 2
        for line, name in enumerate((f"pred {classes[predicted]}", f"true {classes[true]}")):
            draw.text(
                (left, top + line * (FONT_SIZE + 2)),
                fit(draw, name, font, width),
                fill=RIGHT if predicted == true else WRONG,
                font=font,
            )
    return np.asarray(picture)


def fit(draw, text: str, font, width: int) -> str:
    """``text`` on one line (a class name may hold a newline or a tab), cut to ``width``
    pixels with an ellipsis (long class names)."""
    text = " ".join(text.split())
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"
