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


# data.image_size=auto never goes above this: the small CNN trains on a CPU in minutes at
# 64 px. Larger pictures are scaled down to it; give a number (128, 224) for finer detail.
AUTO_MAX_IMAGE_SIZE = 64
# PIL modes without colour: such files stay one channel under data.channels=auto.
GRAY_MODES = ("1", "L", "LA", "I", "I;16", "F")
# data.channels=auto reads the mode of at most this many training files, spread over the
# list (every class): a header each, cheap even for a large folder.
MODES_LOOKED_AT = 500


def auto_image_size(sizes: list[tuple[int, int]]) -> tuple[int, str]:
    """(size, why) for data.image_size=auto: the training images' median shorter side
    (small images are not upscaled), at most AUTO_MAX_IMAGE_SIZE."""
    sides = sorted(min(size) for size in sizes)
    if not sides:  # no header size known (images too large for PIL's header read)
        return AUTO_MAX_IMAGE_SIZE, f"the largest auto size, {AUTO_MAX_IMAGE_SIZE} px"
    median = sides[len(sides) // 2]
    size = min(median, AUTO_MAX_IMAGE_SIZE)
    capped = f", at most {AUTO_MAX_IMAGE_SIZE}" if size < median else ""
    return size, f"the training images' median shorter side is {median} px{capped}"


def auto_channels(files: list[str]) -> tuple[int, str]:
    """(channels, why) for data.channels=auto: 1 when every training file looked at is
    grayscale, else 3."""
    from PIL import Image

    step = max(1, len(files) // MODES_LOOKED_AT)
    looked_at = files[::step]
    for path in looked_at:
        with Image.open(path) as image:  # the header only: nothing is decoded
            if image.mode not in GRAY_MODES:
                return 3, f"{path} is in colour ({image.mode})"
    return 1, f"the {len(looked_at)} of {len(files)} training images looked at are grayscale"
