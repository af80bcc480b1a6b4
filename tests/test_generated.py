"""Baked projects work: their own test suites pass and a short training run succeeds,
for the default and for every dataset and logger option."""

import json
import sys

import pytest

from .conftest import add_project_checks, missing_module_skips, run, suite_passed

# (answers, which generated tests to run, environment). The default bake runs its whole
# suite as a user would, with no variable set (the generated conftest pins its own
# threads): plain `pytest` (the quick suite, by the project's addopts) and `pytest -m
# slow` in two parts, so the two workers of `make test` share it. The other bakes run
# the quick tests of the code their option changes, each check once: config tests
# everywhere (the option changes the defaults), the script tests (test_cli.py) where the
# option changes what train.py trains on (mnist; image_folder's FAST args train MNIST too,
# and the trackers are off in every FAST run), data tests for a dataset, logger tests for
# a tracker (logger=none rides with fashion_mnist).
AS_A_USER = {"OMP_NUM_THREADS": None, "WANDB_MODE": None}
QUICK = ["-m", "not slow"]  # the project's default too; said here so the list reads alone
CONFIG_TESTS = ["tests/test_config.py", "tests/test_bad_inputs.py"]
SCRIPT_TESTS = ["tests/test_cli.py"]
DATA_TESTS = ["tests/test_data.py", "tests/test_data_files.py", "tests/test_predict.py"]
LOGGER_TESTS = ["tests/test_loggers.py", "tests/test_tooling.py", "tests/test_metrics.py"]
# The slow tests of the newest features, run apart from the other slow ones so that the
# default bake's slow half is no longer one long job for a single worker.
SLOW_FEATURES = [
    "tests/test_cluster.py",
    "tests/test_sweep.py",
    "tests/test_cv.py",
    "tests/test_runs_table.py",
    "tests/test_image_folder_runs.py",
    "tests/test_export.py",
]
# The two slow parts are the longest jobs of make test: marked ``first`` (tests/conftest.py).
SLOW_PARTS = [
    ({}, ["-m", "slow", *SLOW_FEATURES], AS_A_USER),
    ({}, ["-m", "slow", *(f"--ignore={path}" for path in SLOW_FEATURES)], AS_A_USER),
]
VARIANTS = [
    *SLOW_PARTS,
    ({}, [], AS_A_USER),  # plain `pytest`: what a student runs after each edit
    ({"dataset": "mnist"}, [*QUICK, *CONFIG_TESTS, *SCRIPT_TESTS, *DATA_TESTS], {}),
    (
        {"dataset": "fashion_mnist", "logger": "none"},
        [*QUICK, *CONFIG_TESTS, *DATA_TESTS, *LOGGER_TESTS],
        {},
    ),
    (
        {"dataset": "image_folder"},
        [*QUICK, *CONFIG_TESTS, *DATA_TESTS, "tests/test_image_folder.py"],
        {},
    ),
    ({"logger": "wandb"}, [*QUICK, *CONFIG_TESTS, *LOGGER_TESTS, "tests/test_wandb.py"], {}),
    ({"logger": "mlflow"}, [*QUICK, *CONFIG_TESTS, *LOGGER_TESTS, "tests/test_mlflow.py"], {}),
]


def variant_id(variant) -> str:
    answers, pytest_args, _ = variant
    if answers:
        return "-".join(f"{k}={v}" for k, v in answers.items())
    if not pytest_args:
        return "default-quick"
    part = "slow-features" if pytest_args[2] == SLOW_FEATURES[0] else "slow-others"
    return f"default-{part}"


@pytest.mark.slow
@pytest.mark.parametrize(
    "variant",
    [pytest.param(v, marks=[pytest.mark.first] if v in SLOW_PARTS else []) for v in VARIANTS],
    ids=[variant_id(v) for v in VARIANTS],
)
def test_generated_suite_passes(bake, variant):
    answers, pytest_args, env = variant
    project = bake(**answers)
    add_project_checks(project, answers)
    result = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args],
        cwd=project,
        env=env,
    )
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-60:])
    assert result.returncode == 0, tail
    assert suite_passed(result.stdout), tail
    assert not missing_module_skips(result.stdout), tail


@pytest.mark.parametrize("dataset", ["digits", "mnist", "fashion_mnist", "image_folder"])
def test_short_training_run(bake, tmp_path, dataset):
    """``python train.py`` in a freshly baked project, MNIST data written as IDX files
    (image_folder: small PNG/JPEG files in class folders)."""
    project = bake(dataset=dataset)
    data_root = tmp_path / "data"
    folder = "FashionMNIST" if dataset == "fashion_mnist" else "MNIST"
    # The generated project's own IDX (or image) writer, run in its own interpreter.
    write = (
        "import pathlib, sys; from tests.conftest import write_idx; "
        "write_idx(pathlib.Path(sys.argv[1]), sys.argv[2])"
    )
    if dataset == "image_folder":
        write = (
            "import pathlib, sys; from tests.conftest import write_images; "
            "write_images(pathlib.Path(sys.argv[1]))"
        )
    assert run([sys.executable, "-c", write, str(data_root), folder], cwd=project).returncode == 0
    run_dir = tmp_path / "run"
    args = [
        "trainer.epochs=2",
        f"data.root={data_root}",
        f"output_dir={run_dir}",
        "trainer.progress_bar=false",
    ]
    if dataset == "image_folder":  # the configured 64 px is more than the test needs
        args += ["data.image_size=16", "data.batch_size=8", "data.test_fraction=0.2"]
    result = run([sys.executable, "train.py", *args], cwd=project, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "test_accuracy:" in result.stdout
    metrics = json.loads((run_dir / "test_metrics.json").read_text())
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    for name in (
        "metrics.csv",
        "curves.png",
        "checkpoints/best.pt",
        "checkpoints/last.pt",
    ):
        assert (run_dir / name).exists(), name
