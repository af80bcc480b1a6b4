"""Small helpers shared by every module: seeding, devices, metric averaging."""

from .device import select_device
from .meters import MetricTracker
from .seed import (
    enable_determinism,
    get_rng_state,
    seed_everything,
    seed_worker,
    set_rng_state,
)

__all__ = [
    "MetricTracker",
    "enable_determinism",
    "get_rng_state",
    "seed_everything",
    "seed_worker",
    "select_device",
    "set_rng_state",
]
