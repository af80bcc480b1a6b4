"""More checkpoint files to keep, beside best.pt and last.pt: the ``save_top_k`` best
epochs by the monitor (``epoch=NNN-<monitor>=X.pt``) and one every ``every_n_epochs``
epochs (``epoch=NNN.pt``), each policy on its own. They plug into the checkpoint
callback's manager through ``KEEP_POLICIES`` (trainer/callbacks/checkpointing.py)."""

import math
from pathlib import Path
from typing import Any

from ..saver.latest import IDENTITY_KEYS
from ..saver.policy import CheckpointManager
from .callbacks.checkpointing import KEEP_POLICIES

# A fold of k-fold cross-validation is a run of its own: a checkpoint of another fold
# (same model and data) must not be continued by resume=auto.
IDENTITY_KEYS.extend(["data.folds", "data.fold"])


class TopK:
    def __init__(self, directory: Path, monitor: str, mode: str, k: int) -> None:
        self.directory, self.monitor, self.mode, self.k = directory, monitor, mode, k
        self.kept: list[tuple[float, str]] = []  # (score, file name), best first

    def plan(self, manager: CheckpointManager, metrics: dict[str, float]):
        score, epoch = manager.score(metrics), int(metrics["epoch"])
        if math.isnan(score):
            return [], []
        name = f"epoch={epoch:03d}-{self.monitor}={score:.4f}.pt"
        candidates = [*self.kept, (score, name)]
        candidates.sort(key=lambda item: item[0], reverse=self.mode == "max")
        keep = candidates if self.k < 0 else candidates[: self.k]
        evicted = [self.directory / n for s, n in candidates if (s, n) not in keep]
        self.kept = keep
        writes = [self.directory / name] if (score, name) in keep else []
        return writes, [path for path in evicted if path.name != name]

    def stale(self, resumed: bool) -> list[Path]:
        """When resuming: files the restored list no longer names (written after the
        checkpoint we resume from, or evicted but not yet deleted)."""
        if not resumed:
            return []
        kept = {name for _, name in self.kept}
        pattern = f"epoch=[0-9][0-9][0-9]*-{self.monitor}=*.pt"
        return [p for p in self.directory.glob(pattern) if p.name not in kept]

    def state_dict(self) -> dict[str, Any]:
        return {"top_k": [list(item) for item in self.kept]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        # A checkpoint with no top-k list (written without this policy) starts an empty one.
        self.kept = [(float(score), str(name)) for score, name in state.get("top_k", [])]


class EveryNEpochs:
    def __init__(self, directory: Path, every: int) -> None:
        self.directory, self.every = directory, every

    def plan(self, manager: CheckpointManager, metrics: dict[str, float]):
        epoch = int(metrics["epoch"])
        return ([self.directory / f"epoch={epoch:03d}.pt"] if epoch % self.every == 0 else []), []

    def stale(self, resumed: bool) -> list[Path]:
        return []

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


def top_k(directory: Path, config) -> TopK | None:
    k = config.get("save_top_k", 0)
    return TopK(directory, config.monitor, config.mode, k) if k else None


def every_n_epochs(directory: Path, config) -> EveryNEpochs | None:
    every = config.get("every_n_epochs", 0)
    return EveryNEpochs(directory, every) if every else None


KEEP_POLICIES.extend([top_k, every_n_epochs])  # written in this order, before last.pt
