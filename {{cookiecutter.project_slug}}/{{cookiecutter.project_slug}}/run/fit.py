"""``fit``: one training run from a config, as train.py{% if cookiecutter.profile == "full" %}, cv.py and sweep.py{% endif %} run it:
check the inputs, build data and model, claim the run directory, train, test the best
checkpoint, write the results."""

import logging

from ..config import save_config
from ..data import build_datamodule
from ..data.summary import describe_splits, small_test_warning, small_validation_warning
from ..logger import build_loggers, {% if cookiecutter.profile == "full" %}check_loggers, {% endif %}setup_logging
from ..logger.confusion import confusion_figure
from ..model import build_model, check_metrics
from ..model.transfer import frozen_random_warning
{%- if cookiecutter.profile != "full" %}
from ..saver import load_checkpoint
{%- endif %}
from ..trainer import ClassificationTrainer, evaluate_test_split
{%- if cookiecutter.profile == "full" %}
from ..trainer.fsdp import load_best_weights
from ..utils import init_distributed, seed_everything
{%- else %}
from ..utils import seed_everything
{%- endif %}
from ..utils.run_dir import RunFiles
from .claim import RunDirClaim
from .first_look import first_look
from .results import report, write_test_results
from .resume import AUTO, {% if cookiecutter.profile == "full" %}agree_on_resume, {% endif %}check_inputs, check_resume
{%- if cookiecutter.profile == "full" %}
from .same_config import agree_on_config
{%- endif %}

log = logging.getLogger("train")
{%- if cookiecutter.profile == "full" %}


def fit(config, checkpoint: dict | None = None, callbacks=()) -> dict[str, float]:
    """Train and test; the test metrics. ``checkpoint``: the ``resume=`` file, if the
    caller already read it; ``callbacks`` join the trainer's (a search's pruner, for one)."""
{%- else %}


def fit(config, checkpoint: dict | None = None) -> dict[str, float]:
    """Train and test; the test metrics. ``checkpoint``: the ``resume=`` file, if the
    caller already read it."""
{%- endif %}
{%- if cookiecutter.profile == "full" %}
    info = init_distributed(config.trainer.device)
    agree_on_config(config)  # each node's own command line: the same settings, or none trains
    seed_everything(config.seed + info.rank, config.trainer.deterministic)
    # Everything that can reject the inputs runs first, and writes nothing.
    check_inputs(config)
    if info.is_main:  # a tracking store that cannot log this run: before the run dir
        check_loggers(config, resuming=config.resume not in (None, AUTO))
    from ..data.sharded import sampler_for  # until fit builds the strategy first

    datamodule = build_datamodule(config.data, seed=config.seed, sampler=sampler_for(info))
{%- else %}
    seed_everything(config.seed, config.trainer.deterministic)
    # Everything that can reject the inputs runs first, and writes nothing.
    check_inputs(config)
    datamodule = build_datamodule(config.data, seed=config.seed)
{%- endif %}
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    check_metrics(config.metrics, datamodule.num_classes)  # e.g. top_k above the classes
    resumed = check_resume(config, model, checkpoint)
{%- if cookiecutter.profile == "full" %}
    agree_on_resume(config, resumed)
{%- endif %}
{%- if cookiecutter.profile == "full" %}
    with RunDirClaim(config, info) as claim:
        trainer = ClassificationTrainer(
            model, datamodule, config, claim.run_dir, callbacks=list(callbacks)
        )
{%- else %}
    with RunDirClaim(config) as claim:
        trainer = ClassificationTrainer(model, datamodule, config, claim.run_dir)
{%- endif %}
        claim.start()
        return train_and_test(config, trainer, model, resumed)


def train_and_test(config, trainer, model, resumed: dict | None) -> dict[str, float]:
{%- if cookiecutter.profile == "full" %}
    info, files = trainer.strategy.dist, RunFiles(config.output_dir)
    files.checkpoints.mkdir(parents=True, exist_ok=True)
    setup_logging(files.root, info.is_main)
    if info.is_main:
        save_config(config, files.config)
{%- else %}
    files = RunFiles(config.output_dir)
    files.checkpoints.mkdir(parents=True, exist_ok=True)
    setup_logging(files.root)
    save_config(config, files.config)
{%- endif %}
    state = resumed["trainer"] if resumed else None
    # A new run by resume=auto may follow one that stopped before its first checkpoint:
    # TensorBoard drops that one's events (from step 1 on).
    fresh_step = 0 if config.resume == AUTO else None
    trainer.loggers = build_loggers(
        config,
        files.root,
{%- if cookiecutter.profile == "full" %}
        info.is_main,
{%- endif %}
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
{%- if cookiecutter.profile == "full" %}
    if info.is_main:
        report(files.root, test_metrics, baselines, config)
{%- else %}
    report(files.root, test_metrics, baselines, config)
{%- endif %}
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
{%- if cookiecutter.profile == "full" %}
    load_best_weights(trainer, files.best)  # best.dcp under trainer.strategy=fsdp
{%- else %}
    if files.best.exists():
        trainer.module.load_state_dict(load_checkpoint(files.best, trainer.device)["model"])
{%- endif %}
    loader, classes = trainer.datamodule.test_dataloader(), list(trainer.datamodule.classes)
    with trainer.strategy.eval_context(trainer.model):
        metrics, matrix = test_split(trainer, loader, classes)
{%- if cookiecutter.profile == "full" %}
    if trainer.strategy.is_main:
        figure = confusion_figure(matrix, classes)
        write_test_results(metrics, figure, files.test_metrics, baselines=baselines)
        trainer.loggers.log_figure("test/confusion_matrix", figure, trainer.state.global_step)
{%- else %}
    figure = confusion_figure(matrix, classes)
    write_test_results(metrics, figure, files.test_metrics, baselines=baselines)
    trainer.loggers.log_figure("test/confusion_matrix", figure, trainer.state.global_step)
{%- endif %}
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
