"""Training controls: gradient accumulation and clipping,{% if cookiecutter.profile == "full" %} mixed precision, compile,{% endif %} LR
schedulers, batch-size-weighted epoch metrics, debug modes and determinism.

Most tests train in-process through the Python API (config -> data module -> model ->
ClassificationTrainer) on a few batches; the CLI is used where its behaviour is the point.
"""

import copy
import io
{%- if cookiecutter.profile == "full" %}
import math
{%- endif %}
import signal

import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import Dataset, default_collate

from {{cookiecutter.project_slug}}.config import ConfigError
from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.logger import (
    BaseLogger,
    CSVLogger,
    LoggerCollection,
    read_metrics,
)
from {{cookiecutter.project_slug}}.model import build_model
from {{cookiecutter.project_slug}}.trainer import (
    Callback,
    ClassificationTrainer,
    TrainingInterrupted,
)
from {{cookiecutter.project_slug}}.trainer.optim import build_optimizer{% if cookiecutter.profile != "full" %}, build_scheduler{% endif %}
{%- if cookiecutter.profile == "full" %}
from {{cookiecutter.project_slug}}.trainer.step_schedulers import build_schedule
{%- endif %}

# In-process runs: CPU, a constant LR unless a test sets a scheduler, no early stopping.
BASE = [
    "model.name=mlp",  # no BatchNorm: the exact comparisons below hold (image_folder: a CNN)
    "trainer.device=cpu",
    "lr_scheduler.name=none",
    "trainer.early_stopping.enabled=false",
]
SCHEDULERS = [{% if cookiecutter.profile == "full" %}"step", "multistep", "exponential", "cosine", "plateau", "onecycle"{% else %}"step", "cosine"{% endif %}]


class Recorder(BaseLogger):
    """Keeps every per-step and per-epoch log call."""

    def __init__(self) -> None:
        self.steps: list[tuple[int, dict[str, float]]] = []
        self.epochs: list[dict[str, float]] = []

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        self.steps.append((step, dict(metrics)))

    def log_epoch(self, epoch: int, metrics: dict[str, float], step: int) -> None:
        self.epochs.append(dict(metrics))


class CountingTrainer(ClassificationTrainer):
    """Records the inputs of every training and validation batch."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.seen: dict[str, list[torch.Tensor]] = {"train": [], "val": []}

    def training_step(self, batch, batch_idx: int):
        self.seen["train"].append(batch[0].detach().clone())
        return super().training_step(batch, batch_idx)

    def validation_step(self, batch, batch_idx: int):
        self.seen["val"].append(batch[0].detach().clone())
        return super().validation_step(batch, batch_idx)


def make_trainer(
    config, run_dir, *loggers: BaseLogger, trainer_class=ClassificationTrainer, callbacks=()
):
    torch.manual_seed(config.seed)
    datamodule = build_datamodule(config.data, seed=config.seed)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    trainer = trainer_class(model, datamodule, config, run_dir, callbacks=callbacks)
    trainer.loggers = LoggerCollection(loggers)
    return trainer


def samples(dataset, start: int, stop: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Items ``start..stop-1`` of a dataset as one batch."""
    return default_collate([dataset[i] for i in range(start, stop)])


def flat_params(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


# ----------------------------------------------------------------------- accumulation
def test_accumulation_equals_one_step_on_the_large_batch(tmp_path, config_factory):
    """5 batches of 8 with accumulate=2: steps on samples 0-15, 16-31 and the short last
    group 32-39, each equal to one plain SGD step on that large batch."""
    config = config_factory(
        *BASE,
        "optimizer.name=sgd",
        "optimizer.momentum=0",
        "optimizer.lr=0.5",
        "model.dropout=0",
        "data.shuffle=false",
        "data.batch_size=8",
        "trainer.accumulate_grad_batches=2",
        "trainer.limit_train_batches=5",
        "trainer.limit_val_batches=1",
        "trainer.epochs=1",
    )
    trainer = make_trainer(config, tmp_path / "run")
    reference = copy.deepcopy(trainer.module)
    trainer.fit()

    assert trainer.state.global_step == 3  # optimizer steps, the short last group included
    train_set = trainer.datamodule.train_set
    for start, stop in ((0, 16), (16, 32), (32, 40)):
        inputs, targets = samples(train_set, start, stop)
        reference.zero_grad()
        F.cross_entropy(reference(inputs), targets).backward()
        with torch.no_grad():
            for param in reference.parameters():
                param -= 0.5 * param.grad
    torch.testing.assert_close(flat_params(trainer.module), flat_params(reference))


# ----------------------------------------------------------------------- clipping
@pytest.mark.parametrize("algorithm", ["norm", "value"])
def test_gradient_clipping_bounds_the_update(tmp_path, config_factory, algorithm):
    """SGD with lr=1 makes the update equal the (clipped) gradient."""
    clip = 0.01
    config = config_factory(
        *BASE,
        "optimizer.name=sgd",
        "optimizer.momentum=0",
        "optimizer.lr=1",
        "data.shuffle=false",
        "trainer.limit_train_batches=1",
        "trainer.limit_val_batches=1",
        "trainer.epochs=1",
        f"trainer.gradient_clip_val={clip}",
        f"trainer.gradient_clip_algorithm={algorithm}",
    )
    trainer = make_trainer(config, tmp_path / "run")
    reference = copy.deepcopy(trainer.module)
    before = flat_params(trainer.module)
    trainer.fit()
    update = before - flat_params(trainer.module)

    inputs, targets = samples(trainer.datamodule.train_set, 0, config.data.batch_size)
    F.cross_entropy(reference(inputs), targets).backward()
    grad = torch.cat([p.grad.flatten() for p in reference.parameters()])
    if algorithm == "norm":
        assert grad.norm() > 10 * clip  # clipping really had to act
        assert update.norm() <= clip * (1 + 1e-4)
        expected = grad * (clip / grad.norm())  # same direction, norm scaled down to clip
    else:
        assert (grad.abs() > 2 * clip).sum() > 10  # clipping really had to act
        assert update.abs().max() <= clip * (1 + 1e-4)
        expected = grad.clamp(-clip, clip)
    torch.testing.assert_close(update, expected, atol=1e-6, rtol=1e-4)


{%- if cookiecutter.profile == "full" %}


# ----------------------------------------------------------------------- precision
def record_linear_dtypes(model: nn.Module) -> dict[str, set]:
    """Output dtypes of every Linear layer, split by train/eval mode."""
    dtypes: dict[str, set] = {"train": set(), "eval": set()}

    def hook(module, inputs, output):
        dtypes["train" if module.training else "eval"].add(output.dtype)

    for module in model.modules():
        if isinstance(module, nn.Linear):
            module.register_forward_hook(hook)
    return dtypes


def test_bf16_autocast_runs_in_bfloat16_and_trains(tmp_path, config_factory):
    config = config_factory(
        *BASE,
        "trainer.precision=bf16",
        "trainer.limit_train_batches=4",
        "trainer.limit_val_batches=1",
        "trainer.epochs=1",
    )
    trainer = make_trainer(config, tmp_path / "run")
    dtypes = record_linear_dtypes(trainer.module)
    before = flat_params(trainer.module)
    metrics = trainer.fit()

    assert dtypes == {"train": {torch.bfloat16}, "eval": {torch.bfloat16}}
    assert all(p.dtype == torch.float32 for p in trainer.module.parameters())  # fp32 weights
    assert not torch.equal(before, flat_params(trainer.module))
    assert math.isfinite(metrics["train_loss"]) and math.isfinite(metrics["val_loss"])
    assert not trainer.precision.scaler.is_enabled()  # bf16 needs no loss scaling


@pytest.mark.filterwarnings("ignore:Unable to enable fault handler")
def test_fp16_on_cpu_is_a_config_error(tmp_path, capsys, fast_args):
    import train

    from .guard_tools import main_error_line

    args = [*fast_args, "trainer.precision=fp16", "trainer.device=cpu"]
    main_error_line(train.main, args, capsys, 2, "trainer.precision=fp16 needs CUDA")
    assert not (tmp_path / "run").exists()  # rejected before anything was written


@pytest.mark.skipif(not torch.cuda.is_available(), reason="fp16 with GradScaler needs CUDA")
def test_fp16_on_cuda_uses_autocast_and_grad_scaler(tmp_path, config_factory):
    config = config_factory(
        *BASE,
        "trainer.device=cuda",
        "trainer.precision=fp16",
        "trainer.gradient_clip_val=1.0",  # exercises unscale_ before clipping
        "trainer.limit_train_batches=4",
        "trainer.limit_val_batches=1",
        "trainer.epochs=1",
    )
    trainer = make_trainer(config, tmp_path / "run")
    dtypes = record_linear_dtypes(trainer.module)
    before = flat_params(trainer.module).cpu()
    metrics = trainer.fit()

    assert dtypes == {"train": {torch.float16}, "eval": {torch.float16}}
    assert trainer.precision.scaler.is_enabled()
    assert not torch.equal(before, flat_params(trainer.module).cpu())
    assert math.isfinite(metrics["train_loss"])
    saved = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    assert saved["grad_scaler"]["scale"] > 0  # the scaler state is checkpointed


# ----------------------------------------------------------------------- compile
@pytest.mark.slow  # compiling takes 30-70 s on a small CPU
def test_compiled_training_saves_plain_weights(tmp_path, config_factory):
    """torch.compile on CPU trains; the checkpoint has no ``_orig_mod.`` prefix and
    evaluate.py loads it into an uncompiled model."""
    config = config_factory(
        *BASE,
        "trainer.compile=true",
        "trainer.limit_train_batches=3",
        "trainer.limit_val_batches=1",
        "trainer.epochs=1",
    )
    trainer = make_trainer(config, tmp_path / "run")
    assert trainer.model is not trainer.module  # the compiled wrapper trains
    before = flat_params(trainer.module)
    trainer.fit()
    assert not torch.equal(before, flat_params(trainer.module))

    best = tmp_path / "run" / "checkpoints" / "best.pt"
    state = torch.load(best, weights_only=True)["model"]
    assert not [key for key in state if "_orig_mod" in key]
    from .conftest import run_script

    result = run_script("evaluate.py", f"checkpoint={best}", "trainer.compile=false")
    assert result.returncode == 0, result.stderr
    assert "test_accuracy:" in result.stdout
{%- endif %}


# ----------------------------------------------------------------------- LR schedulers
def lr_sequence(optimizer, scheduler, steps: int) -> list[float]:
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
{%- if cookiecutter.profile == "full" %}
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(1.0)  # a metric that never improves
        else:
            scheduler.step()
{%- else %}
        scheduler.step()
{%- endif %}
    return lrs
{%- if cookiecutter.profile == "full" %}


@pytest.mark.parametrize("warmup", [0, 2])
@pytest.mark.parametrize("name", SCHEDULERS)
def test_every_scheduler_steps_and_its_state_survives_weights_only(name, warmup, config_factory):
    if warmup and name in ("plateau", "onecycle"):
        with pytest.raises(ConfigError):
            config_factory(f"lr_scheduler.name={name}", f"lr_scheduler.warmup={warmup}")
        return
{%- else %}


@pytest.mark.parametrize("name", SCHEDULERS)
def test_every_scheduler_steps_and_its_state_survives_weights_only(name, config_factory):
{%- endif %}
    config = config_factory(
        f"lr_scheduler.name={name}",
{%- if cookiecutter.profile == "full" %}
        f"lr_scheduler.warmup={warmup}",
{%- endif %}
        "lr_scheduler.step_size=2",
{%- if cookiecutter.profile == "full" %}
        "lr_scheduler.milestones=[2,4]",
{%- endif %}
        "lr_scheduler.gamma=0.5",
{%- if cookiecutter.profile == "full" %}
        "lr_scheduler.patience=1",
{%- endif %}
        "optimizer.lr=0.1",
    )

    def build():
        model = nn.Linear(2, 2)
        optimizer = build_optimizer(model.parameters(), config.optimizer)
{%- if cookiecutter.profile == "full" %}
        return optimizer, build_schedule(optimizer, config.lr_scheduler, 4, 2)
{%- else %}
        return optimizer, build_scheduler(optimizer, config.lr_scheduler, 4)
{%- endif %}

    optimizer, scheduler = build()
    first = lr_sequence(optimizer, scheduler, 3)
    assert len(set(first + [optimizer.param_groups[0]["lr"]])) > 1  # the LR really moves
    buffer = io.BytesIO()
    torch.save({"optimizer": optimizer.state_dict(), "sched": scheduler.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)

    restored_optimizer, restored = build()
    restored_optimizer.load_state_dict(saved["optimizer"])
    restored.load_state_dict(saved["sched"])
    assert lr_sequence(restored_optimizer, restored, 4) == lr_sequence(optimizer, scheduler, 4)
{%- if cookiecutter.profile == "full" %}


def test_plateau_lowers_lr_when_the_monitored_metric_stalls(tmp_path, config_factory):
    """With plain SGD at a tiny LR val_loss cannot improve by the scheduler's threshold
    (1e-4 relative): after `patience` bad epochs the LR drops."""
    config = config_factory(
        *BASE,
        "optimizer.name=sgd",
        "optimizer.momentum=0",
        "optimizer.lr=1e-6",
        "lr_scheduler.name=plateau",
        "lr_scheduler.monitor=val_loss",
        "lr_scheduler.patience=1",
        "lr_scheduler.factor=0.5",
        "trainer.limit_train_batches=2",
        "trainer.limit_val_batches=1",
        "trainer.epochs=4",
    )
    recorder = Recorder()
    make_trainer(config, tmp_path / "run", recorder).fit()
    lrs = [row["lr"] for row in recorder.epochs]
    # epoch 1 sets the best, epochs 2 and 3 are bad (2 > patience): epoch 4 runs at half.
    assert lrs == pytest.approx([1e-6, 1e-6, 1e-6, 5e-7], rel=1e-6)
{%- endif %}


def run_with_schedule(tmp_path, config_factory, *overrides: str):
    """3 optimizer steps per epoch, 2 epochs, every step logged; returns the per-step
    ``train/lr`` values and the metrics.csv ``lr`` column."""
    config = config_factory(
        *BASE,
        "optimizer.name=sgd",
        "optimizer.lr=0.1",
        "trainer.limit_train_batches=3",
        "trainer.limit_val_batches=1",
        "trainer.log_every_n_steps=1",
        "trainer.epochs=2",
        *overrides,
    )
    recorder, run_dir = Recorder(), tmp_path / "run"
    run_dir.mkdir()  # train.py creates it; the CSV logger expects it
    make_trainer(config, run_dir, recorder, CSVLogger(run_dir / "metrics.csv")).fit()
    step_lrs = [metrics["train/lr"] for _, metrics in recorder.steps]
    assert [step for step, _ in recorder.steps] == [1, 2, 3, 4, 5, 6]
    rows, _ = read_metrics(run_dir / "metrics.csv")
    return step_lrs, [float(row["lr"]) for row in rows]


def test_per_epoch_interval_changes_lr_only_at_epoch_ends(tmp_path, config_factory):
    step_lrs, epoch_lrs = run_with_schedule(
        tmp_path,
        config_factory,
{%- if cookiecutter.profile == "full" %}
        "lr_scheduler.name=exponential",
{%- else %}
        "lr_scheduler.name=step",
        "lr_scheduler.step_size=1",
{%- endif %}
        "lr_scheduler.gamma=0.5",
    )
    assert step_lrs == pytest.approx([0.1] * 3 + [0.05] * 3)
    assert epoch_lrs == pytest.approx([0.1, 0.05])  # the LR every step of that epoch used
{%- if cookiecutter.profile == "full" %}


def test_per_step_interval_changes_lr_after_every_step(tmp_path, config_factory):
    step_lrs, epoch_lrs = run_with_schedule(
        tmp_path,
        config_factory,
        "lr_scheduler.name=exponential",
        "lr_scheduler.gamma=0.5",
        "lr_scheduler.interval=step",
    )
    # train/lr at step s is the LR step s used: the first step runs at the base LR.
    assert step_lrs == pytest.approx([0.1 * 0.5**s for s in range(6)])
    assert epoch_lrs == pytest.approx([step_lrs[2], step_lrs[5]])  # the epoch's last step


def test_linear_warmup_reaches_the_base_lr(tmp_path, config_factory):
    step_lrs, _ = run_with_schedule(
        tmp_path,
        config_factory,
        "lr_scheduler.warmup=4",
        "lr_scheduler.warmup_start_factor=0.2",
        "lr_scheduler.interval=step",
    )
    expected = [0.1 * (0.2 + 0.8 * min(s, 4) / 4) for s in range(6)]  # 0.02, 0.04, ... 0.1
    assert step_lrs == pytest.approx(expected)
{%- endif %}


# ----------------------------------------------------------------------- epoch averages
def short_last_batch_size(n: int) -> int:
    """A batch size whose last batch over n samples holds at most a quarter of a batch."""
    return next(b for b in range(16, n) if 0 < n % b <= b // 4)


def test_epoch_metrics_are_weighted_by_batch_size(tmp_path, config_factory):
    probe = build_datamodule(config_factory().data)
    n_train, n_val = len(probe.train_set), len(probe.val_set)
    train_bs, val_bs = short_last_batch_size(n_train), short_last_batch_size(n_val)
    config = config_factory(
        *BASE,
        "optimizer.name=sgd",
        # Weights stay put, so the epoch means can be recomputed: lr=0 is refused by the
        # config, and 1e-300 rounds every float32 update to exactly zero.
        "optimizer.lr=1e-300",
        "optimizer.momentum=0",
        f"data.batch_size={train_bs}",
        f"data.eval_batch_size={val_bs}",
        "data.shuffle=false",
        "trainer.epochs=1",
        "trainer.train_metrics=true",
    )
    trainer = make_trainer(config, tmp_path / "run")
    with torch.no_grad():  # larger weights spread the per-sample losses apart
        for param in trainer.module.parameters():
            param.mul_(5)
    metrics = trainer.fit()
    model = trainer.module.eval()

    for split, dataset, batch_size in (
        ("train", trainer.datamodule.train_set, train_bs),
        ("val", trainer.datamodule.val_set, val_bs),
    ):
        inputs, targets = samples(dataset, 0, len(dataset))
        with torch.no_grad():
            logits = model(inputs)
        losses = F.cross_entropy(logits, targets, reduction="none")
        correct = (logits.argmax(dim=1) == targets).float()
        batch_means = torch.stack([chunk.mean() for chunk in losses.split(batch_size)])
        # The mean of batch means is measurably different, so the check below can fail.
        assert abs(losses.mean() - batch_means.mean()) > 1e-3 * losses.mean()
        assert metrics[f"{split}_loss"] == pytest.approx(losses.mean().item(), rel=1e-5)
        assert metrics[f"{split}_accuracy"] == pytest.approx(correct.mean().item(), rel=1e-5)


# ----------------------------------------------------------------------- debug modes
def test_fast_dev_run_one_batch_each_no_checkpoints(tmp_path, config_factory):
    config = config_factory(*BASE, "trainer.fast_dev_run=true", "trainer.epochs=5")
    run_dir = tmp_path / "run"
    trainer = make_trainer(config, run_dir, trainer_class=CountingTrainer)
    trainer.fit()
    assert len(trainer.seen["train"]) == 1 and len(trainer.seen["val"]) == 1
    assert trainer.state.epoch == 1 and trainer.state.global_step == 1
    assert not list(run_dir.rglob("*.pt"))


def test_overfit_batches_trains_and_validates_on_the_same_batches(tmp_path, config_factory):
    config = config_factory(
        *BASE,
        "trainer.overfit_batches=2",
        "data.batch_size=32",
        "optimizer.lr=0.01",
        "trainer.epochs=30",
        "trainer.train_metrics=true",
    )
    recorder = Recorder()
    trainer = make_trainer(config, tmp_path / "run", recorder, trainer_class=CountingTrainer)
    trainer.fit()
    train, val = trainer.seen["train"], trainer.seen["val"]
    assert len(train) == len(val) == 2 * 30
    first = train[:2]  # unshuffled, although data.shuffle=true
    for seen in (train, val):
        for index, inputs in enumerate(seen):
            assert torch.equal(inputs, first[index % 2])
    assert recorder.epochs[-1]["train_accuracy"] == pytest.approx(1.0)
    assert recorder.epochs[-1]["val_accuracy"] == pytest.approx(1.0)


def test_overfit_validation_after_mid_epoch_resume_sees_all_batches(tmp_path, config_factory):
    """Resuming after the first of 2 overfit batches: validation still covers both."""
    config = config_factory(*BASE, "trainer.overfit_batches=2", "trainer.epochs=1")
    run_dir = tmp_path / "run"
    stopped = make_trainer(config, run_dir, trainer_class=CountingTrainer)
    stopped.stop.signum = signal.SIGTERM  # as if SIGTERM arrived during the first step
    with pytest.raises(TrainingInterrupted):
        stopped.fit()
    assert len(stopped.seen["train"]) == 1

    resumed = make_trainer(config, run_dir, trainer_class=CountingTrainer)
    resumed.fit(resume_from=run_dir / "checkpoints" / "last.pt")
    assert len(resumed.seen["train"]) == 1  # the second batch only
    assert len(resumed.seen["val"]) == 2
    assert torch.equal(resumed.seen["val"][0], stopped.seen["train"][0])
    assert torch.equal(resumed.seen["val"][1], resumed.seen["train"][0])


def test_limit_batches_counts_batches_seen(tmp_path, config_factory):
    config = config_factory(
        *BASE,
        "data.eval_batch_size=16",
        "trainer.limit_train_batches=3",
        "trainer.limit_val_batches=2",
        "trainer.epochs=2",
    )
    trainer = make_trainer(config, tmp_path / "run", trainer_class=CountingTrainer)
    trainer.fit()
    assert len(trainer.seen["train"]) == 6 and len(trainer.seen["val"]) == 4
    assert trainer.state.global_step == 6


def test_train_metrics_are_opt_in_and_a_train_monitor_says_so(config_factory, tmp_path):
    """By default only the training loss is tracked; monitoring train_accuracy then fails
    at construction naming the key that turns training metrics on."""
    monitor = ("trainer.checkpoint.monitor=train_accuracy", "trainer.checkpoint.mode=max")
    with pytest.raises(ConfigError, match=r"train_<metric> needs trainer.train_metrics=true"):
        make_trainer(config_factory(*monitor), tmp_path / "off")
    config = config_factory(*monitor, "trainer.train_metrics=true", "trainer.epochs=1")
    recorder = Recorder()
    make_trainer(config, tmp_path / "on", recorder).fit()
    assert {"train_loss", "train_accuracy", "train_top3_accuracy"} <= set(recorder.epochs[-1])


@pytest.mark.parametrize("key", ["trainer.limit_train_batches", "trainer.limit_val_batches"])
def test_limit_batches_must_be_positive(config_factory, key):
    with pytest.raises(ConfigError, match=key):
        config_factory(f"{key}=0")


# ----------------------------------------------------------------------- determinism
class NoisyDataset(Dataset):
    """Adds fresh noise to every item: the data depends on the DataLoader workers' RNG."""

    def __init__(self, base) -> None:
        self.base, self.classes = base, base.classes

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int):
        inputs, target = self.base[index]
        return inputs + 0.5 * torch.randn_like(inputs), target


class DeterminismProbe(Callback):
    """Notes whether deterministic algorithms are on while the run trains."""

    def on_epoch_end(self, trainer, epoch: int, metrics: dict[str, float]) -> None:
        trainer.deterministic_flags = [torch.are_deterministic_algorithms_enabled()]


def test_deterministic_runs_with_workers_are_identical(tmp_path, config_factory):
    config = config_factory(
        *BASE,
        "trainer.deterministic=true",
        "data.num_workers=2",
        "trainer.limit_train_batches=4",
        "trainer.limit_val_batches=1",
        "trainer.epochs=2",
    )
    assert not torch.are_deterministic_algorithms_enabled()
    weights = []
    try:
        for attempt in range(2):
            run_dir = tmp_path / f"run{attempt}"
            trainer = make_trainer(config, run_dir, callbacks=[DeterminismProbe()])
            trainer.datamodule.train_set = NoisyDataset(trainer.datamodule.train_set)
            trainer.fit()
            assert trainer.deterministic_flags == [True]
            weights.append(flat_params(trainer.module))
    finally:
        torch.use_deterministic_algorithms(False)
    assert torch.equal(weights[0], weights[1])


def test_num_threads_sets_torch_intra_op_threads(tmp_path, config_factory):
    before = torch.get_num_threads()  # the autouse fixture sets 1
    try:
        make_trainer(config_factory(*BASE, "trainer.num_threads=2"), tmp_path / "run")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ConfigError, match="trainer.num_threads"):
        config_factory("trainer.num_threads=0")


def test_num_threads_auto_leaves_busy_cores_alone(tmp_path, config_factory, monkeypatch, caplog):
    """``trainer.num_threads=auto``, the default: a thread per core this process may use,
    less the cores the load average says are busy, shared by torchrun's processes on the
    machine; OMP_NUM_THREADS, when set, is kept. The run's opening line says the count."""
    from {{cookiecutter.project_slug}}.utils import device

    assert config_factory().trainer.num_threads == "auto"
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.setattr(device.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    for load, processes, expected in ((0.3, 1, 2), (1.2, 1, 1), (3.1, 1, 1), (0.0, 2, 1)):
        monkeypatch.setattr(device.os, "getloadavg", lambda load=load: (load, load, load))
        monkeypatch.setenv("LOCAL_WORLD_SIZE", str(processes))
        assert device.cpu_threads("auto")[0] == expected, (load, processes)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert device.cpu_threads("auto") == (None, "OMP_NUM_THREADS=3")
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "1")
    before = torch.get_num_threads()
    try:
        config = config_factory(*BASE, "trainer.fast_dev_run=true")
        with caplog.at_level("INFO"):
            make_trainer(config, tmp_path / "run").fit()  # load 0.0 from the loop above
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    opening = next(r.getMessage() for r in caplog.records if "training on" in r.getMessage())
    assert "2 CPU threads (trainer.num_threads=auto: 2 cores, load 0.0)" in opening, opening
{%- if cookiecutter.profile == "full" %}


def logged_lr(run_dir) -> list[float]:
    return [float(row["lr"]) for row in read_metrics(run_dir / "metrics.csv")[0]]


@pytest.mark.parametrize(
    "schedule",
    [
        ["lr_scheduler.name=onecycle"],
        ["lr_scheduler.name=cosine", "lr_scheduler.interval=step", "lr_scheduler.warmup=2"],
    ],
    ids=["onecycle", "warmup_then_cosine_per_step"],
)
@pytest.mark.filterwarnings("ignore:Unable to enable fault handler")
def test_an_extended_run_follows_the_schedule_of_a_run_planned_that_long(
    tmp_path, fast_args, schedule
):
    """A 2-epoch run resumed with trainer.epochs=4 (onecycle failed with "Tried to step 7
    times"; a finished cosine trained at lr 0): epochs 3 and 4 train at the lr of a run
    started with trainer.epochs=4."""
    import train

    args = [*fast_args, *schedule, "trainer.limit_train_batches=3"]
    assert train.main([*args, "trainer.epochs=2"]) == 0
    last = tmp_path / "run" / "checkpoints" / "last.pt"
    assert train.main([f"resume={last}", "trainer.epochs=4"]) == 0
    planned = tmp_path / "planned"
    assert train.main([*args, "trainer.epochs=4", f"output_dir={planned}"]) == 0
    assert logged_lr(tmp_path / "run")[2:] == pytest.approx(logged_lr(planned)[2:])
{%- endif %}
