"""Start-up stays light: train.py and the package import no heavy optional module,
torchmetrics and matplotlib load after the first training step, and a first import runs
with the garbage collector off. Template promises (whole-process speed, measured in the
template's benchmarks/), checked in the template's bakes (tests/conftest.py
``add_project_checks``); a student's project does not carry them. Nothing is timed."""

import json
import subprocess
import sys

from {{cookiecutter.project_slug}}.config.checks import TRACKER

from .conftest import FAST, PROJECT_ROOT, script_env

HEAVY = ["wandb", "matplotlib", "tensorboard", "torchvision", "sklearn", "scipy", "PIL"]


def run_python(code: str, *args: str, **options) -> subprocess.CompletedProcess:
    """``python -c code args...`` in the project's root; it must exit 0."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        **options,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_imports_leave_heavy_optional_modules_unloaded():
    """train.py and every subpackage import without wandb, matplotlib, TensorBoard,
    torchvision or scikit-learn: those load only when a run uses them."""
    code = (
        "import json, sys, train, evaluate\n"
        "import {{cookiecutter.project_slug}}.logger\n"
        "import {{cookiecutter.project_slug}}.saver\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    done = run_python(code)
    assert json.loads(done.stdout.splitlines()[-1]) == []


def test_torchmetrics_loads_at_the_first_validation_without_scipy_signal(fast_args):
    """A trainer starts without torchmetrics (~1 s to import) and imports it when it
    first validates, skipping its back-compat shim for scipy.signal (~1 s); the metrics
    still compute, and scipy still imports for whoever needs it."""
    code = (
        "import sys, torch\n"
        "from {{cookiecutter.project_slug}}.config import load_config\n"
        "from {{cookiecutter.project_slug}}.data import build_datamodule\n"
        "from {{cookiecutter.project_slug}}.model import build_model\n"
        "from {{cookiecutter.project_slug}}.model.metric import build_metrics\n"
        "from {{cookiecutter.project_slug}}.trainer import ClassificationTrainer\n"
        f"config = load_config(overrides={fast_args!r})\n"
        "data = build_datamodule(config.data, seed=0)\n"
        "model = build_model(config.model, data.input_shape, data.num_classes)\n"
        "trainer = ClassificationTrainer(model, data, config, config.output_dir)\n"
        "print('torchmetrics' in sys.modules)\n"
        "print(sorted(trainer.val_metrics.keys()), 'torchmetrics' in sys.modules)\n"
        "metrics = build_metrics(['accuracy', {'name': 'f1', 'average': 'macro'}], 3)\n"
        "metrics.update(torch.eye(3), torch.tensor([0, 1, 1]))\n"
        "values = {k: round(v.item(), 4) for k, v in metrics.compute().items()}\n"
        "print(values, 'scipy.signal' in sys.modules)\n"
        "from torchmetrics.utilities.imports import _SCIPY_AVAILABLE\n"
        "import scipy.signal\n"
        "print(bool(_SCIPY_AVAILABLE), hasattr(scipy.signal, 'windows'))\n"
    )
    done = run_python(code)
    assert done.stdout.splitlines()[-4:] == [
        "False",
        "['accuracy', 'top3_accuracy'] True",
        "{'accuracy': 0.6667, 'f1_macro': 0.5556} False",
        "True True",
    ]


def test_a_first_import_runs_with_the_collector_off(tmp_path):
    """utils/lasting.first_import (for train.py's whole-process time):
    a module's first import runs with the garbage collector off, and it is on again after,
    also when the import fails; once the module is imported nothing changes; a collector
    the caller had off stays off. Nothing is frozen mid-run (it kept memory alive)."""
    (tmp_path / "probe_a.py").write_text("TABLE = [[i] for i in range(1000)]\n")
    code = (
        "import gc, json, sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "from {{cookiecutter.project_slug}}.utils.lasting import first_import\n"
        "seen = []\n"
        "def note():\n"
        "    seen.append([gc.isenabled(), gc.get_freeze_count()])\n"
        "note()\n"
        "with first_import('probe_a'):\n"
        "    note()\n"
        "    import probe_a\n"
        "note()\n"
        "with first_import('probe_a'):\n"
        "    note()\n"
        "try:\n"
        "    with first_import('no_such_probe'):\n"
        "        import no_such_probe\n"
        "except ImportError:\n"
        "    note()\n"
        "gc.disable()\n"
        "with first_import('json.tool'):\n"
        "    import json.tool\n"
        "note()\n"
        "print(json.dumps(seen))\n"
    )
    seen = json.loads(run_python(code).stdout.splitlines()[-1])
    assert seen == [
        [True, 0],  # before
        [False, 0],  # during the first import: collector off
        [True, 0],  # after: on again, nothing frozen
        [True, 0],  # an imported module: nothing changes
        [True, 0],  # a failed import: on again
        [False, 0],  # the caller's collector was off: it stays off
    ]


def test_metric_checks_do_not_import_torchmetrics():
    """The config's and the data's metric checks run every factory up to building its
    metric: bad options still fail, before the run starts, without torchmetrics (~1 s)."""
    code = (
        "import json, sys\n"
        "from {{cookiecutter.project_slug}}.config import ConfigError, load_config\n"
        "from {{cookiecutter.project_slug}}.model import check_metrics\n"
        "good = 'metrics=[accuracy, top3_accuracy, {name: f1, average: micro},"
        " {name: auroc, average: weighted}, {name: accuracy, top_k: 10, label: top10}]'\n"
        "check_metrics(load_config(overrides=[good]).metrics, 10)\n"
        "errors = []\n"
        "for bad in ('metrics=[{name: recall, average: none}]',"
        " 'metrics=[{name: accuracy, top_k: 11}]'):\n"
        "    try:\n"
        "        check_metrics(load_config(overrides=[bad]).metrics, 10)\n"
        "    except ConfigError as error:\n"
        "        errors.append(str(error))\n"
        "print(json.dumps(errors))\n"
        "print(json.dumps(sorted(m for m in ('torchmetrics', 'matplotlib') if m in sys.modules)))\n"
    )
    done = run_python(code)
    errors, loaded = map(json.loads, done.stdout.splitlines()[-2:])
    assert len(errors) == 2
    assert "average='none' is not one of" in errors[0]
    assert "metrics: accuracy_11: top_k=11 must be a whole number from 1 to 10" in errors[1]
    assert loaded == []


def test_the_first_training_step_runs_before_torchmetrics_and_matplotlib_load(tmp_path, data_root):
    """train.py with its figures on (curves, TensorBoard's) imports torchmetrics and
    matplotlib after its first training step, at the first validation and the first
    figure: the step does not wait for them. The run still writes every figure."""
    run_dir = tmp_path / "run"
    probe = (
        "import json, runpy, sys\n"
        "from {{cookiecutter.project_slug}}.trainer import ClassificationTrainer\n"
        "step, seen = ClassificationTrainer.training_step, []\n"
        "def training_step(self, batch, batch_idx):\n"
        "    if not seen:\n"
        "        heavy = ('torchmetrics', 'matplotlib')\n"
        "        seen.append(sorted(m for m in heavy if m in sys.modules))\n"
        "        print('LOADED_AT_FIRST_STEP', json.dumps(seen[0]), flush=True)\n"
        "    return step(self, batch, batch_idx)\n"
        "ClassificationTrainer.training_step = training_step\n"
        "sys.argv = ['train.py', *sys.argv[1:]]\n"
        "runpy.run_path('train.py', run_name='__main__')\n"
    )
    args = [*FAST, f"data.root={data_root}", f"output_dir={run_dir}", "trainer.epochs=1"]
    args += ["trainer.limit_train_batches=2", "logger.curves=true"]
    if TRACKER == "tensorboard":  # {% if cookiecutter.profile == "full" %}the prediction grids and {% endif %}the confusion matrix image
        args.append("logger.tensorboard=true")
    done = run_python(probe, *args, env=script_env(), timeout=300)
    [line] = [line for line in done.stdout.splitlines() if line.startswith("LOADED_AT_FIRST")]
    assert json.loads(line.split(" ", 1)[1]) == []
    for name in ("curves.png", "confusion_matrix.png", "test_metrics.json", "metrics.csv"):
        assert (run_dir / name).stat().st_size > 0, name
    assert TRACKER != "tensorboard" or any((run_dir / "tensorboard").iterdir())
