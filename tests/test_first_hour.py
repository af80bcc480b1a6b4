"""The generated README's "First hour" section, done as a new user would, in a fresh bake
with their own images (a small shapes set): the install block in bash, every ``python``
command as written (with the interpreter that install made), the model file and the two
lines it adds, then ruff and the project's own quick suite (plain ``pytest``): a user who
followed the README is left with a green suite.

The install block runs for real, into the bake's own ``.venv``, with one line added after
the venv is made: a ``.pth`` file that shows it the test environment's packages (as
``--system-site-packages`` would, over a venv). So ``pip install torch torchvision
--index-url ...`` finds both installed and downloads nothing (pip prints "Requirement
already satisfied"), and ``pip install -e ".[dev]"`` really builds and installs the
project (its build backend from the configured indexes), its dependencies satisfied
from the test environment."""

import json
import re
import shlex
import sys
import sysconfig
from pathlib import Path

import pytest

from .conftest import ruff, run, suite_passed

SECTION = re.compile(r"^## First hour\n(.*?)(?=^## )", re.MULTILINE | re.DOTALL)


def first_hour(project: Path) -> str:
    match = SECTION.search((project / "README.md").read_text(encoding="utf-8"))
    assert match, "README has no First hour section"
    return match.group(1)


def commands(section: str) -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line]


def edit(path: Path, *replacements: tuple[str, str]) -> None:
    """The README's "add this line there" steps: each ``old`` must be in the file."""
    text = path.read_text()
    for old, new in replacements:
        assert old in text, (path, old)
        text = text.replace(old, new, 1)
    path.write_text(text)


def assert_ruff_clean(project: Path) -> None:
    for args in (("check", "."), ("format", "--check", ".")):
        result = ruff(*args, cwd=project)
        assert result.returncode == 0, result.stdout + result.stderr


def assert_suite_passes(project: Path, python: str = sys.executable) -> str:
    """Plain ``pytest`` in the project, as its README says to run after every change; its
    output (``-rs``: with the reason of every skip)."""
    result = run([python, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"], cwd=project)
    tail = result.stdout[-3000:] + result.stderr[-2000:]
    assert result.returncode == 0 and suite_passed(result.stdout), tail
    return result.stdout


# Shows the new venv the test environment's packages (see the module docstring).
SHARE_PACKAGES = (
    "python -c 'import pathlib, sys, sysconfig; "
    'pathlib.Path(sysconfig.get_paths()["purelib"], "test_env.pth").write_text(sys.argv[1])\' '
)


def install(project: Path, lines: list[str]) -> Path:
    """The README's install lines in one bash script in the project, ``python`` being this
    test's interpreter until the venv is activated; the venv's python."""
    assert lines[0].startswith("python -m venv .venv"), lines
    share = SHARE_PACKAGES + shlex.quote(sysconfig.get_paths()["purelib"])
    script = "\n".join(["set -e", lines[0], share, *lines[1:]])
    path = f"{Path(sys.executable).parent}:/usr/bin:/bin"
    result = run(["bash", "-c", script], cwd=project, timeout=600, env={"PATH": path})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Requirement already satisfied: torch" in result.stdout  # nothing downloaded
    assert "Successfully installed my_pytorch_project" in result.stdout
    return project / ".venv" / "bin" / "python"


@pytest.mark.parametrize("profile", ["full", "minimal"])
def test_first_hour_is_short_and_comes_first(bake, profile):
    project = bake(dataset="image_folder", profile=profile)
    readme = (project / "README.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", readme, re.MULTILINE)
    assert headings[0] == "First hour"
    assert len(first_hour(project).splitlines()) <= 120


@pytest.mark.slow
def test_first_hour_as_written(bake, tmp_path):
    project = bake(dataset="image_folder", profile="minimal")
    section = first_hour(project)
    # 2. Your images: data/images/<class>/<image>, written by the generated project's own
    # image-recipe test helper (three classes of shapes).
    write = "import pathlib; from tests.test_image_recipe import write_shapes as w; "
    write += "w(pathlib.Path('data/images'))"
    assert run([sys.executable, "-c", write], cwd=project).returncode == 0
    (project / "new_pictures").mkdir()  # 5. a few pictures to predict
    for picture in sorted((project / "data" / "images").glob("*/00[0-2].png")):
        (project / "new_pictures" / f"{picture.parent.name}_{picture.name}").write_bytes(
            picture.read_bytes()
        )
    # 6. The model file as shown, and the two lines the README says to add.
    model_file = re.search(
        r"create `(\S+/model/tiny_net\.py)`:\n\n```python\n(.*?)```", section, re.S
    )
    assert model_file, "First hour shows no model file"
    (project / model_file.group(1)).write_text(model_file.group(2))
    anchor = "from .models import MLP, SmallCNN\n"
    assert "`from .tiny_net import TinyNet`" in section
    edit(
        project / "my_pytorch_project" / "model" / "__init__.py",
        (anchor, anchor + "from .tiny_net import TinyNet\n"),
        ("__all__ = [\n", '__all__ = [\n    "TinyNet",\n'),
    )
    assert_ruff_clean(project)

    steps = commands(section)
    setup = [c for c in steps if c.startswith(("pip ", "python -m venv"))]
    assert len(setup) == 3 and steps[:3] == setup, steps  # step 1 comes first
    python = install(project, setup)
    ran = []
    for command in steps[len(setup) :]:
        args = shlex.split(command)
        assert args[0] == "python", command
        runs = sorted(
            (project / "runs").glob("*/checkpoints/best.pt"), key=lambda p: p.stat().st_mtime
        )
        if "runs/<run>" in command:
            assert runs, f"{command}: no run yet"
            args = [
                a.replace("runs/<run>", str(runs[-1].parent.parent.relative_to(project)))
                for a in args
            ]
        if args[1] == "train.py":
            args.append("trainer.progress_bar=false")
        result = run([str(python), *args[1:]], cwd=project, timeout=1200)
        assert result.returncode == 0, f"{command}\n{result.stderr[-3000:]}"
        ran.append(args[1])
    assert ran.count("train.py") == 3 and "evaluate.py" in ran and "predict.py" in ran
    newest = max((project / "runs").glob("*/config.yaml"), key=lambda p: p.stat().st_mtime)
    assert (newest.parent / "test_metrics.json").exists()
    assert not (project / "predictions.csv").exists()
    assert_suite_passes(project, str(python))  # after step 6's model file and its two lines


OWN_DATASET = re.compile(r"^\*\*Your own dataset\*\*(.*?)(?=^## )", re.MULTILINE | re.DOTALL)


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["full", "minimal"])
def test_own_dataset_as_written(bake, profile):
    """The README's "Your own dataset" steps done literally: the data module file as shown,
    the two lines it says to add, ruff, then its train, evaluate and predict commands on a
    NumPy file of three separable classes."""
    project = bake(profile=profile)
    readme = (project / "README.md").read_text(encoding="utf-8")
    section = OWN_DATASET.search(readme)
    assert section, "README has no 'Your own dataset' steps"
    section = section.group(1)
    module = re.search(r"create\s+`(\S+/data/my_data\.py)`:\n\n```python\n(.*?)```", section, re.S)
    assert module, "the steps show no data module file"
    (project / module.group(1)).write_text(module.group(2))
    anchor = "from .table import CSVDataModule\n"
    assert "`from .my_data import MyDataModule`\nabove `from .table" in section
    assert '`"MyDataModule",` to `__all__` above\n`"build_datamodule",`' in section
    edit(
        project / "my_pytorch_project" / "data" / "__init__.py",
        (anchor, "from .my_data import MyDataModule\n" + anchor),
        ('    "build_datamodule",\n', '    "MyDataModule",\n    "build_datamodule",\n'),
    )
    assert_ruff_clean(project)
    # The user's data: data/my_data.npz (x, y) and new_samples.pt, as the commands name them.
    write = (
        "import numpy as np, torch\n"
        "rng = np.random.default_rng(0)\n"
        "y = rng.integers(0, 3, 300)\n"
        "x = rng.normal(size=(300, 4)) + 4.0 * y[:, None]\n"
        "np.savez('data/my_data.npz', x=x, y=y)\n"
        "torch.save(torch.tensor(x[:5], dtype=torch.float32), 'new_samples.pt')\n"
    )
    (project / "data").mkdir(exist_ok=True)
    assert run([sys.executable, "-c", write], cwd=project).returncode == 0
    ran = []
    for command in commands(section):
        args = shlex.split(command)
        assert args[0] == "python", command
        args = [a.replace("runs/<run>", "runs/mine") for a in args]
        if args[1] == "train.py":
            args += ["output_dir=runs/mine", "trainer.progress_bar=false"]
        result = run([sys.executable, *args[1:]], cwd=project, timeout=600)
        assert result.returncode == 0, f"{command}\n{result.stderr[-3000:]}"
        ran.append((args[1], result.stdout))
    assert [script for script, _ in ran] == ["train.py", "evaluate.py", "predict.py"]
    # The project's own suite still passes: the data tests skip the new module, saying why.
    output = assert_suite_passes(project)
    assert "data.name=my_data: add its small test data to SOURCES" in output
    metrics = json.loads((project / "runs" / "mine" / "test_metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.9  # three well-separated classes
    rows = (project / "runs" / "mine" / "predictions.csv").read_text().splitlines()
    assert len(rows) == 1 + 5 and rows[1].startswith("new_samples.pt[0]")
