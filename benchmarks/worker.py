"""One benchmark measurement in a fresh process (so its peak RSS is its own).

Run by ``run.py``; prints one ``BENCH_RESULT {json}`` line on stdout. Variants, all on the
same config, model, DataLoaders, seed and number of steps:

- ``plain``: the loop the course writes (zero_grad, forward, loss, backward, step;
  eval() + no_grad validation; ``torch.save`` of the weights each epoch).
- ``trainer``: the generated project's ClassificationTrainer with its default logging
  (progress bar, console + train.log, metrics.csv, TensorBoard, checkpoints).
- ``lightning``: PyTorch Lightning's Trainer with its defaults (progress bar, TensorBoard or
  CSV logger, checkpoint every epoch), when ``lightning`` is installed.
- ``datapath``: one pass over the training set through the in-memory tensor dataset and
  through torchvision's per-item PIL path, on the same IDX files.
"""

import argparse
import importlib
import itertools
import json
import os
import resource
import sys
import time
from pathlib import Path

import torch


def rss_mb() -> float:
    """Current resident set size, from /proc (Linux); 0 where unavailable."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def minor_faults() -> int:
    """Page faults served without I/O so far: each fresh page the allocator maps costs one."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux, bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


class Clock:
    """Epoch boundaries and training-phase durations, appended by each variant, in wall
    time and in this process's CPU time (all threads): on a shared machine the CPU time
    is what other tenants disturb least."""

    def __init__(self) -> None:
        self.marks: list[tuple[float, float]] = []  # (wall, cpu) at start and each epoch end
        self.train: list[tuple[float, float]] = []  # (wall, cpu) seconds of each train phase
        self.rss: list[float] = []  # RSS (MiB) after each epoch
        self.faults: list[int] = [minor_faults()]  # at start and each epoch end
        self._train_started = (0.0, 0.0)

    @staticmethod
    def now() -> tuple[float, float]:
        return time.perf_counter(), time.process_time()

    def start(self) -> None:
        self.marks = [self.now()]
        self.faults = [minor_faults()]

    def start_train(self) -> None:
        self._train_started = self.now()

    def end_train(self) -> None:
        (wall, cpu), (wall0, cpu0) = self.now(), self._train_started
        self.train.append((wall - wall0, cpu - cpu0))

    def end_epoch(self) -> None:
        self.marks.append(self.now())
        self.rss.append(rss_mb())
        self.faults.append(minor_faults())

    def result(self) -> dict:
        epochs = [(b[0] - a[0], b[1] - a[1]) for a, b in itertools.pairwise(self.marks)]
        return {
            "epoch_s": [wall for wall, _ in epochs],
            "epoch_cpu_s": [cpu for _, cpu in epochs],
            "train_s": [wall for wall, _ in self.train],
            "train_cpu_s": [cpu for _, cpu in self.train],
            "rss_mb": self.rss,
            "faults": [b - a for a, b in itertools.pairwise(self.faults)],
        }


def import_project(project: Path):
    """The generated package (the folder holding trainer/ and config/) and train.py's helpers."""
    sys.path.insert(0, str(project))
    slug = next(p.parents[1].name for p in project.glob("*/trainer/base.py"))
    modules = {
        name: importlib.import_module(f"{slug}.{name}")
        for name in ("config", "data", "model", "trainer", "logger", "utils")
    }
    return slug, modules


def build(mods, args, run_dir: Path, epochs: int | None = None):
    """Config, seeded data module and model, exactly as train.py builds them."""
    overrides = [
        "data.name=mnist",
        f"data.root={args.data}",
        f"data.batch_size={args.batch_size}",
        f"model.name={args.model}",
        f"trainer.epochs={epochs or args.epochs}",
        f"trainer.device={args.device}",
        f"seed={args.seed}",
        f"output_dir={run_dir}",
        "trainer.early_stopping.enabled=false",  # every variant runs every epoch
        *(["trainer.limit_train_batches=" + str(args.steps)] if args.steps else []),
        *args.override,
    ]
    config = mods["config"].load_config(overrides=overrides)
    mods["utils"].seed_everything(config.seed)
    datamodule = mods["data"].build_datamodule(config.data, seed=config.seed)
    model = mods["model"].build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    return config, datamodule, model


def steps_in(loader, limit: int | None) -> int:
    return min(len(loader), limit) if limit else len(loader)


# --------------------------------------------------------------------------- plain loop
def plain_train_phase(model, loader, optimizer, loss_fn, steps, log_every, device) -> float:
    """The course's training loop over ``steps`` batches; returns the last loss read."""
    model.train()
    last_loss = float("nan")
    for batch, (x, y) in enumerate(loader):
        if batch >= steps:
            break
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        if batch % log_every == 0:
            last_loss = loss.item()  # the course prints the loss every n batches
    return last_loss


def run_plain(mods, args, run_dir: Path, clock: Clock) -> int:
    config, datamodule, model = build(mods, args, run_dir)
    device = torch.device(mods["utils"].select_device(config.trainer.device))
    model = model.to(device)
    train_loader = datamodule.train_dataloader()
    val_loader = datamodule.val_dataloader()
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.optimizer.lr)
    steps = steps_in(train_loader, args.steps)
    log_every = config.trainer.log_every_n_steps
    run_dir.mkdir(parents=True, exist_ok=True)
    clock.start()
    for epoch in range(1, args.epochs + 1):
        datamodule.set_epoch(epoch)  # the same shuffle order as the Trainer's
        clock.start_train()
        last_loss = plain_train_phase(
            model, train_loader, optimizer, loss_fn, steps, log_every, device
        )
        clock.end_train()
        model.eval()
        val_loss, correct, seen = 0.0, 0, 0
        with torch.no_grad():
            for x, y in val_loader:
                x, y = x.to(device), y.to(device)
                logits = model(x)
                val_loss += loss_fn(logits, y).item() * len(y)
                correct += (logits.argmax(1) == y).sum().item()
                seen += len(y)
        print(
            f"epoch {epoch}: loss {last_loss:.4f} val_loss {val_loss / seen:.4f} "
            f"val_acc {correct / seen:.4f}"
        )
        torch.save(model.state_dict(), run_dir / "model.pt")
        clock.end_epoch()
    return steps


# --------------------------------------------------------------------------- the Trainer
def start_trainer(mods, trainer_class, model, datamodule, config, run_dir: Path):
    """The Trainer with the loggers ``train.py`` gives it (console, CSV, TensorBoard)."""
    trainer = trainer_class(model, datamodule, config, run_dir)
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    mods["logger"].setup_logging(run_dir)
    # curves.png is drawn once, after training: not part of the loop being measured.
    trainer.loggers = mods["logger"].build_loggers(config, run_dir)
    return trainer


def run_trainer(mods, args, run_dir: Path, clock: Clock) -> int:
    # Configured for many more epochs than are timed: work done "every N epochs and at the
    # last" (prediction grid, histograms) then lands at the rate a long run pays, instead
    # of on every timed epoch. The loop stops itself after --epochs.
    config, datamodule, model = build(mods, args, run_dir, epochs=args.epochs + 100)
    base = mods["trainer"].ClassificationTrainer

    class TimedTrainer(base):  # marks epoch boundaries; the loop itself is untouched
        def train_epoch(self, epoch, loader):
            clock.start_train()
            result = super().train_epoch(epoch, loader)
            clock.end_train()
            return result

        def end_epoch(self, epoch, metrics):
            super().end_epoch(epoch, metrics)
            clock.end_epoch()
            if epoch == args.epochs:
                self.state.should_stop = True  # set after this epoch's logging decisions

    trainer = start_trainer(mods, TimedTrainer, model, datamodule, config, run_dir)
    clock.start()
    trainer.fit()
    return trainer.num_train_batches


# --------------------------------------------------------------------------- Lightning
def run_lightning(mods, args, run_dir: Path, clock: Clock) -> int:
    import lightning as L

    config, datamodule, model = build(mods, args, run_dir)
    train_loader = datamodule.train_dataloader()
    val_loader = datamodule.val_dataloader()
    lr = config.optimizer.lr

    class Module(L.LightningModule):
        def __init__(self, net):
            super().__init__()
            self.net = net
            self.loss_fn = torch.nn.CrossEntropyLoss()

        def training_step(self, batch, batch_idx):
            x, y = batch
            loss = self.loss_fn(self.net(x), y)
            self.log("train_loss", loss, prog_bar=True)
            return loss

        def validation_step(self, batch, batch_idx):
            x, y = batch
            logits = self.net(x)
            self.log("val_loss", self.loss_fn(logits, y), prog_bar=True)
            self.log("val_acc", (logits.argmax(1) == y).float().mean())

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=lr)

    class Timer(L.Callback):
        def on_train_epoch_start(self, trainer, module):
            if trainer.current_epoch > 0:  # the previous epoch's val + checkpoint are done
                clock.end_epoch()
            clock.start_train()

        def on_validation_start(self, trainer, module):
            if not trainer.sanity_checking:
                clock.end_train()

        def on_train_end(self, trainer, module):
            clock.end_epoch()

    accelerator = "gpu" if args.device.startswith("cuda") else "cpu"
    trainer = L.Trainer(
        max_epochs=args.epochs,
        limit_train_batches=args.steps or 1.0,
        accelerator=accelerator,
        devices=1,
        default_root_dir=str(run_dir),
        callbacks=[Timer()],
        use_distributed_sampler=False,  # keep the project's sampler: the same order
        num_sanity_val_steps=0,  # the other variants do no sanity check either
        log_every_n_steps=config.trainer.log_every_n_steps,
    )
    module = Module(model)

    class EpochOrder(L.Callback):  # the same shuffle order as the Trainer's
        def on_train_epoch_start(self, trainer, module):
            datamodule.set_epoch(trainer.current_epoch + 1)

    trainer.callbacks.insert(0, EpochOrder())
    clock.start()
    trainer.fit(module, train_loader, val_loader)
    return steps_in(train_loader, args.steps)


# --------------------------------------------------------------------------- interleaved
def run_interleaved(mods, args, run_dir: Path) -> dict:
    """The training phase of the plain loop and of the Trainer in one process, on the same
    model, DataLoader and shuffle order, alternating round by round (the order flipping
    each round). Separate processes differ by up to 20 % in speed for the same code
    (memory layout); here both loops share it, so the ratio isolates the per-step overhead."""
    config, datamodule, model = build(mods, args, run_dir, epochs=args.epochs + 100)
    trainer_class = mods["trainer"].ClassificationTrainer
    trainer = start_trainer(mods, trainer_class, model, datamodule, config, run_dir)
    loader = datamodule.train_dataloader()
    steps = trainer.num_train_batches = steps_in(loader, args.steps)
    trainer.optimizer, trainer.scheduler = trainer.configure_optimizers()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.optimizer.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    log_every = config.trainer.log_every_n_steps

    def plain(epoch: int) -> None:
        datamodule.set_epoch(epoch)
        plain_train_phase(model, loader, optimizer, loss_fn, steps, log_every, trainer.device)

    def with_trainer(epoch: int) -> None:
        trainer.state.batch_in_epoch = 0
        trainer.train_epoch(epoch, loader)

    times: dict[str, list[tuple[float, float]]] = {"plain": [], "trainer": []}
    for epoch in range(1, args.epochs + 1):
        order = [("plain", plain), ("trainer", with_trainer)]
        for name, loop in order if epoch % 2 else order[::-1]:
            started = Clock.now()
            loop(epoch)
            (wall, cpu), (wall0, cpu0) = Clock.now(), started
            times[name].append((wall - wall0, cpu - cpu0))
    trainer.loggers.finalize()
    return {
        "steps_per_epoch": steps,
        **{f"{name}_s": [wall for wall, _ in runs] for name, runs in times.items()},
        **{f"{name}_cpu_s": [cpu for _, cpu in runs] for name, runs in times.items()},
    }


# --------------------------------------------------------------------------- data path
def run_datapath(mods, args, run_dir: Path, clock: Clock) -> dict:
    """Seconds per training-set pass: in-memory tensors vs torchvision's per-item PIL path."""
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    config, datamodule, _ = build(mods, args, run_dir)
    started = time.perf_counter()
    for _ in datamodule.train_dataloader():
        pass
    tensor_time = time.perf_counter() - started
    transform = transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]
    )
    pil_set = datasets.MNIST(args.data, train=True, download=False, transform=transform)
    train_idx, _, _ = mods["data"].splits.split_indices(
        len(pil_set), config.data.val_fraction, 0.0, config.data.split_seed
    )
    subset = torch.utils.data.Subset(pil_set, train_idx.tolist())  # the Trainer's train split
    loader = DataLoader(subset, batch_size=args.batch_size, shuffle=True, num_workers=0)
    started = time.perf_counter()
    for _ in loader:
        pass
    pil_time = time.perf_counter() - started
    return {"tensor_s": tensor_time, "pil_s": pil_time, "items": len(subset)}


VARIANTS = {"plain": run_plain, "trainer": run_trainer, "lightning": run_lightning}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--variant", choices=[*VARIANTS, "datapath", "interleaved"], required=True)
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=0, help="train steps per epoch; 0 = all")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads; 0 = default")
    parser.add_argument("--override", action="append", default=[])
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    _, mods = import_project(args.project.resolve())
    args.out.mkdir(parents=True, exist_ok=True)
    clock = Clock()
    if args.variant == "datapath":
        result = run_datapath(mods, args, args.out, clock)
    elif args.variant == "interleaved":
        result = run_interleaved(mods, args, args.out)
    else:
        steps = VARIANTS[args.variant](mods, args, args.out, clock)
        result = {"steps_per_epoch": steps, **clock.result()}
    result.update(variant=args.variant, peak_rss_mb=peak_rss_mb(), torch=torch.__version__)
    print("BENCH_RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
