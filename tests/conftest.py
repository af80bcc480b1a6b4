"""Helpers for the template's own tests: bake with pytest-cookies, then check or run
the generated project with the same Python that runs these tests."""

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parents[1]
# Tests of the template's promises about a bake (AGENTS.md's commands run, the tooling
# files, start-up imports): written as the generated suite's tests, with Jinja, but kept
# here so that a student's project does not carry them. add_project_checks puts them into
# a bake before its suite runs; this suite does not collect them itself.
PROJECT_CHECKS = TEMPLATE / "tests" / "project_checks"
collect_ignore = ["project_checks"]
OPTIONS = {
    key: value
    for key, value in json.loads((TEMPLATE / "cookiecutter.json").read_text()).items()
    if isinstance(value, list) and not key.startswith("_")
}
# Files that legitimately contain ``${{ }}`` (GitHub Actions), copied without rendering.
UNRENDERED = (".github/workflows/",)
# Options that only add or remove files of their own: tested on their own (test_docker.py)
# at their default in every combination, instead of doubling the combinations' count.
SEPARATE = ("docker", "profile")
# Options that only change a file's text (the LICENSE, requires-python) are not multiplied
# with the rest: each of their values is taken in turn, so every value still bakes.
TEXT_ONLY = ("license", "python_version")


def all_combinations() -> list[dict[str, str]]:
    """Every combination of the options that change code (``SEPARATE`` ones left at their
    default), with the text-only options' values cycled through them."""
    keys = sorted(key for key in OPTIONS if key not in TEXT_ONLY + SEPARATE)
    combinations = [
        dict(zip(keys, values, strict=True))
        for values in itertools.product(*(OPTIONS[k] for k in keys))
    ]
    for index, context in enumerate(combinations):
        for key in TEXT_ONLY:
            context[key] = OPTIONS[key][index % len(OPTIONS[key])]
    return combinations


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked ``first`` (the longest) move to the front, in their order. Under
    ``pytest -n 2`` (make test) the first tests go one to each worker, so the longest jobs
    run side by side; collected where they stand they could queue on one worker."""
    items.sort(key=lambda item: item.get_closest_marker("first") is None)


def combination_id(context: dict[str, str]) -> str:
    return "-".join(f"{key}={value}" for key, value in context.items())


def run(args: list[str], cwd: Path, timeout: float = 1800, env=None) -> subprocess.CompletedProcess:
    """``env`` adds to (or, with a None value, removes from) the environment below."""
    environment = {
        **os.environ,
        "WANDB_MODE": "offline",
        "PYTHONUNBUFFERED": "1",
        # One intra-op thread per process: generated suites and training runs go side by
        # side under pytest -n, and OpenMP threads spinning on shared cores are 10-30x slower.
        "OMP_NUM_THREADS": "1",
        **(env or {}),
    }
    environment = {key: value for key, value in environment.items() if value is not None}
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=environment
    )


def suite_passed(stdout: str) -> bool:
    """pytest's closing line says tests passed and none failed or errored (read from that
    line alone: a warning's text elsewhere may say "failed")."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    summary = lines[-1] if lines else ""
    return " passed" in summary and " failed" not in summary and " error" not in summary


def missing_module_skips(stdout: str) -> list[str]:
    """The skip lines (the generated suite runs with -ra) naming a module of the project
    that could not be imported: a test the bake should not hold."""
    return [line for line in stdout.splitlines() if "could not import 'my_pytorch_project" in line]


def add_project_checks(project: Path, answers: dict[str, str]) -> None:
    """Render tests/project_checks/ with the bake's answers into the bake's tests/, where
    its suite (and its fixtures) run them like its own tests."""
    sys.path.insert(0, str(TEMPLATE / "scripts"))
    try:
        from jinja_lines import render
    finally:
        sys.path.remove(str(TEMPLATE / "scripts"))
    for check in sorted(PROJECT_CHECKS.glob("test_*.py")):
        target = project / "tests" / check.name
        assert not target.exists(), f"the bake has its own {check.name}"
        target.write_text(render(check.read_text(), answers))


def ruff(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "ruff", *args], cwd=cwd, timeout=120)


@pytest.fixture
def bake(cookies):
    """``bake(dataset="mnist")``: bake with these answers, assert it worked, return the path."""

    def make(**context: str) -> Path:
        result = cookies.bake(extra_context=context)
        assert result.exception is None, result.exception
        assert result.exit_code == 0
        return Path(result.project_path)

    return make
