"""What the training transforms do to a few training images, for ``augmentations.png``:
each image as read, then as the model gets it in two epochs (two random draws), shown
in [0, 1] (the normalization undone)."""

import torch

from .base import BaseDataModule

PREVIEW_IMAGES = 8
DRAWS = 2  # augmented versions shown per image: epochs 0 and 1


def augmentation_preview(datamodule: BaseDataModule, count: int = PREVIEW_IMAGES):
    """(class names, [as read, draw 1, draw 2...] per image, each (C, H, W) in [0, 1]), or
    None when the training set has no transforms to show (tensors held in memory, as
    digits, MNIST and CSV tables: what is read is what the model gets)."""
    dataset = datamodule.train_set
    if not hasattr(dataset, "image") or getattr(dataset, "pipeline", None) is None:
        return None
    size = len(dataset)
    picks = sorted({round(i * (size - 1) / max(1, count - 1)) for i in range(min(count, size))})
    mean = torch.as_tensor(0.0 if datamodule.mean is None else datamodule.mean).view(-1, 1, 1)
    std = torch.as_tensor(1.0 if datamodule.std is None else datamodule.std).view(-1, 1, 1)
    names, columns = [], []
    for index in picks:
        views = [dataset.image(index).float() / 255]
        for epoch in range(DRAWS):
            sample = dataset[(index, epoch)][0]
            views.append((sample * std + mean).clamp(0, 1))
        names.append(str(dataset.classes[dataset.targets[index]]))
        columns.append(views)
    return names, columns
