"""The run layer's seams: ``fit`` takes everything about processes from the strategy it
builds (seeding, the run directory's claim, the best weights, the trainer's strategy),
runs the start checks added parts register, and a stop handler an added part registers
speaks instead of the core's resume line."""

import importlib
from pathlib import Path

from {{cookiecutter.project_slug}}.trainer import TrainingInterrupted
from {{cookiecutter.project_slug}}.trainer.strategy import build_strategy

# The modules themselves: in the package, ``run.fit`` names the function.
PACKAGE = "{{cookiecutter.project_slug}}"
fit_module = importlib.import_module(f"{PACKAGE}.run.fit")
stop_module = importlib.import_module(f"{PACKAGE}.run.stop")
QUICK = ["trainer.epochs=1", "trainer.limit_train_batches=2", "trainer.device=cpu"]


def test_fit_runs_through_the_strategy_it_builds(config_factory, monkeypatch):
    config = config_factory(*QUICK)
    calls: list[str] = []
    built = []

    class RecordingStrategy(type(build_strategy(config.trainer))):
        def seed(self, seed: int, deterministic: bool) -> None:
            calls.append(f"seed {seed}")
            super().seed(seed, deterministic)

        def on_main(self, make):
            calls.append("on_main")
            return super().on_main(make)

        def load_best_weights(self, trainer, best: Path) -> None:
            calls.append(f"best {best.name}")
            assert trainer.strategy is self  # the trainer got this strategy, not its own
            super().load_best_weights(trainer, best)

    def recording_strategy(cfg):
        built.append(RecordingStrategy(cfg))
        return built[-1]

    def start_check(config, strategy, resumed):
        calls.append(f"start check {strategy is built[0]} {resumed}")

    monkeypatch.setattr(fit_module, "build_strategy", recording_strategy)
    monkeypatch.setattr(fit_module, "START_CHECKS", [*fit_module.START_CHECKS, start_check])
    metrics = fit_module.fit(config)
    assert "test_accuracy" in metrics
    assert len(built) == 1
    assert calls == [f"seed {config.seed}", "start check True None", "on_main", "best best.pt"]


def test_a_registered_stop_handler_speaks_instead_of_the_core_line(capsys, monkeypatch):
    last = Path("runs/x/checkpoints/last.pt")
    stop = TrainingInterrupted(2, last)
    assert stop_module.report_stop(stop) == 130
    assert f"resume with: python train.py resume={last}" in capsys.readouterr().err

    def handler(stopped: TrainingInterrupted) -> bool:
        print(f"handled {stopped.checkpoint}")
        return True

    monkeypatch.setattr(stop_module, "STOP_HANDLERS", [handler])
    assert stop_module.report_stop(stop) == 130
    out = capsys.readouterr()
    assert out.out == f"handled {last}\n"
    assert "resume with" not in out.err
