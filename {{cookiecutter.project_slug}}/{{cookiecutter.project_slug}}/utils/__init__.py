"""Small helpers shared by every module: seeding, devices, distributed, metric averaging."""

from .device import select_device
from .dist import DistInfo, init_distributed
from .meters import MetricTracker
from .seed import (
    enable_determinism,
    get_rng_state,
    seed_everything,
    seed_worker,
    set_rng_state,
)

__all__ = [
    "DistInfo",
    "MetricTracker",
    "enable_determinism",
    "get_rng_state",
    "init_distributed",
    "seed_everything",
    "seed_worker",
    "select_device",
    "set_rng_state",
]
