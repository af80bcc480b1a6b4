"""A matplotlib grid of images titled with predicted and true labels."""

import math

import torch


def prediction_grid(
    images: torch.Tensor, predictions, targets, classes: list[str], limit: int = 16
):
    """Green title when right, red when wrong: ``pred 3 / true 3``."""
    import matplotlib  # deferred: only used when predictions are logged

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    count = min(limit, len(images))
    columns = min(8, count)
    rows = math.ceil(count / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(1.6 * columns, 1.9 * rows), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index >= count:
            continue
        image = images[index].detach().float().cpu()
        image = image[0] if image.shape[0] == 1 else image.permute(1, 2, 0)
        axis.imshow(image, cmap="gray")
        predicted, true = int(predictions[index]), int(targets[index])
        axis.set_title(
            f"pred {classes[predicted]}\ntrue {classes[true]}",
            fontsize=7,
            color="green" if predicted == true else "red",
        )
    figure.tight_layout()
    return figure
