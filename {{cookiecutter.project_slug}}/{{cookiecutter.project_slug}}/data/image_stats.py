"""``data.normalize=auto`` for an image folder: the training images' per-channel mean
and std, computed once and cached (see image_check_cache.py for where)."""

import hashlib
import json
import logging
import os

import torch

from .image_check_cache import cache_file, read_cache, stamp, write_cache
from .images import ImagePipeline

log = logging.getLogger(__name__)

# Enough for the mean and std of a channel to 3 decimals (the spread of per-image means
# over sqrt(5,000)); a larger folder is sampled, so the first start decodes at most this
# many images, not the whole training split.
MAX_STATS_IMAGES = 5000


def stats_sample(count: int) -> list[int]:
    """The training images the statistics come from: all of them, or MAX_STATS_IMAGES
    evenly spaced (the training list is in class order: each class in proportion). The
    same files every start: the result does not depend on a seed."""
    if count <= MAX_STATS_IMAGES:
        return list(range(count))
    return [index * count // MAX_STATS_IMAGES for index in range(MAX_STATS_IMAGES)]


def normalize_statistics(train, eval_specs: list[dict]):
    """Per-channel mean and std of the training images after the eval transforms, in
    [0, 1]. Cached under a key of the sampled files (names, sizes, modification times),
    channels and eval transforms."""
    picked = stats_sample(len(train))
    key = hashlib.sha256()
    for index in picked:
        path = train.files[index]
        key.update(f"{path}\0{stamp(os.stat(path))}\n".encode())
    key.update(json.dumps([train.channels, eval_specs], sort_keys=True).encode())
    cache = cache_file("normalize", key.hexdigest())
    cached = read_cache(cache)
    try:
        mean, std = [float(v) for v in cached["mean"]], [float(v) for v in cached["std"]]
        if len(mean) == len(std) == train.channels:
            return mean, std
    except (KeyError, TypeError, ValueError):
        pass  # none yet, or not what this writes: computed again
    pipeline = ImagePipeline(eval_specs, None, None, "data.eval_transforms")
    total = torch.zeros(train.channels, dtype=torch.float64)
    squares = torch.zeros(train.channels, dtype=torch.float64)
    pixels = 0
    for index in picked:
        image = pipeline.checked(train.image(index), train.files[index]).double()
        total += image.sum(dim=(1, 2))
        squares += (image**2).sum(dim=(1, 2))
        pixels += image[0].numel()
    mean = total / pixels
    std = (squares / pixels - mean**2).clamp_min(1e-12).sqrt()
    result = {"mean": mean.tolist(), "std": std.tolist()}
    write_cache(cache, result)
    log.info(
        "data.normalize=auto: mean %s, std %s (from %d of %d training images)",
        *(result["mean"], result["std"], len(picked), len(train)),
    )
    return result["mean"], result["std"]
