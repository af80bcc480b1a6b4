"""``make demo`` on a machine without an NVIDIA GPU installs CPU-only torch wheels first
(pip would otherwise fetch the CUDA build and its libraries, gigabytes a CPU cannot use).
Dry runs only: the install itself needs download.pytorch.org, which this test does not."""

import shutil
import subprocess

import pytest

from .conftest import TEMPLATE

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(*args: str) -> str:
    result = subprocess.run(
        ["make", "-n", "-B", "-C", str(TEMPLATE), *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},  # no nvidia-smi on this PATH
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_demo_installs_cpu_torch_wheels_first_without_a_gpu():
    lines = dry_run("VENV=/tmp/firsthour-demo-venv", "demo").splitlines()
    cpu = next(i for i, line in enumerate(lines) if "download.pytorch.org/whl/cpu" in line)
    assert "torch==2.14.1" in lines[cpu] and "torchvision==0.29.1" in lines[cpu]
    requirements = next(i for i, line in enumerate(lines) if "-r requirements-dev.txt" in line)
    assert cpu < requirements  # so the requirements' torch pin is already met by the CPU wheel


def test_a_gpu_machine_or_an_explicit_index_keeps_its_choice():
    lines = dry_run("VENV=/tmp/firsthour-demo-venv", "TORCH_INDEX=", "demo")
    assert "download.pytorch.org" not in lines
