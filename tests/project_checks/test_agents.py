"""AGENTS.md cannot drift: every path it names exists, every command in its bash block
runs in a copy of this project, and every extra it names is declared in pyproject.toml.
A template promise, checked in the template's bakes (tests/conftest.py
``add_project_checks``); a student's project does not carry it."""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import {{cookiecutter.project_slug}}
from {{cookiecutter.project_slug}}.config import load_config

from .conftest import PROJECT_ROOT, TEST_ENV, write_idx, write_images

AGENTS = PROJECT_ROOT / "AGENTS.md"
PACKAGE = Path({{cookiecutter.project_slug}}.__file__).parent
FENCED = re.compile(r"```bash\n(.*?)```", re.DOTALL)
PATH_SUFFIXES = (".py", ".yaml", ".yml", ".toml", ".md", ".ipynb", ".txt")
# What a user has but the copy leaves out: outputs, data, environments and caches.
NOT_COPIED = {"runs", "data", "wandb", "mlruns", "mlflow.db", ".venv", ".git", "build"}
CACHES = {"__pycache__", ".pytest_cache", ".ruff_cache"}


def text() -> str:
    return AGENTS.read_text(encoding="utf-8")


def commands() -> list[tuple[str, str]]:
    """(command, whole line) for each line of the bash blocks; comments are stripped."""
    found = []
    for block in FENCED.findall(text()):
        for line in block.splitlines():
            command = line.split(" #", 1)[0].strip()
            if command and not command.startswith("#"):
                found.append((command, line))
    return found


def named_paths() -> list[str]:
    """Backticked words outside the bash blocks that look like paths."""
    prose = FENCED.sub("", text())
    words = re.findall(r"`([^`\s]+)`", prose)
    return [
        word
        for word in words
        if re.fullmatch(r"[\w.*/-]+", word) and ("/" in word or word.endswith(PATH_SUFFIXES))
    ]


def exists(root: Path, word: str) -> bool:
    """A path relative to the project, or to the package (``model/``, ``config/``)."""
    for base in (root, root / PACKAGE.name):
        if any(base.glob(word.rstrip("/"))) if "*" in word else (base / word).exists():
            return True
    return False


def test_agents_md_names_commands_paths_and_rules():
    assert len(commands()) >= 4 and len(named_paths()) >= 10
    for heading in ("## Layout", "## Commands", "## Where things go", "## Architecture rules"):
        assert heading in text()
    leftover_jinja = ("{" + "{", "{" + "%")  # spelt apart: this file is a template too
    assert not any(mark in text() for mark in leftover_jinja)


def test_every_path_it_names_exists():
    missing = [word for word in named_paths() if word != "runs/" and not exists(PROJECT_ROOT, word)]
    assert not missing, f"AGENTS.md names paths that do not exist: {missing}"


def test_every_extra_it_names_is_declared():
    # (tomllib is 3.11+; the project may support 3.10) each extra is one `name = [` line
    optional = (
        (PROJECT_ROOT / "pyproject.toml").read_text().split("[project.optional-dependencies]")[1]
    )
    optional = optional.split("\n[", 1)[0]
    extras = set(re.findall(r"^([\w-]+) = \[", optional, re.MULTILINE))
    named = set()
    for _, line in commands():
        for group in re.findall(r"\.\[([\w,-]+)\]", line):
            named.update(group.split(","))
        named.update(re.findall(r"--extra[ =]([\w-]+)", line))
    assert named and named <= extras, named - extras


def copy_project(target: Path) -> Path:
    def ignore(folder: str, names: list[str]) -> set[str]:
        dropped = CACHES | (NOT_COPIED if Path(folder) == PROJECT_ROOT else set())
        return {name for name in names if name in dropped or name.endswith(".egg-info")}

    shutil.copytree(PROJECT_ROOT, target, ignore=ignore)
    return target


def give_default_data(project: Path) -> None:
    """The files the default ``data.name`` reads, where the README says to put them
    (digits needs none: scikit-learn bundles it)."""
    data = load_config().data
    root = project / data.root
    if data.name in ("mnist", "fashion_mnist"):
        write_idx(root, "MNIST" if data.name == "mnist" else "FashionMNIST")
    elif data.name == "image_folder":
        write_images(root)


@pytest.mark.slow
def test_every_command_runs_in_the_project(tmp_path):
    """Install lines are checked above (extras declared), not run: they would reinstall
    the environment running this test. ``pytest`` lines run with ``--collect-only``
    (running the suite from inside itself would recurse); everything else runs as written,
    in order, in a copy of the project, with this interpreter first on PATH."""
    project = copy_project(tmp_path / "project")
    give_default_data(project)
    if any(command.startswith("make") for command, _ in commands()) and not shutil.which("make"):
        pytest.skip("AGENTS.md runs make, which is not installed")
    env = {**os.environ, **TEST_ENV}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    ran = 0
    for command, _ in commands():
        if command.startswith(("pip install", "uv sync", "uv pip")):
            continue
        if command.startswith("pytest"):
            command = f"{sys.executable} -m {command} --collect-only -q -p no:cacheprovider"
        result = subprocess.run(
            ["bash", "-c", command], cwd=project, env=env, capture_output=True, text=True
        )
        output = (result.stdout + result.stderr)[-3000:]
        assert result.returncode == 0, f"{shlex.quote(command)} failed:\n{output}"
        ran += 1
    assert ran >= 3
    missing = [word for word in named_paths() if not exists(project, word)]
    assert not missing, f"after its commands, paths AGENTS.md names are missing: {missing}"
