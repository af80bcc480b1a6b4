"""TensorBoard: scalars, the config and the figures (the test confusion matrix)."""

from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from ..config import flatten
from ..config.metric_spec import metric_labels
from ..utils.run_dir import RunFiles
from .base import LOGGERS, BaseLogger, RunInfo, panel_name
from .drawing import figure_pixels


def hparam_value(value: Any) -> Any:
    """Lists and None as text: the types the HPARAMS tab accepts."""
    return value if isinstance(value, bool | int | float | str) else str(value)


@LOGGERS.register("tensorboard")
class TensorBoardLogger(BaseLogger):
    """Writes event files under ``<run_dir>/tensorboard`` (``tensorboard --logdir runs``)."""

    def __init__(self, log_dir: Path | str, purge_step: int | None = None) -> None:
        from torch.utils.tensorboard import SummaryWriter  # deferred: slow import

        self.log_dir = Path(log_dir)
        # purge_step drops events a crashed run wrote after the checkpoint we resume from.
        self.writer = SummaryWriter(log_dir=str(self.log_dir), purge_step=purge_step)

    @classmethod
    def from_run(cls, config, run: RunInfo) -> "TensorBoardLogger":
        return cls(
            RunFiles(run.run_dir).tensorboard,
            # Steps <= the checkpoint's were logged before it was saved: keep them.
            purge_step=None if run.resume_step is None else run.resume_step + 1,
        )

    def log_hyperparams(self, params: dict[str, Any]) -> None:
        """The config as text (TEXT tab) and as hyperparameters beside the validation
        metrics (HPARAMS tab), written into this run rather than a new sub-run."""
        from torch.utils.tensorboard.summary import hparams

        config_yaml = OmegaConf.to_yaml(params)
        self.writer.add_text("config", "    " + config_yaml.replace("\n", "\n    "), 0)
        metric_names = ["loss", *metric_labels(params.get("metrics", []))]
        experiment, session_start, _ = hparams(
            flatten(params, leaf=hparam_value), {f"val/{name}": None for name in metric_names}
        )
        self.writer.file_writer.add_summary(experiment)
        self.writer.file_writer.add_summary(session_start)

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        for name, value in metrics.items():
            self.writer.add_scalar(name, value, step)

    def log_epoch(self, epoch: int, metrics: dict[str, float], step: int) -> None:
        # x = global step (the ``epoch`` scalar maps it back): a resumed run's purge_step
        # then also drops epoch points a killed run logged after its last checkpoint.
        for name, value in metrics.items():
            if name != "epoch_time":
                self.writer.add_scalar(panel_name(name), value, step)
        self.writer.flush()

    def log_figure(self, tag: str, figure, step: int) -> None:
        # The pixels the PNG was written from (add_figure would draw the figure again).
        self.writer.add_image(tag, figure_pixels(figure), step, dataformats="HWC")

    def log_baselines(self, scores: dict[str, dict[str, float]]) -> None:
        """Scalars ``baseline/<baseline>_<metric>`` (one point, step 0) and a table in
        the TEXT tab, to read the model's curves against."""
        names = sorted({name for values in scores.values() for name in values})
        table = ["| metric | " + " | ".join(scores) + " |", "|---" * (len(scores) + 1) + "|"]
        for name in names:
            cells = [f"{values[name]:.4f}" if name in values else "" for values in scores.values()]
            table.append(f"| {name} | " + " | ".join(cells) + " |")
        self.writer.add_text("baselines", "\n".join(table), 0)
        for kind, values in scores.items():
            for name, value in values.items():
                self.writer.add_scalar(f"baseline/{kind}_{name}", value, 0)
        self.writer.flush()

    def finalize(self) -> None:
        self.writer.flush()
        self.writer.close()
