"""Which checkpoint files a run keeps: ``best.pt`` and ``last.pt``, plus the files of any
policy added to the manager (``policies``); the files themselves are written atomically
by ``checkpoint.write_atomic``."""

from pathlib import Path
from typing import Any, Protocol

from ..utils.compare import is_better
from ..utils.run_dir import BEST, LAST
from .checkpoint import serialize, write_atomic


class KeepPolicy(Protocol):
    """More files to keep, decided at each epoch end beside best and last."""

    def plan(
        self, manager: "CheckpointManager", metrics: dict[str, float]
    ) -> tuple[list[Path], list[Path]]:
        """(files to write, files to delete once they are written) for this epoch;
        ``metrics`` holds ``epoch``."""

    def stale(self, resumed: bool) -> list[Path]:
        """Its files a killed run left behind, to delete at the start."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class CheckpointManager:
    """Decides which files to write at the end of an epoch:

    - ``best.pt``: whenever the monitored metric improves (``save_best``);
    - the files of each policy in ``policies``, in order;
    - ``last.pt``: every epoch (``save_last``), and mid-epoch every ``every_n_steps``.
    """

    def __init__(
        self,
        directory: Path | str,
        monitor: str = "val_loss",
        mode: str = "min",
        save_best: bool = True,
        save_last: bool = True,
        policies: list[KeepPolicy] = (),
    ) -> None:
        self.directory = Path(directory)
        self.monitor, self.mode = monitor, mode
        self.save_best, self.save_last = save_best, save_last
        self.policies = list(policies)
        self.best_score: float | None = None
        self.to_delete: list[Path] = []  # the policies' files, deleted after the next write

    @property
    def last_path(self) -> Path:
        return self.directory / LAST

    @property
    def best_path(self) -> Path:
        return self.directory / BEST

    def is_better(self, score: float, reference: float | None) -> bool:
        return is_better(score, reference, self.mode)

    def score(self, metrics: dict[str, float]) -> float:
        """The monitored metric of ``metrics``."""
        score = metrics.get(self.monitor)
        if score is None:
            raise KeyError(f"checkpoint monitor {self.monitor!r} not in metrics {sorted(metrics)}")
        return score

    def plan(self, metrics: dict[str, float]) -> list[Path]:
        """Update the best score with this epoch's; return the files to write.

        Call it before building the checkpoint so the saved state already includes
        this epoch's decision.
        """
        writes: list[Path] = []
        score = self.score(metrics)
        if self.save_best and self.is_better(score, self.best_score):
            writes.append(self.best_path)
        if self.is_better(score, self.best_score):
            self.best_score = score
        for policy in self.policies:
            policy_writes, policy_deletes = policy.plan(self, metrics)
            writes += policy_writes
            self.to_delete += policy_deletes
        if self.save_last:
            writes.append(self.last_path)
        return writes

    def write(self, state: dict[str, Any], writes: list[Path]) -> None:
        data = serialize(state) if writes else b""  # serialize once, write to every file
        for path in writes:
            write_atomic(data, path)
        for path in self.take_deletions():  # only after the new files are safely on disk
            path.unlink(missing_ok=True)

    def take_deletions(self) -> list[Path]:
        """The files planned for deletion (for a caller that writes the files itself)."""
        deletions, self.to_delete = self.to_delete, []
        return deletions

    def remove_stale(self, resumed: bool) -> list[Path]:
        """Delete the temporary files of a write a killed run left unfinished, and what
        the policies no longer keep."""
        stale = list(self.directory.glob(".*.pt.*.tmp"))
        for policy in self.policies:
            stale += policy.stale(resumed)
        for path in stale:
            path.unlink(missing_ok=True)
        return stale

    def state_dict(self) -> dict[str, Any]:
        state = {"best_score": self.best_score}
        for policy in self.policies:
            state |= policy.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_score = state["best_score"]
        for policy in self.policies:
            policy.load_state_dict(state)
