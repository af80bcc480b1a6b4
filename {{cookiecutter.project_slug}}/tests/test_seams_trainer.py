"""The loop's two seams: a strategy (where the model trains) and a precision (the number
format) passed to the trainer are the ones its loop, its evaluation and its checkpoints
call, with ``loss.backward()`` and ``optimizer.step()`` left in the loop itself."""

import logging

import pytest
import torch
from torch import nn

from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.model import build_model
from {{cookiecutter.project_slug}}.trainer import ClassificationTrainer
from {{cookiecutter.project_slug}}.trainer.strategy import STRATEGIES, build_strategy
from {{cookiecutter.project_slug}}.utils import MetricTracker
from {{cookiecutter.project_slug}}.utils.precision import Float32Precision

from .conftest import run_script

BASE = [
    "model.name=mlp",
    "trainer.device=cpu",
    "lr_scheduler.name=none",
    "trainer.early_stopping.enabled=false",
    "trainer.epochs=1",
    "trainer.limit_train_batches=3",
    "trainer.limit_val_batches=2",
]


def make_parts(config):
    """A strategy of the configured kind and an fp32 precision, both recording their calls."""
    calls: list[str] = []

    class RecordingStrategy(type(build_strategy(config.trainer))):
        def forward_context(self, model: nn.Module, update: bool):
            calls.append("forward")
            return super().forward_context(model, update)

        def eval_context(self, model: nn.Module):
            calls.append("eval")
            return super().eval_context(model)

        def model_and_optimizer_state(self, trainer):
            calls.append("save")
            return super().model_and_optimizer_state(trainer)

    class SkippingPrecision(Float32Precision):
        """Finds every step's gradients overflowed (as a loss scaler can): no step."""

        def scale(self, loss: torch.Tensor) -> torch.Tensor:
            calls.append("scale")
            return loss

        def gradients_finite(self, optimizer) -> bool:
            return False

        def update(self) -> None:
            calls.append("update")

    return RecordingStrategy(config.trainer), SkippingPrecision(), calls


def test_parts_passed_in_are_the_ones_the_loop_calls(tmp_path, config_factory):
    config = config_factory(*BASE)
    datamodule = build_datamodule(config.data, seed=config.seed)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    before = [p.detach().clone() for p in model.parameters()]
    strategy, precision, calls = make_parts(config)
    trainer = ClassificationTrainer(
        model, datamodule, config, tmp_path, strategy=strategy, precision=precision
    )
    assert trainer.strategy is strategy and trainer.precision is precision
    trainer.fit()

    # Three batches: each forward in the strategy's context, each loss scaled by the
    # precision, each step skipped by it (and counted), one evaluation pass.
    assert calls.count("forward") == calls.count("scale") == calls.count("update") == 3
    assert calls.count("eval") >= 1
    assert trainer.state.global_step == 3
    after = list(trainer.module.parameters())
    assert all(torch.equal(a, b.to(a.device)) for a, b in zip(after, before, strict=True))
    # The checkpoint's model and optimizer come from the strategy.
    saves = calls.count("save")
    state = trainer.state_dict()
    assert calls.count("save") == saves + 1
    assert set(state["model"]) == set(trainer.module.state_dict())
    assert "grad_scaler" in state


def test_epoch_averages_are_the_strategys_reduced_sums(tmp_path, config_factory):
    """The strategy's ``reduce`` is where a tracker's sums meet those of other processes:
    one that adds a stand-in process, which saw as many samples with loss 0, halves the
    epoch's train and validation loss."""
    config = config_factory(*BASE)
    datamodule = build_datamodule(config.data, seed=config.seed)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    own: list[float] = []

    class TwinStrategy(type(build_strategy(config.trainer))):
        def reduce(self, tracker: MetricTracker) -> MetricTracker:
            tracker = super().reduce(tracker)
            own.append(tracker.compute()["loss"])
            with_twin = MetricTracker()
            with_twin.sums, with_twin.count = dict(tracker.sums), 2 * tracker.count
            return with_twin

    trainer = ClassificationTrainer(
        model, datamodule, config, tmp_path, strategy=TwinStrategy(config.trainer)
    )
    trainer.fit()
    metrics = trainer.last_metrics
    assert len(own) == 2  # the epoch's training and its validation
    assert sorted([metrics["train_loss"], metrics["val_loss"]]) == sorted(x / 2 for x in own)


def make_trainer(config, run_dir) -> ClassificationTrainer:
    torch.manual_seed(config.seed)
    datamodule = build_datamodule(config.data, seed=config.seed)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    return ClassificationTrainer(model, datamodule, config, run_dir)


def test_a_checkpoint_with_parts_missing_or_extra_resumes(tmp_path, config_factory, caplog):
    """As the other profile writes them: with no loss-scale part (``grad_scaler``) and
    no top-k checkpoint list, or with a mixed-precision loss scale and every process's
    random state. A missing part starts fresh; an unused one is said to go unused."""
    config = config_factory(*BASE)
    first = make_trainer(config, tmp_path / "first")
    first.fit()
    state = first.state_dict()
    missing = {key: value for key, value in state.items() if key != "grad_scaler"}
    # The checkpoint policy's state with its best score only (no top-k files).
    best = state["callbacks"]["checkpoints"]["best_score"]
    missing["callbacks"] = state["callbacks"] | {"checkpoints": {"best_score": best}}
    scale = {"scale": 1024.0, "growth_factor": 2.0, "backoff_factor": 0.5}
    scale |= {"growth_interval": 2000, "_growth_tracker": 0}
    extra = state | {"grad_scaler": scale, "rng_per_rank": [state["rng"]]}
    caplog.set_level(logging.INFO)
    for name, saved in {"missing": missing, "extra": extra}.items():
        caplog.clear()
        trainer = make_trainer(config_factory(*BASE, "trainer.epochs=2"), tmp_path / name)
        trainer.fit(resume_from=saved)
        assert trainer.state.epoch == 2 and trainer.state.global_step == 6
        if name == "extra":
            assert "loss scale is not used" in caplog.text


def test_torchrun_is_refused_when_no_strategy_trains_over_processes(tmp_path, fast_args):
    """Each process torchrun starts would otherwise train the same run on its own."""
    if any(strategy.multi_process for strategy in STRATEGIES.values()):
        pytest.skip("this project trains under torchrun (tests/test_distributed.py)")
    torchrun = {"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0"}  # as it sets them
    result = run_script("train.py", *fast_args, env=torchrun)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: launched by torchrun (WORLD_SIZE=2)") and "full profile" in line
    assert not (tmp_path / "run").exists()  # nothing written
