"""``data.normalize=auto`` for an image folder: the training images' per-channel mean
and std, computed once and cached beside the data."""

import hashlib
import json
import logging
import os
from pathlib import Path

import torch

from .images import ImagePipeline

log = logging.getLogger(__name__)


def normalize_statistics(train, eval_specs: list[dict], root: Path):
    """Per-channel mean and std of the training images after the eval transforms, in
    [0, 1]. Computed once and cached in ``<root>/.cache/`` under a key of the file list
    (names, sizes, modification times), channels and eval transforms."""
    key = hashlib.sha256()
    for path in train.files:
        stat = os.stat(path)
        key.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    key.update(json.dumps([train.channels, eval_specs], sort_keys=True).encode())
    cache = root / ".cache" / f"normalize-{key.hexdigest()[:16]}.json"
    try:
        cached = json.loads(cache.read_text())
        return cached["mean"], cached["std"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    pipeline = ImagePipeline(eval_specs, None, None, "data.eval_transforms")
    total = torch.zeros(train.channels, dtype=torch.float64)
    squares = torch.zeros(train.channels, dtype=torch.float64)
    pixels = 0
    for index in range(len(train)):
        image = pipeline.checked(train.image(index), train.files[index]).double()
        total += image.sum(dim=(1, 2))
        squares += (image**2).sum(dim=(1, 2))
        pixels += image[0].numel()
    mean = total / pixels
    std = (squares / pixels - mean**2).clamp_min(1e-12).sqrt()
    result = {"mean": mean.tolist(), "std": std.tolist()}
    try:
        cache.parent.mkdir(exist_ok=True)
        temporary = cache.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(result))
        os.replace(temporary, cache)
    except OSError as error:  # a read-only data folder: recomputed next time
        log.warning("cannot cache the normalization statistics in %s: %s", cache, error)
    log.info("data.normalize=auto: mean %s, std %s", result["mean"], result["std"])
    return result["mean"], result["std"]
