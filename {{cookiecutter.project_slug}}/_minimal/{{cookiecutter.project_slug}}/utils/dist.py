"""One process. The project runs as ``python train.py`` on one device, so the helpers
the loop calls to share work between processes each do what one process needs: nothing
to wait for, nothing to add up, every value already this process's own."""

from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def enabled(self) -> bool:
        return False

    @property
    def is_main(self) -> bool:
        return True


def init_distributed(device: str = "auto") -> DistInfo:
    return DistInfo()


def is_main_process() -> bool:
    return True


def is_enabled() -> bool:
    return False


def cleanup() -> None:
    pass


def barrier() -> None:
    pass


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    return tensor


def max_over_ranks(value: int) -> int:
    return value


def all_gather_object(obj: Any) -> list[Any]:
    return [obj]


def collective_device() -> torch.device:
    return torch.device("cpu")


def broadcast_object(obj: Any, src: int = 0) -> Any:
    return obj
