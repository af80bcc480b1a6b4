"""``fit``: one training run from a config, as train.py runs it: check the inputs, build
data and model, claim the run directory, train, test the best checkpoint, write the
results."""

import logging
from collections.abc import Callable

from ..config import save_config
from ..data import build_datamodule
from ..data.summary import describe_splits, small_test_warning, small_validation_warning
from ..logger import build_loggers, setup_logging
from ..logger.confusion import confusion_figure
from ..model import build_model, check_metrics
from ..model.transfer import frozen_random_warning
from ..trainer import ClassificationTrainer, evaluate_test_split
from ..trainer.strategy import build_strategy
from ..utils.run_dir import RunFiles
from .claim import RunDirClaim
from .first_look import first_look
from .results import report, write_test_results
from .resume import AUTO, check_inputs, check_resume

log = logging.getLogger("train")

# Read-only checks that added parts run once the data, the model and the checkpoint to
# resume from are known, before the run directory is claimed:
# ``check(config, strategy, resumed)``.
START_CHECKS: list[Callable[..., None]] = []


def fit(config, checkpoint: dict | None = None, callbacks=()) -> dict[str, float]:
    """Train and test; the test metrics. ``checkpoint``: the ``resume=`` file, if the
    caller already read it; ``callbacks`` join the trainer's."""
    strategy = build_strategy(config.trainer)  # where the model trains
    strategy.seed(config.seed, config.trainer.deterministic)
    # Everything that can reject the inputs runs first, and writes nothing.
    check_inputs(config)
    datamodule = build_datamodule(config.data, seed=config.seed, sampler=strategy.sampler)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    check_metrics(config.metrics, datamodule.num_classes)  # e.g. top_k above the classes
    resumed = check_resume(config, model, checkpoint)
    for check in START_CHECKS:
        check(config, strategy, resumed)
    with RunDirClaim(config, strategy) as claim:
        trainer = ClassificationTrainer(
            model, datamodule, config, claim.run_dir, callbacks=list(callbacks), strategy=strategy
        )
        claim.start()
        return train_and_test(config, trainer, model, resumed)


def train_and_test(config, trainer, model, resumed: dict | None) -> dict[str, float]:
    files, is_main = RunFiles(config.output_dir), trainer.strategy.is_main
    files.checkpoints.mkdir(parents=True, exist_ok=True)
    setup_logging(files.root)  # stdout and train.log
    if is_main:
        save_config(config, files.config)
    state = resumed["trainer"] if resumed else None
    # A new run by resume=auto may follow one that stopped before its first checkpoint:
    # TensorBoard drops that one's events (from step 1 on).
    fresh_step = 0 if config.resume == AUTO else None
    trainer.loggers = build_loggers(
        config,
        files.root,
        resume_epoch=state["epoch"] if state else None,
        resume_step=state["global_step"] if state else fresh_step,
    )
    log.info("run directory: %s", files.root.resolve())
    log.info("model: %s", model.summary())
    log_data_summary(trainer.datamodule, config)
    if frozen_random := frozen_random_warning(config.model):
        log.warning("%s", frozen_random)
    try:
        baselines = first_look(trainer, files)  # the baselines, augmentations.png
        trainer.fit(resume_from=resumed)
        test_metrics = evaluate_best(trainer, files, baselines)
    finally:
        trainer.loggers.finalize()
    if is_main:
        report(files.root, test_metrics, baselines, config)
    return test_metrics


def log_data_summary(datamodule, config) -> None:
    """Split sizes and samples per class; a warning when validation is too small to
    monitor, or the test split too small to tell much."""
    for line in describe_splits(datamodule):
        log.info("%s", line)
    for warning in (small_validation_warning, small_test_warning):
        if text := warning(datamodule, config):
            log.warning("%s", text)


def evaluate_best(trainer: ClassificationTrainer, files: RunFiles, baselines=None):
    """Test-set metrics of the best checkpoint (the last weights if none was saved),
    written with the baselines' beside them."""
    trainer.strategy.load_best_weights(trainer, files.best)
    loader, classes = trainer.datamodule.test_dataloader(), list(trainer.datamodule.classes)
    with trainer.strategy.eval_context(trainer.model):
        metrics, matrix = test_split(trainer, loader, classes)
    if trainer.strategy.is_main:
        figure = confusion_figure(matrix, classes)
        write_test_results(metrics, figure, files.test_metrics, baselines=baselines)
        trainer.loggers.log_figure("test/confusion_matrix", figure, trainer.state.global_step)
    return metrics


def test_split(trainer: ClassificationTrainer, loader, classes: list[str]):
    """(metrics, confusion matrix) of the test split."""
    return evaluate_test_split(
        trainer.strategy.eval_model(trainer.model),
        loader,
        trainer.config,
        classes,
        trainer.device,
        trainer.precision.autocast,
        (trainer.transfer_batch_to_device, trainer.get_batch_size),  # as training moved them
        trainer.strategy.reduce,
    )
