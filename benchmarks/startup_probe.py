"""Time from ``python train.py`` to the first training step, phase by phase.

    BENCH_SPAWN_TIME=<time.time() before spawning> python startup_probe.py PROJECT [args...]

Wraps the functions ``train.main`` calls (in the project's package, where train.py
imports them from), runs the project's ``train.py`` as ``__main__`` (its imports, its
``main`` and its exit run exactly as they would) and exits at the first
``training_step``, printing ``BENCH_STARTUP {json}`` with the wall-clock time at which each
phase ended, in seconds since the parent spawned this process.

With ``BENCH_WHOLE=1`` the run goes on to its end instead, and at exit prints
``BENCH_WHOLE {json}``: the wall and CPU time of the first and of the last training step
(the parent, which waits for the exit, adds the time after the last step).
"""

import time

STARTED = time.time()  # first line: interpreter start-up is everything before it

import atexit  # noqa: E402
import functools  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import runpy  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

SPAWNED = float(os.environ.get("BENCH_SPAWN_TIME", STARTED))
marks: dict[str, float] = {"interpreter": STARTED - SPAWNED}


def mark(name: str) -> None:
    marks[name] = time.time() - SPAWNED


def after(name: str, function):
    """``function``, marking ``name`` when it returns."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        result = function(*args, **kwargs)
        mark(name)
        return result

    return wrapper


def main() -> None:
    project = Path(sys.argv[1]).resolve()
    sys.argv = [str(project / "train.py"), *sys.argv[2:]]
    sys.path.insert(0, str(project))
    os.chdir(project)
    # train.py binds these names when it runs: wrapped first, in the modules it takes them
    # from. Importing them here is part of the "imports" phase, as it is for train.py.
    slug = next(p.parents[1].name for p in project.glob("*/run/fit.py"))
    # The full profile's train.py takes it from trainer/cluster_stop.py (SLURM's USR1).
    stop = importlib.import_module(f"{slug}.trainer.cluster_stop")
    catch_usr1_early = stop.catch_usr1_early

    def main_started() -> None:  # train.main's first call: its imports are done
        mark("imports")
        catch_usr1_early()

    stop.catch_usr1_early = main_started
    run = importlib.import_module(f"{slug}.run")
    run.build_config = after("config", run.build_config)
    # fit (the run layer) builds the rest: its module's names are the ones it calls.
    fit = importlib.import_module(f"{slug}.run.fit")
    fit.build_strategy = after("strategy", fit.build_strategy)  # the device (seeded next)
    fit.build_datamodule = after("data", fit.build_datamodule)
    fit.build_model = after("model", fit.build_model)
    trainer_class = fit.ClassificationTrainer
    trainer_class.__init__ = after("trainer_init", trainer_class.__init__)
    fit.build_loggers = after("loggers", fit.build_loggers)
    first_step = trainer_class.training_step

    def training_step(self, batch, batch_idx):
        mark("first_step")
        print("BENCH_STARTUP " + json.dumps(marks), flush=True)
        os._exit(0)  # the first step is all we time
        return first_step(self, batch, batch_idx)

    if os.environ.get("BENCH_WHOLE") == "1":
        steps: dict[str, float] = {}

        def training_step(self, batch, batch_idx):  # noqa: F811
            now, cpu = time.time() - SPAWNED, time.process_time()
            steps.setdefault("first_step", now)
            steps.setdefault("first_step_cpu", cpu)
            steps["last_step"], steps["last_step_cpu"] = now, cpu
            return first_step(self, batch, batch_idx)

        atexit.register(lambda: print("BENCH_WHOLE " + json.dumps(steps), flush=True))

    trainer_class.training_step = training_step
    runpy.run_path(str(project / "train.py"), run_name="__main__")  # exits as train.py does


if __name__ == "__main__":
    main()
