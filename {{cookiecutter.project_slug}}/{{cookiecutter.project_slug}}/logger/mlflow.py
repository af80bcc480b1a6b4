"""MLflow: the config as params, per-step and per-epoch metrics, the prediction grids,
and at the end curves.png and the best checkpoint as artifacts.

The tracking store is ``logger.mlflow_tracking_uri``, else ``MLFLOW_TRACKING_URI``,
else an SQLite file in the project (``mlflow.db``, artifacts in ``mlartifacts/``):
``mlflow ui --backend-store-uri sqlite:///mlflow.db`` shows the runs. A resumed
training continues the same MLflow run.
"""

import logging
import os
import time
from pathlib import Path
from typing import Any

from ..config import flatten
from ..utils.errors import ConfigError, DataError, first_line
from ..utils.run_dir import RunFiles
from .base import LOGGERS, RunInfo, panel_name
from .drawing import figure_pixels
from .tracker_hooks import TrackerHooks

log = logging.getLogger(__name__)

RUN_ID_FILE = "mlflow_run_id.txt"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def tracking_uri(configured: str | None) -> str:
    if configured:
        return configured
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{PROJECT_ROOT / 'mlflow.db'}"


@LOGGERS.register("mlflow")
class MLflowLogger(TrackerHooks):
    """One MLflow run per training run, named after the run directory."""

    wants_predictions = True

    def __init__(self, run_dir: Path | str, experiment: str, uri: str, resume: bool) -> None:
        from mlflow.tracking import MlflowClient  # deferred: only MLflow runs import it

        self.run_dir = Path(run_dir)
        self.client = MlflowClient(tracking_uri=uri)
        id_file = self.run_dir / RUN_ID_FILE
        if resume and id_file.exists():
            self.run_id = id_file.read_text().strip()
            self.client.update_run(self.run_id, status="RUNNING")
        else:
            self.run_id = self.client.create_run(
                self._experiment_id(experiment, uri), run_name=self.run_dir.name
            ).info.run_id
            id_file.write_text(self.run_id)
        log.info("MLflow run %s in %s", self.run_id, uri)

    @classmethod
    def check(cls, config, run_dir: Path | None, resuming: bool) -> None:
        """The tracking store opens, and a resumed run's MLflow run is still in it.
        HTTP servers are not probed (MLflow retries an absent server for minutes)."""
        from mlflow.tracking import MlflowClient

        uri = tracking_uri(config.logger.mlflow_tracking_uri)
        if uri.startswith(("http://", "https://", "databricks")):
            return
        try:
            client = MlflowClient(tracking_uri=uri)
            client.search_experiments(max_results=1)
        except Exception as error:  # noqa: BLE001 - any store that cannot be opened
            raise ConfigError(
                f"logger.mlflow_tracking_uri={uri} cannot be used ({first_line(error)}); give "
                "sqlite:///<writable path>.db or an http(s):// server"
            ) from None
        id_file = run_dir / RUN_ID_FILE if run_dir is not None else None
        if not resuming or id_file is None or not id_file.is_file():
            return
        run_id = id_file.read_text().strip()
        try:
            client.get_run(run_id)
        except Exception:  # noqa: BLE001 - MlflowException: the run is not in this store
            raise DataError(
                f"{id_file} names MLflow run {run_id}, which the tracking store {uri} does not "
                "hold (mlflow.db deleted or another store?): give the store it was logged to "
                f"with logger.mlflow_tracking_uri=, or delete {id_file} to continue in a new "
                "MLflow run"
            ) from None

    @classmethod
    def from_run(cls, config, run: RunInfo) -> "MLflowLogger":
        uri = tracking_uri(config.logger.mlflow_tracking_uri)
        return cls(run.run_dir, config.logger.mlflow_experiment, uri, run.resume_epoch is not None)

    def _experiment_id(self, name: str, uri: str) -> str:
        experiment = self.client.get_experiment_by_name(name)
        if experiment is not None:
            return experiment.experiment_id
        # The default SQLite store keeps artifacts next to it, not in the working directory.
        location = (PROJECT_ROOT / "mlartifacts").as_uri() if uri.startswith("sqlite:") else None
        return self.client.create_experiment(name, artifact_location=location)

    def log_hyperparams(self, params: dict[str, Any]) -> None:
        from mlflow.entities import Param

        flat = flatten(params, leaf=str)  # MLflow params are text
        self.client.log_batch(self.run_id, params=[Param(k, v) for k, v in flat.items()])

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        batch = [Metric(name, float(value), now, step) for name, value in metrics.items()]
        self.client.log_batch(self.run_id, metrics=batch)

    def log_epoch(self, epoch: int, metrics: dict[str, float], step: int) -> None:
        # x = global step, as in TensorBoard; the ``epoch`` metric maps it back.
        self.log_metrics({panel_name(name): value for name, value in metrics.items()}, step)

    def log_predictions(self, images, predictions, targets, classes: list[str], epoch: int) -> None:
        from .figures import prediction_grid

        grid = prediction_grid(images, predictions, targets, classes)
        self.client.log_image(self.run_id, grid, f"predictions/epoch_{epoch:03d}.png")

    def log_figure(self, tag: str, figure, step: int) -> None:
        # The pixels the PNG was written from (log_figure would draw the figure again).
        self.client.log_image(self.run_id, figure_pixels(figure), f"{tag}.png")

    def finalize(self) -> None:
        files = RunFiles(self.run_dir)
        for path in (files.curves, files.best):
            if path.is_file():
                folder = path.parent.relative_to(files.root).as_posix()  # "." or "checkpoints"
                self.client.log_artifact(self.run_id, str(path), None if folder == "." else folder)
        self.client.set_terminated(self.run_id)
