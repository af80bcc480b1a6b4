"""Small helpers shared by every module: seeding, devices, {% if cookiecutter.profile == "full" %}distributed, {% endif %}metric averaging."""

from .device import select_device
{%- if cookiecutter.profile == "full" %}
from .dist import DistInfo, init_distributed
{%- endif %}
from .meters import MetricTracker
from .seed import (
    enable_determinism,
    get_rng_state,
    seed_everything,
    seed_worker,
    set_rng_state,
)

__all__ = [
{%- if cookiecutter.profile == "full" %}
    "DistInfo",
{%- endif %}
    "MetricTracker",
    "enable_determinism",
    "get_rng_state",
{%- if cookiecutter.profile == "full" %}
    "init_distributed",
{%- endif %}
    "seed_everything",
    "seed_worker",
    "select_device",
    "set_rng_state",
]
