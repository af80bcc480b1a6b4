"""Project tooling: the CI workflow, pre-commit hooks, Makefile targets and .gitignore.
A template promise, checked in the template's bakes (tests/conftest.py
``add_project_checks``); a student's project does not carry it."""

import os
import re
import shlex
import shutil
import subprocess
import sys
import time

import pytest
import yaml

from {{cookiecutter.project_slug}}.config import load_config

from .conftest import PROJECT_ROOT

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


def workflow_steps() -> list[dict]:
    workflow = yaml.safe_load((PROJECT_ROOT / ".github" / "workflows" / "ci.yml").read_text())
    assert {"push", "pull_request"} <= set(workflow[True])  # YAML 1.1 reads `on:` as True
    return workflow["jobs"]["test"]["steps"]


def test_workflow_installs_cpu_torch_then_lints_and_tests():
    runs = [step.get("run", "") for step in workflow_steps()]
    torch_step = next(i for i, run in enumerate(runs) if "pip install torch" in run)
    assert "--index-url https://download.pytorch.org/whl/cpu" in runs[torch_step]
    install = 'pip install -e ".[dev{% if cookiecutter.profile == "full" %},export,sweep{% endif %}]"'
    project_step = next(i for i, run in enumerate(runs) if install in run)
    test_step = next(i for i, run in enumerate(runs) if "pytest" in run)
    assert torch_step < project_step < test_step  # CPU wheels first, so pip keeps them
    assert any("ruff check" in run and "ruff format --check" in run for run in runs)


def test_plain_pytest_is_the_quick_suite_and_ci_runs_quick_and_slow_apart():
    """``pytest`` deselects the slow tests (pyproject's addopts); CI runs the quick suite
    and ``-m slow`` as two jobs, each with its own timeout, so neither waits on the other."""
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text()
    addopts = shlex.split(re.search(r'^addopts = "(.*)"$', pyproject, re.MULTILINE).group(1))
    assert addopts[addopts.index("-m") + 1] == "not slow"
    workflow = yaml.safe_load((PROJECT_ROOT / ".github" / "workflows" / "ci.yml").read_text())
    job = workflow["jobs"]["test"]
    suites = {entry["suite"]: entry for entry in job["strategy"]["matrix"]["include"]}
    assert suites["quick"]["pytest-args"] == "" and suites["slow"]["pytest-args"] == "-m slow"
    assert suites["quick"]["timeout"] < suites["slow"]["timeout"]
    assert "matrix.timeout" in job["timeout-minutes"]
    test_step = next(step["run"] for step in job["steps"] if "pytest" in step.get("run", ""))
    assert test_step.rstrip().endswith("matrix.pytest-args }}")


@needs_bash
def test_workflow_python_version_is_the_projects_minimum(tmp_path):
    """Run the workflow's own version step: it must read requires-python from pyproject.toml."""
    step = next(step for step in workflow_steps() if step.get("id") == "python")
    output = tmp_path / "github_output"
    env = {**os.environ, "GITHUB_OUTPUT": str(output)}
    subprocess.run(["bash", "-c", step["run"]], cwd=PROJECT_ROOT, env=env, check=True)
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text()
    minimum = re.search(r'requires-python = ">=([0-9.]+)"', pyproject)
    assert output.read_text().strip() == f"version={minimum.group(1)}"


def test_pre_commit_runs_ruff_lint_and_format():
    config = yaml.safe_load((PROJECT_ROOT / ".pre-commit-config.yaml").read_text())
    hooks = [hook["id"] for repo in config["repos"] for hook in repo["hooks"]]
    assert hooks.index("ruff-check") < hooks.index("ruff-format")  # fixes first, then format


def make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", f"PYTHON={sys.executable}", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )


@needs_make
@pytest.mark.parametrize(
    ("target", "command"),
    [
        ("install", '-m pip install -e ".[dev]"'),
        ("install-cpu", "--index-url https://download.pytorch.org/whl/cpu"),
        ("train", "train.py trainer.epochs=1"),
        ("evaluate", "evaluate.py checkpoint=x.pt trainer.epochs=1"),
{%- if cookiecutter.profile == "full" %}
        ("export-model", "export.py checkpoint=x.pt format=onnx trainer.epochs=1"),
{%- endif %}
        ("test", "-m pytest trainer.epochs=1"),
        ("test-slow", "-m pytest -m slow trainer.epochs=1"),
        ("lint", "ruff format --check ."),
        ("format", "ruff format ."),
    ],
)
def test_make_targets(target, command):
    result = make("-n", target, "CHECKPOINT=x.pt", "ARGS=trainer.epochs=1")
    assert result.returncode == 0, result.stderr
    assert command in result.stdout


@needs_make
def test_make_tensorboard_exists_only_with_tensorboard():
    result = make("-n", "tensorboard")
    if load_config().logger.tensorboard:
        assert result.returncode == 0 and "tensorboard --logdir runs" in result.stdout
    else:
        assert result.returncode != 0 and "No rule to make target" in result.stderr


@needs_make
def test_make_predict_and_evaluate_need_a_checkpoint(tmp_path):
    """Without runs/ there is no default checkpoint: a message, not a confusing error."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(PROJECT_ROOT / "Makefile", project / "Makefile")
    result = subprocess.run(["make", "evaluate"], cwd=project, capture_output=True, text=True)
    assert result.returncode != 0 and "pass CHECKPOINT=<path>" in result.stderr
    result = subprocess.run(
        ["make", "predict", "CHECKPOINT=x.pt"], cwd=project, capture_output=True, text=True
    )
    assert result.returncode != 0 and "pass INPUT=" in result.stderr


@needs_git
def test_gitignore_hides_outputs_but_not_the_code(tmp_path):
    """Mirror the project's files plus typical outputs in a scratch repo and ask git."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    shutil.copy(PROJECT_ROOT / ".gitignore", repo / ".gitignore")
    code = [
        str(path.relative_to(PROJECT_ROOT))
        for path in PROJECT_ROOT.rglob("*")
        if path.is_file() and path.suffix in {".py", ".yaml", ".yml", ".toml", ".md"}
    ]
    # Leave out what a user's own runs and tools may have left in the project folder.
    local = {"runs", "data", "wandb", "mlartifacts", ".venv", "venv", "build", "dist"}
    code = [
        name
        for name in code
        if name.split("/")[0] not in local
        and not any(part.endswith(("_cache", ".egg-info")) for part in name.split("/"))
    ]
    assert any("/data/" in name for name in code)  # the package's data/ module is among them
    outputs = [
        "runs/20240101-120000/checkpoints/best.pt",
        "runs/try1/metrics.csv",
        "data/MNIST/raw/train-images-idx3-ubyte",
        "wandb/offline-run-1/run.wandb",
        "mlflow.db",
        "mlartifacts/1/abc/artifacts/curves.png",
        "checkpoints/last.pt",
        "model.pt",
        ".venv/bin/python",
        "predictions.csv",
    ]
    for name in code + outputs:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).touch()
    result = subprocess.run(
        ["git", "check-ignore", "--stdin"],
        cwd=repo,
        input="\n".join(code + outputs),
        capture_output=True,
        text=True,
    )
    ignored = set(result.stdout.split())
    assert ignored == set(outputs)


@needs_make
def test_make_evaluate_picks_the_newest_run(tmp_path):
    """The newest best.pt by time, not the alphabetically last folder (``runs/try1`` sorts
    after every timestamp). Run in a scratch folder: never the project's own runs/."""
    for name, age in (("zz_old_try", 3600), ("2031-01-01_10-00-00", 0)):
        best = tmp_path / "runs" / name / "checkpoints" / "best.pt"
        best.parent.mkdir(parents=True)
        best.write_bytes(b"")
        stamp = time.time() - age
        os.utime(best, (stamp, stamp))
    result = subprocess.run(
        ["make", "--no-print-directory", "-f", str(PROJECT_ROOT / "Makefile"), "-n", "evaluate"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "checkpoint=runs/2031-01-01_10-00-00/checkpoints/best.pt" in result.stdout
