"""TensorBoard: scalars{% if cookiecutter.profile == "full" %}, the model graph, weight/gradient histograms, prediction grids{% else %}, the config and the test confusion matrix{% endif %}."""
{% if cookiecutter.profile == "full" %}
import logging
import warnings
{%- endif %}
from pathlib import Path
from typing import Any
{% if cookiecutter.profile == "full" %}
import torch
{%- endif %}
from omegaconf import OmegaConf

from ..config import flatten
from ..config.metric_spec import metric_labels
from ..utils.run_dir import RunFiles
from .base import LOGGERS, BaseLogger, RunInfo, panel_name
from .drawing import figure_pixels
{%- if cookiecutter.profile == "full" %}

log = logging.getLogger(__name__)
{%- endif %}


def hparam_value(value: Any) -> Any:
    """Lists and None as text: the types the HPARAMS tab accepts."""
    return value if isinstance(value, bool | int | float | str) else str(value)


@LOGGERS.register("tensorboard")
class TensorBoardLogger(BaseLogger):
    """Writes event files under ``<run_dir>/tensorboard`` (``tensorboard --logdir runs``)."""
{%- if cookiecutter.profile == "full" %}

    wants_predictions = True

    def __init__(
        self,
        log_dir: Path | str,
        purge_step: int | None = None,
        log_graph: bool = True,
    ) -> None:
{%- else %}

    def __init__(self, log_dir: Path | str, purge_step: int | None = None) -> None:
{%- endif %}
        from torch.utils.tensorboard import SummaryWriter  # deferred: slow import

        self.log_dir = Path(log_dir)
        # purge_step drops events a crashed run wrote after the checkpoint we resume from.
        self.writer = SummaryWriter(log_dir=str(self.log_dir), purge_step=purge_step)
{%- if cookiecutter.profile == "full" %}
        self.log_graph = log_graph
{%- endif %}

    @classmethod
    def from_run(cls, config, run: RunInfo) -> "TensorBoardLogger":
        return cls(
            RunFiles(run.run_dir).tensorboard,
            # Steps <= the checkpoint's were logged before it was saved: keep them.
            purge_step=None if run.resume_step is None else run.resume_step + 1,
{%- if cookiecutter.profile == "full" %}
            log_graph=config.logger.log_graph,
{%- endif %}
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
{%- if cookiecutter.profile == "full" %}

    def log_model(self, model: torch.nn.Module, example_input: torch.Tensor) -> None:
        if not self.log_graph:
            return
        try:
            with warnings.catch_warnings():  # add_graph traces with torch.jit, now deprecated
                warnings.simplefilter("ignore", FutureWarning)
                self.writer.add_graph(model, example_input)
        except Exception as error:  # tracing fails on some models; the run must not
            log.warning("could not draw the model graph in TensorBoard: %s", error)

    def log_histograms(self, model: torch.nn.Module, epoch: int) -> None:
        for name, parameter in model.named_parameters():
            self.writer.add_histogram(f"weights/{name}", parameter.detach().float().cpu(), epoch)
            if parameter.grad is not None:
                self.writer.add_histogram(f"gradients/{name}", parameter.grad.float().cpu(), epoch)

    def log_predictions(self, images, predictions, targets, classes: list[str], epoch: int) -> None:
        from .figures import prediction_grid

        grid = prediction_grid(images, predictions, targets, classes)
        self.writer.add_image("val/predictions", grid, epoch, dataformats="HWC")
{%- endif %}

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
