"""Every process of a torchrun job starts from the same config, or none trains.

Each node's torchrun agent starts its processes with that node's own command line: two
nodes given different overrides (``trainer.epochs=2`` on one, ``=3`` on the other) would
train until one waits in a collective the other never reaches, and hang there until
the process group's timeout (30 minutes with gloo). Comparing the resolved configs at
start turns that into one line naming the first key that differs.
"""

import hashlib
import json

from ..config import ConfigError, flatten, to_plain_dict
from ..utils import dist

MISSING = "<not set>"  # a key one rank's config has and another's lacks
# Each rank resolves resume=auto itself: a different checkpoint found is agree_on_resume's
# to report, with its likely cause (an output_dir that is not on a shared disk).
OWN_CHECKS = ("resume",)


def agree_on_config(config) -> None:
    """All ranks hold the same resolved config, or every rank raises the same ConfigError.

    A digest travels first (the whole config only when the digests differ), so a job
    whose ranks agree pays one small all-gather. A collective: every rank calls it."""
    mine = {key: value for key, value in to_plain_dict(config).items() if key not in OWN_CHECKS}
    digest = hashlib.sha256(json.dumps(mine, sort_keys=True, default=str).encode()).hexdigest()
    if len(set(dist.all_gather_object(digest))) == 1:
        return
    everyone = [flatten(other) for other in dist.all_gather_object(mine)]
    raise ConfigError(first_difference(everyone))


def first_difference(configs: list[dict]) -> str:
    """The first key (in rank 0's order) whose value differs between rank 0 and the first
    rank that disagrees with it, both values named."""
    reference = configs[0]
    rank, other = next((r, c) for r, c in enumerate(configs) if c != reference)
    keys = [*reference, *(key for key in other if key not in reference)]
    key = next(k for k in keys if reference.get(k, MISSING) != other.get(k, MISSING))
    return (
        f"the processes did not start with the same config: {key} is "
        f"{_shown(reference.get(key, MISSING))} on rank 0 and "
        f"{_shown(other.get(key, MISSING))} on rank {rank}; start every node with the "
        "same config file and overrides"
    )


def _shown(value) -> str:
    return "null" if value is None else str(value)
