"""Shared fixtures: a fast config, small MNIST-format IDX files, and a way to run the
project's scripts in a real subprocess, exactly as a user would.

Quick and slow tests, the one rule: a test that takes more than ~10 s on 2 cores (a
training run of many epochs or on real-size data{% if cookiecutter.profile == "full" %}, torchrun, torch.compile, a sweep, a
cross-validation) is marked{% else %}) is
marked{% endif %} ``@pytest.mark.slow`` (a whole file: ``pytestmark =
pytest.mark.slow``). Plain ``pytest`` deselects them (``addopts`` in pyproject.toml) and
stays within ~3 minutes: run it after every change. ``pytest -m slow`` runs the rest
(before a push; CI runs both, as two jobs); ``pytest -m "slow or not slow"`` runs all.
The quick suite keeps the contract: every script's happy path, one exact kill-and-resume,
the guard rails, and a user's own model and data plugging in. Quick tests share what
they can (the session fixtures below: data written once, one reference run).
"""

import logging
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from {{cookiecutter.project_slug}}.config import load_config
from {{cookiecutter.project_slug}}.data.image_check_cache import CACHE_ENV

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Small and quick: every test that trains uses these unless it needs otherwise.
FAST = [
{%- if cookiecutter.dataset == "image_folder" %}
    # The shared tests run on small MNIST files (data_root) with the usual 10 %
    # validation; the default, image_folder (30 % validation), has its own tests
    # (test_image_folder*.py, IMAGE_ARGS, test_image_recipe.py).
    "data.name=mnist",
    "data.num_workers=0",
    "data.eval_batch_size=512",
    "data.val_fraction=0.1",
{%- endif %}
    "trainer.epochs=2",
    "trainer.progress_bar=false",
    "data.batch_size=64",
    "logger.curves=false",
    "logger.tensorboard=false",
{%- if cookiecutter.profile == "full" %}
    "logger.wandb=false",
    "logger.mlflow=false",
{%- endif %}
]


# One intra-op thread, in this process and in every script a test runs, whatever the
# caller's environment or core count. Tests run side by side (pytest -n), where OpenMP
# threads spinning on shared cores slow small models down 10-30x; and a bit-exact
# comparison (a resumed run against an uninterrupted one) only holds when both sides
# use the same thread count, since the order of a sum changes with the threads.
THREADS = 1
TEST_ENV = {
    "OMP_NUM_THREADS": str(THREADS),
    "WANDB_MODE": "offline",  # tests never touch the network
    "WANDB_SILENT": "true",
    "PYTHONUNBUFFERED": "1",
}
torch.set_num_threads(THREADS)


@pytest.fixture(scope="session", autouse=True)
def _cache_dir(tmp_path_factory) -> Path:
    """Where this session's runs remember their image checks and statistics: a folder
    of the session, never the project's own ``.cache/``."""
    path = tmp_path_factory.mktemp("cache")
    TEST_ENV[CACHE_ENV] = str(path)
    return path


@pytest.fixture(autouse=True)
def _test_env(monkeypatch, _cache_dir):
    """The same environment for code a test runs in-process."""
    for name, value in TEST_ENV.items():
        monkeypatch.setenv(name, value)
    torch.set_num_threads(THREADS)
    yield
    # A test that trained in-process left the root logger writing to its captured
    # stdout, which pytest then closes: a later test's log lines would fail on it.
    root = logging.getLogger()
    for handler in list(root.handlers):
        if not type(handler).__module__.startswith("_pytest"):
            root.removeHandler(handler)
            handler.close()


def write_idx(root: Path, folder: str = "MNIST", n_train: int = 600, n_test: int = 200) -> Path:
    """Write four small uncompressed IDX files (the real MNIST format) under root/folder/raw.

    Each class gets a distinct bright block so a model can learn it quickly.
    """
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 60, size=(n, 28, 28), dtype=np.uint8)
        for i, label in enumerate(labels):
            row, col = divmod(int(label), 5)
            images[i, 4 + row * 10 : 12 + row * 10, 1 + col * 5 : 6 + col * 5] = 250
        header = struct.pack(">IIII", 2051, n, 28, 28)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(header + images.tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(
            struct.pack(">II", 2049, n) + labels.tobytes()
        )
    return root


# Image-folder test data: one colour per class (distinct in grayscale too), with noise.
IMAGE_CLASSES = {"apple": (220, 40, 40), "leaf": (40, 200, 60), "sky": (40, 60, 230)}
# (PIL mode, file format): grayscale, palette, alpha and CMYK files all decode to RGB.
IMAGE_KINDS = [
    ("RGB", "PNG"),
    ("RGB", "JPEG"),
    ("L", "PNG"),
    ("RGBA", "PNG"),
    ("P", "PNG"),
    ("CMYK", "JPEG"),
    ("L", "JPEG"),
]


def write_images(folder: Path, per_class: int = 14, seed: int = 0) -> Path:
    """``folder/<class>/<i>.png|jpg``: small images (12-40 px, not square) of every
    kind in ``IMAGE_KINDS``, written with PIL as a user's files would be."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for name, colour in IMAGE_CLASSES.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            height, width = (int(n) for n in rng.integers(12, 41, size=2))
            pixels = np.clip(np.array(colour) + rng.normal(0, 25, (height, width, 3)), 0, 255)
            mode, file_format = IMAGE_KINDS[i % len(IMAGE_KINDS)]
            image = Image.fromarray(pixels.astype(np.uint8)).convert(mode)
            suffix = ".png" if file_format == "PNG" else ".jpg"
            image.save(folder / name / f"{i:03d}{suffix}", file_format)
    return folder


@pytest.fixture(scope="session")
def image_root(tmp_path_factory) -> Path:
    """One class-per-folder image set (split by data.val_fraction/test_fraction)."""
    return write_images(tmp_path_factory.mktemp("images") / "pictures")


# Small pictures: 16 px crops, so an image run takes seconds.
IMAGE_ARGS = [
    "data.name=image_folder",
    "data.image_size=16",
    "data.batch_size=8",
    "data.eval_batch_size=32",
    "data.val_fraction=0.2",
    "data.test_fraction=0.2",
]


@pytest.fixture(scope="session")
def data_root(tmp_path_factory) -> Path:
    """Small MNIST and FashionMNIST IDX files, written once per test session."""
    root = tmp_path_factory.mktemp("data")
    write_idx(root, "MNIST")
    write_idx(root, "FashionMNIST")
    return root


@pytest.fixture
def mnist_root(data_root) -> Path:
    return data_root


@pytest.fixture
def fast_args(tmp_path, data_root) -> list[str]:
    """CLI overrides for a quick run into tmp_path/run; works for every dataset option."""
    return [*FAST, f"data.root={data_root}", f"output_dir={tmp_path / 'run'}"]


@pytest.fixture
def config_factory(fast_args):
    """``config_factory("trainer.epochs=3")``: the default config plus ``fast_args`` and
    overrides (later ones win), writing into tmp_path/run unless output_dir is overridden."""

    def make(*overrides: str):
        return load_config(overrides=[*fast_args, *overrides])

    return make


def stop_process(process: subprocess.Popen, timeout: float) -> None:
    """SIGTERM a process that is still running (torchrun passes it on, so no worker is
    left behind), then SIGKILL it if it has not ended within ``timeout`` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()


def script_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every script a test runs: ``TEST_ENV`` over the caller's, so
    a session fixture made before any test starts runs exactly like the tests."""
    return {**os.environ, **TEST_ENV, **(env or {})}


def run_script(script: str, *args: str, cwd: Path = PROJECT_ROOT, timeout: float = 300, env=None):
    """Run ``python <script> args...`` in a subprocess; return the CompletedProcess."""
    return subprocess.run(
        [sys.executable, str(PROJECT_ROOT / script), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=script_env(env),
    )


def start_script(script: str, *args: str, cwd: Path = PROJECT_ROOT, env=None) -> subprocess.Popen:
    """Start ``python <script> args...`` in the background (output captured)."""
    return subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / script), *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=script_env(env),
    )


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory, data_root) -> Path:
    """One uninterrupted run with ``resume_tools.RESUME_ARGS``: the baseline that every
    killed-and-resumed or signalled run must match exactly."""
    from .resume_tools import RESUME_ARGS

    run_dir = tmp_path_factory.mktemp("reference") / "run"
    args = [*FAST, f"data.root={data_root}", *RESUME_ARGS, f"output_dir={run_dir}"]
    proc = run_script("train.py", *args)
    assert proc.returncode == 0, proc.stderr
    return run_dir


# The shared script run's metrics: accuracy and a macro recall (the test report's
# per-class values and the confusion matrix come with any metric).
SCRIPT_RUN_METRICS = "metrics=[accuracy, {name: recall, average: macro}]"


@pytest.fixture(scope="session")
def script_run(tmp_path_factory, data_root) -> Path:
    """One finished ``python train.py`` run (``FAST``, 2 epochs, curves drawn), started
    from a directory that is not the project's: the happy path that the script tests
    read. A test that writes into a run works on a copy (``copy_run``)."""
    elsewhere = tmp_path_factory.mktemp("cwd")
    run_dir = tmp_path_factory.mktemp("script_run") / "run"
    args = [*FAST, f"data.root={data_root}", f"output_dir={run_dir}", "logger.curves=true"]
    proc = run_script("train.py", *args, SCRIPT_RUN_METRICS, cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr
    (run_dir.parent / "stdout.txt").write_text(proc.stdout)  # what the user saw
    assert not any(elsewhere.iterdir()), "a run with output_dir= writes nothing in the cwd"
    return run_dir


def copy_run(run_dir: Path, into: Path) -> Path:
    """A copy of a finished run, for a test that changes it."""
    import shutil

    return Path(shutil.copytree(run_dir, into / run_dir.name))
