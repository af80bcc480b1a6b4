"""``make demo`` on a machine without an NVIDIA GPU installs CPU-only torch wheels first
(pip would otherwise fetch the CUDA build and its libraries, gigabytes a CPU cannot use).
Dry runs only: the install itself needs download.pytorch.org, which this test does not."""

import shutil
import subprocess
import sys

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


def test_an_unreachable_torch_index_is_said_first_and_skipped(tmp_path):
    """A closed network: the torch-index step says first, in one line, which index it
    cannot reach, and does not run pip against it (whose errors, such as "No matching
    distribution found for cuda-bindings", would come first and mislead)."""
    unreachable = "http://127.0.0.1:9/whl/cpu"  # the discard port: connection refused
    lines = dry_run(f"VENV={tmp_path}/venv", f"TORCH_INDEX={unreachable}", "demo").splitlines()
    step = next(line for line in lines if "--index-url" in line)
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "python").symlink_to(sys.executable)
    pip = tmp_path / "venv" / "bin" / "pip"
    pip.write_text("#!/bin/sh\necho pip ran: $@\nexit 1\n")
    pip.chmod(0o755)
    result = subprocess.run(["bash", "-c", step], capture_output=True, text=True, timeout=60)
    output = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode == 0, output
    assert output == [
        f"note: {unreachable} cannot be reached; torch comes from the default index "
        "(requirements-dev.txt)"
    ]


def test_the_torch_pair_is_pinned_in_one_place_and_used_by_the_install_lines(bake):
    """requirements-dev.txt pins the torch/torchvision pair the template is tested with;
    make demo and the generated project's install lines (README's First hour, make
    install-cpu) pin the same pair, so pip cannot mix builds from two indexes."""
    pins = [
        line
        for line in (TEMPLATE / "requirements-dev.txt").read_text().splitlines()
        if line.startswith(("torch==", "torchvision=="))
    ]
    assert len(pins) == 2, pins
    install = next(line for line in dry_run("demo").splitlines() if "--index-url" in line)
    project = bake(dataset="image_folder", profile="minimal")
    readme = (project / "README.md").read_text(encoding="utf-8")
    makefile = (project / "Makefile").read_text()
    for where, text in (("make demo", install), ("README", readme), ("Makefile", makefile)):
        lines = [line for line in text.splitlines() if "download.pytorch.org/whl/cpu" in line]
        assert lines, where
        for line in lines:
            assert " ".join(pins) in line, (where, line)
