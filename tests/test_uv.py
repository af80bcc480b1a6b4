"""A bake works the uv way, as its README shows: `uv sync --extra dev`, then
`uv run python train.py` and `uv run pytest`.

uv resolves the project from PyPI and installs every dependency into the project's own
.venv, except torch and torchvision and the CUDA libraries they pull in: a PyPI torch
is a multi-GB CUDA build, too big to download on every CI run. Those few are reused
from the interpreter running this test (symlinked into one folder that a .pth file
adds to the new environment's path), and `uv run` is told not to re-sync
(UV_NO_SYNC=1), since a re-sync would install them after all. The test checks that
everything else really comes from the uv environment."""

import importlib.metadata
import os
import shutil
import sys
import tomllib
from pathlib import Path

import pytest

from .conftest import add_project_checks, run, suite_passed

UV = shutil.which(
    "uv", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
)
REUSED = ("torch", "torchvision", "triton")
REUSED_PREFIXES = ("nvidia-", "cuda-")


def is_reused(name: str) -> bool:
    name = name.lower().replace("_", "-")
    return name in REUSED or name.startswith(REUSED_PREFIXES)


def link_installed_torch(folder: Path) -> Path:
    """Symlinks to this interpreter's torch, torchvision and their CUDA libraries (their
    packages and dist-info folders), so a new environment can import them."""
    folder.mkdir()
    for dist in importlib.metadata.distributions():
        if not is_reused(dist.metadata["Name"]):
            continue
        for top in {Path(file).parts[0] for file in dist.files or []}:
            source = Path(dist.locate_file(top))
            if top not in ("..", "bin") and source.exists() and not (folder / top).exists():
                (folder / top).symlink_to(source)
    return folder


def uv(*args: str, cwd: Path, env: dict | None = None):
    # VIRTUAL_ENV of the harness would only make uv warn; the project uses its own .venv.
    environment = {"UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": None, **(env or {})}
    result = run([UV, *args], cwd=cwd, timeout=900, env=environment)
    assert result.returncode == 0, (
        f"uv {' '.join(args)}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    )
    return result


@pytest.mark.slow
@pytest.mark.skipif(UV is None, reason="uv is not installed (pip install uv)")
def test_uv_sync_then_uv_run_train_and_pytest(bake, tmp_path):
    project = bake()
    add_project_checks(project, {})  # test_agents.py runs below, in uv's environment
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    uv("venv", "--python", sys._base_executable, ".venv", cwd=project)
    reused = link_installed_torch(tmp_path / "reused")
    site_packages = project / ".venv" / "lib" / version / "site-packages"
    (site_packages / "_reused_torch.pth").write_text(f"{reused}\n")

    uv("lock", cwd=project)
    locked = [
        package["name"] for package in tomllib.loads((project / "uv.lock").read_text())["package"]
    ]
    assert "torch" in locked and "omegaconf" in locked and "pytest" in locked  # dev extra
    skipped = [arg for name in locked if is_reused(name) for arg in ("--no-install-package", name)]
    uv("sync", "--extra", "dev", *skipped, cwd=project)

    no_sync = {"UV_NO_SYNC": "1"}
    where = uv(
        "run",
        "python",
        "-c",
        "import omegaconf, pytest, sklearn, torch, my_pytorch_project as p;"
        "print(omegaconf.__file__, pytest.__file__, sklearn.__file__, torch.__file__, p.__file__)",
        cwd=project,
        env=no_sync,
    )
    *installed, torch_file, package_file = where.stdout.split()
    assert all(Path(path).is_relative_to(site_packages) for path in installed), where.stdout
    assert Path(torch_file).is_relative_to(reused)
    assert Path(package_file).is_relative_to(project)

    train = uv(
        "run",
        "python",
        "train.py",
        "trainer.epochs=1",
        "trainer.progress_bar=false",
        cwd=project,
        env=no_sync,
    )
    assert "test_accuracy:" in train.stdout
    tests = uv(
        "run",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-m",
        "not slow",
        "tests/test_architecture.py",
        "tests/test_agents.py",
        cwd=project,
        env=no_sync,
    )
    assert suite_passed(tests.stdout), tests.stdout
