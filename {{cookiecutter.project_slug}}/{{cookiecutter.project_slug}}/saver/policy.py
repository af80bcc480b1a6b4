{% if cookiecutter.profile == "full" -%}
"""Which checkpoint files a run keeps: best, top-k, last and periodic, each policy on its
own; the files themselves are written atomically by ``checkpoint.write_atomic``."""

import math
{%- else -%}
"""Which checkpoint files a run keeps: ``best.pt`` and ``last.pt``; the files themselves
are written atomically by ``checkpoint.write_atomic``."""
{% endif %}
from pathlib import Path
from typing import Any

from ..utils.compare import is_better
from ..utils.run_dir import BEST, LAST
from .checkpoint import serialize, write_atomic


class CheckpointManager:
    """Decides which files to write at the end of an epoch{% if cookiecutter.profile == "full" %}. Each policy is independent:{% else %}:{% endif %}

    - ``best.pt``: whenever the monitored metric improves (``save_best``);
{%- if cookiecutter.profile == "full" %}
    - ``epoch=NNN-<monitor>=X.pt``: the ``save_top_k`` best epochs by the monitor;
    - ``last.pt``: every epoch (``save_last``), and mid-epoch every ``every_n_steps``;
    - ``epoch=NNN.pt``: every ``every_n_epochs`` epochs, kept.
{%- else %}
    - ``last.pt``: every epoch (``save_last``), and mid-epoch every ``every_n_steps``.
{%- endif %}
    """

    def __init__(
        self,
        directory: Path | str,
        monitor: str = "val_loss",
        mode: str = "min",
        save_best: bool = True,
{%- if cookiecutter.profile == "full" %}
        save_top_k: int = 1,
{%- endif %}
        save_last: bool = True,
{%- if cookiecutter.profile == "full" %}
        every_n_epochs: int = 0,
{%- endif %}
    ) -> None:
        self.directory = Path(directory)
        self.monitor, self.mode = monitor, mode
{%- if cookiecutter.profile == "full" %}
        self.save_best, self.save_top_k = save_best, save_top_k
        self.save_last, self.every_n_epochs = save_last, every_n_epochs
{%- else %}
        self.save_best, self.save_last = save_best, save_last
{%- endif %}
        self.best_score: float | None = None
{%- if cookiecutter.profile == "full" %}
        self.top_k: list[tuple[float, str]] = []  # (score, file name), best first
{%- endif %}

    @property
    def last_path(self) -> Path:
        return self.directory / LAST

    @property
    def best_path(self) -> Path:
        return self.directory / BEST

    def is_better(self, score: float, reference: float | None) -> bool:
        return is_better(score, reference, self.mode)
{%- if cookiecutter.profile == "full" %}

    def plan(self, epoch: int, metrics: dict[str, float]) -> tuple[list[Path], list[Path]]:
        """Update the bookkeeping for this epoch; return (files to write, files to delete).

        Call it before building the checkpoint so the saved state already includes
        this epoch's decision; write the files, then delete the evicted ones.
        """
{%- else %}

    def plan(self, epoch: int, metrics: dict[str, float]) -> list[Path]:
        """Update the best score with this epoch's; return the files to write.

        Call it before building the checkpoint so the saved state already includes
        this epoch's decision.
        """
{%- endif %}
        writes: list[Path] = []
        score = metrics.get(self.monitor)
        if score is None:
            raise KeyError(f"checkpoint monitor {self.monitor!r} not in metrics {sorted(metrics)}")
        if self.save_best and self.is_better(score, self.best_score):
            writes.append(self.best_path)
        if self.is_better(score, self.best_score):
            self.best_score = score
{%- if cookiecutter.profile == "full" %}
        evicted = self._update_top_k(epoch, score, writes)
        if self.every_n_epochs and epoch % self.every_n_epochs == 0:
            writes.append(self.directory / f"epoch={epoch:03d}.pt")
{%- endif %}
        if self.save_last:
            writes.append(self.last_path)
{%- if cookiecutter.profile == "full" %}
        return writes, evicted

    def _update_top_k(self, epoch: int, score: float, writes: list[Path]) -> list[Path]:
        if self.save_top_k == 0 or math.isnan(score):
            return []
        name = f"epoch={epoch:03d}-{self.monitor}={score:.4f}.pt"
        candidates = [*self.top_k, (score, name)]
        candidates.sort(key=lambda item: item[0], reverse=self.mode == "max")
        keep = candidates if self.save_top_k < 0 else candidates[: self.save_top_k]
        evicted = [self.directory / n for s, n in candidates if (s, n) not in keep]
        if (score, name) in keep:
            writes.append(self.directory / name)
        self.top_k = keep
        return [path for path in evicted if path.name != name]

    def write(self, state: dict[str, Any], writes: list[Path], evicted: list[Path]) -> None:
{%- else %}
        return writes

    def write(self, state: dict[str, Any], writes: list[Path]) -> None:
{%- endif %}
        data = serialize(state) if writes else b""  # serialize once, write to every file
        for path in writes:
            write_atomic(data, path)
{%- if cookiecutter.profile == "full" %}
        for path in evicted:  # only after the new files are safely on disk
            path.unlink(missing_ok=True)

    def remove_stale(self, resumed: bool) -> list[Path]:
        """Delete what a killed run leaves behind: temporary files of an unfinished write
        and, when resuming, top-k files the restored bookkeeping no longer lists (written
        after the checkpoint we resume from, or evicted but not yet deleted)."""
        stale = list(self.directory.glob(".*.pt.*.tmp"))
        if resumed:
            kept = {name for _, name in self.top_k}
            pattern = f"epoch=[0-9][0-9][0-9]*-{self.monitor}=*.pt"
            stale += [p for p in self.directory.glob(pattern) if p.name not in kept]
{%- else %}

    def remove_stale(self) -> list[Path]:
        """Delete the temporary files of a write a killed run left unfinished."""
        stale = list(self.directory.glob(".*.pt.*.tmp"))
{%- endif %}
        for path in stale:
            path.unlink(missing_ok=True)
        return stale

    def state_dict(self) -> dict[str, Any]:
{%- if cookiecutter.profile == "full" %}
        return {"best_score": self.best_score, "top_k": [list(item) for item in self.top_k]}
{%- else %}
        return {"best_score": self.best_score}
{%- endif %}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_score = state["best_score"]
{%- if cookiecutter.profile == "full" %}
        # A checkpoint with no top-k list (one from profile=minimal) starts an empty one.
        self.top_k = [(float(score), str(name)) for score, name in state.get("top_k", [])]
{%- endif %}
