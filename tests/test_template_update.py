"""Template updates: a project made with ``cruft create`` records the template and commit
in .cruft.json, and ``cruft update`` brings a later template change into it while
keeping the project's own edits. Everything is local (a temporary git copy of this
template); nothing touches the network or the user's home directory."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TEMPLATE_ROOT = Path(__file__).resolve().parents[1]
# Not part of the template: environments, caches, VCS data.
IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    "*.egg-info",
    "runs",
    "build",
)
MARKER = "Template change: {{ cookiecutter.project_slug }} now documents its changelog."

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """Git identity for the test's commits, and cookiecutter state kept inside tmp_path."""
    config = tmp_path / "cookiecutter_config.yaml"
    config.write_text(
        f"cookiecutters_dir: {tmp_path / 'cookiecutters'}\nreplay_dir: {tmp_path / 'replay'}\n"
    )
    identity = {"NAME": "Template Test", "EMAIL": "test@example.com"}
    return {
        **os.environ,
        "COOKIECUTTER_CONFIG": str(config),
        **{
            f"GIT_{role}_{key}": value
            for role in ("AUTHOR", "COMMITTER")
            for key, value in identity.items()
        },
    }


def run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        args, check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def cruft(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return run(sys.executable, "-m", "cruft", *args, cwd=cwd, env=env)


def commit_all(repo: Path, message: str, env: dict[str, str]) -> str:
    run("git", "add", "-A", cwd=repo, env=env)
    run("git", "commit", "-q", "-m", message, cwd=repo, env=env)
    return run("git", "rev-parse", "HEAD", cwd=repo, env=env).stdout.strip()


def test_cruft_update_brings_a_template_change_into_a_project(tmp_path, env):
    template = tmp_path / "template"
    shutil.copytree(TEMPLATE_ROOT, template, ignore=IGNORE)
    run("git", "init", "-q", "-b", "main", cwd=template, env=env)
    first = commit_all(template, "template v1", env)

    cruft(
        "create",
        str(template),
        "--no-input",
        "--output-dir",
        str(tmp_path / "out"),
        cwd=tmp_path,
        env=env,
    )
    project = tmp_path / "out" / "my_pytorch_project"
    recorded = json.loads((project / ".cruft.json").read_text())
    assert recorded["template"] == str(template)
    assert recorded["commit"] == first
    assert recorded["context"]["cookiecutter"]["project_slug"] == "my_pytorch_project"

    # The user's project lives in git and has edits of its own.
    run("git", "init", "-q", "-b", "main", cwd=project, env=env)
    train_py = project / "train.py"
    train_py.write_text(train_py.read_text() + "# the user's own line\n")
    commit_all(project, "my project", env)

    # The template improves.
    readme = template / "{{cookiecutter.project_slug}}" / "README.md"
    readme.write_text(readme.read_text() + f"\n{MARKER}\n")
    second = commit_all(template, "template v2", env)

    outdated = subprocess.run(
        [sys.executable, "-m", "cruft", "check"],
        check=False,
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert outdated.returncode != 0  # cruft check sees the newer template commit
    cruft("update", "--skip-apply-ask", cwd=project, env=env)

    expected = MARKER.replace("{{ cookiecutter.project_slug }}", "my_pytorch_project")
    assert expected in (project / "README.md").read_text()  # arrived, rendered
    assert train_py.read_text().endswith("# the user's own line\n")  # user edits kept
    assert json.loads((project / ".cruft.json").read_text())["commit"] == second
    cruft("check", cwd=project, env=env)  # up to date now
