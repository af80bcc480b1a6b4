"""A performance invariant that can be checked without timing anything: the training
loop does no per-step host sync. (Timings live in the template's benchmarks/, never in
tests.)"""

import sys

import torch

from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.model import build_model
from {{cookiecutter.project_slug}}.trainer import ClassificationTrainer

# Every way a tensor's value reaches Python, which waits for the device (a host sync).
SYNCS = ["item", "tolist", "__bool__", "__float__", "__int__"]


def count_syncs(monkeypatch) -> dict[str, int]:
    """Patch the tensor-to-Python conversions to count the calls made by this project's
    code (torch's own, e.g. CPU Adam reading its step counter, are the same in any loop)."""
    counts = dict.fromkeys(SYNCS, 0)
    package = "{{cookiecutter.project_slug}}."
    for name in SYNCS:
        original = getattr(torch.Tensor, name)

        def counting(self, *args, _name=name, _original=original, **kwargs):
            if sys._getframe(1).f_globals.get("__name__", "").startswith(package):
                counts[_name] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counting)
    return counts


def syncs_in_fit(config_factory, monkeypatch, steps: int, run_dir) -> int:
    config = config_factory(
        f"output_dir={run_dir}",
        "trainer.device=cpu",
        "trainer.epochs=1",
        f"trainer.limit_train_batches={steps}",
        "trainer.log_every_n_steps=1000",  # no logging step in this short run
        "trainer.early_stopping.enabled=false",
        "data.batch_size=16",
    )
    datamodule = build_datamodule(config.data, seed=config.seed)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    trainer = ClassificationTrainer(model, datamodule, config, config.output_dir)
    with monkeypatch.context() as patch:
        counts = count_syncs(patch)
        trainer.fit()
    assert trainer.state.global_step == steps
    return sum(counts.values())


def test_training_steps_do_not_sync_with_the_host(config_factory, monkeypatch, tmp_path):
    """Epoch-level work (shuffling, metric averages, checkpoints) may sync a fixed number
    of times; four times the steps must not add a single sync."""
    few = syncs_in_fit(config_factory, monkeypatch, 5, tmp_path / "few")
    many = syncs_in_fit(config_factory, monkeypatch, 20, tmp_path / "many")
    assert few > 0  # the counting works: epoch averages do reach Python
    assert many == few
