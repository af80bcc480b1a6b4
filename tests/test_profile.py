"""The ``profile`` option: ``minimal`` keeps the course's modules and their guarantees and
leaves out the rest (the list lives in hooks/post_gen_project.py), with nothing left that
points at what it removed. Tested on its own, like ``docker``."""

import re
import sys
import time

import pytest

from .conftest import (
    TEMPLATE,
    UNRENDERED,
    add_project_checks,
    missing_module_skips,
    ruff,
    run,
    suite_passed,
)

# Words that name a left-out feature: none may appear in a minimal bake (code, tests, README,
# Makefile, configs, pyproject). Removed files are added to this list by name (see below).
# Not here: torchrun and DDP, still named in a few comments (minimal has no utils/dist.py or
# trainer/distributed.py: it runs one process, with nothing to share between processes).
LEFT_OUT_WORDS = (
    "optuna",
    "runs table",
    "export-model",
    "sbatch",
    "docker",
    "[export",
    ",export",
    "sweep]",
    "export",
    "onnx",
    "safetensors",
    "sync_batchnorm",
    "trainer.compile",
    "torch.compile",
    "trainer.precision=",
    "gradscaler",
    "bf16",
    "fp16",
    "usr1",
    "slurm",
    "requeue",
    "k-fold",
    "data.folds",
    # TensorBoard beyond the course's add_scalar: the graph, histograms, prediction grids
    "histogram",
    "log_graph",
    "images_every_n_epochs",
    "prediction grid",
    # LR schedulers beyond none, step and cosine (each stepped once per epoch)
    "warmup",
    "warm-up",
    "onecycle",
    "multistep",
    "plateau",
    "lr_scheduler.interval",
    # checkpoints beyond best.pt and last.pt
    "epoch=nnn",
    "save_top_k",
    "every_n_epochs",
    # the README sections minimal leaves out, by title
    "many runs",
    "export and deploy",
    "running on a cluster",
    "multi-gpu and multi-node",
)


def files(project):
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project).as_posix()
        if path.is_file() and "__pycache__" not in relative and path.suffix not in {".png", ".pt"}:
            yield relative, path


@pytest.mark.parametrize("dataset", ["digits", "image_folder", "mnist"])
def test_minimal_bakes_clean_without_dead_references(bake, dataset):
    full = bake(dataset=dataset)
    full_files = {relative for relative, _ in files(full)}
    project = bake(dataset=dataset, profile="minimal")
    kept = {relative for relative, _ in files(project)}
    assert kept < full_files
    # one process in fp32: no module to share work between processes, no loss scaler
    precision = (project / "my_pytorch_project" / "utils" / "precision.py").read_text()
    assert "class Float32Precision" in precision and "GradScaler" not in precision
    assert not (project / "my_pytorch_project" / "utils" / "amp.py").exists()
    assert not (project / "my_pytorch_project" / "utils" / "dist.py").exists()
    removed = full_files - kept
    # Removed files are not named anywhere: top-level scripts by file name, package modules
    # by their dotted import path.
    names = set()
    for relative in removed:
        parts = relative.removesuffix(".py").split("/")
        if len(parts) == 1:
            names.add(relative)
        elif parts[0] == "my_pytorch_project":
            names.add(".".join(parts[1:]).removesuffix(".__init__"))
        elif parts[0] != "tests":  # slurm/train.sbatch, configs/sweep/...: by their path
            names.add(relative)
    assert {"sweep.py", "cv.py", "runs.py", "export.py", "Dockerfile"} <= names
    for relative, path in files(project):
        text = path.read_text(encoding="utf-8")
        if not relative.startswith(UNRENDERED):
            assert "{{" not in text and "{%" not in text, f"leftover Jinja in {relative}"
        lowered = text.lower()
        for word in LEFT_OUT_WORDS:
            assert word not in lowered, f"{relative} mentions {word!r}, which minimal leaves out"
        for name in names:
            if "/" not in name and not name.endswith(".py") and "." in name:  # a module
                pattern = rf"\.{re.escape(name)}\b"
            else:
                pattern = rf"(?<![\w.]){re.escape(name)}(?!\w)"
            assert not re.search(pattern, text), f"{relative} names removed {name!r}"
    readme = (project / "README.md").read_text(encoding="utf-8")
    anchors = {
        re.sub(r"[^\w\- ]", "", title).strip().lower().replace(" ", "-")
        for title in re.findall(r"^#+ (.+)$", readme, re.MULTILINE)
    }
    for anchor in re.findall(r"\]\(#([\w-]+)\)", readme):
        assert anchor in anchors, f"README links to #{anchor}, a section it does not have"
    for args in (("check", "."), ("format", "--check", ".")):
        result = ruff(*args, cwd=project)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("logger", ["wandb", "mlflow"])
def test_minimal_refuses_a_tracker_it_leaves_out(cookies, capfd, tmp_path, logger):
    result = cookies.bake(extra_context={"profile": "minimal", "logger": logger})
    assert result.exit_code != 0 and result.project_path is None
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert f"logger={logger}" in err[0] and "profile=full" in err[0]
    assert "tensorboard" in err[0] and "none" in err[0]
    assert list((tmp_path / "cookies" / "bake00").iterdir()) == []


def test_minimal_has_no_container_files_even_with_the_docker_default(bake):
    project = bake(profile="minimal", docker="yes")
    assert not (project / "Dockerfile").exists()
    assert not (project / ".devcontainer").exists()
    assert "docker" not in (project / "Makefile").read_text().lower()


def test_minimal_without_a_tracker_bakes_clean(bake):
    project = bake(profile="minimal", logger="none", dataset="fashion_mnist")
    for args in (("check", "."), ("format", "--check", ".")):
        result = ruff(*args, cwd=project)
        assert result.returncode == 0, result.stdout + result.stderr


def count_lines(project) -> tuple[int, int]:
    package = [*project.joinpath("my_pytorch_project").rglob("*.py"), *project.glob("*.py")]
    return len(package), sum(len(p.read_text().splitlines()) for p in package)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("dataset", "pytest_args"),
    [("digits", []), ("image_folder", [])],
    ids=["digits", "image_folder"],
)
def test_minimal_suite_passes(bake, dataset, pytest_args):
    """The minimal bake's own plain ``pytest`` (its quick suite: pyproject's addopts)."""
    project = bake(profile="minimal", dataset=dataset)
    files_count, lines = count_lines(project)
    add_project_checks(project, {"profile": "minimal", "dataset": dataset})
    start = time.perf_counter()
    result = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args],
        cwd=project,
        env={"OMP_NUM_THREADS": None, "WANDB_MODE": None},
    )
    seconds = time.perf_counter() - start
    print(f"minimal {dataset}: {files_count} files, {lines} lines; pytest {seconds:.0f} s")
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-60:])
    assert result.returncode == 0, tail
    assert suite_passed(result.stdout), tail
    assert not missing_module_skips(result.stdout), tail


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["full", "minimal"])
def test_every_bake_ships_a_table_that_trains_evaluates_and_predicts(bake, tmp_path, profile):
    """examples/fruit.csv, as the README's tabular example runs it."""
    project = bake(profile=profile, dataset="image_folder")
    table = project / "examples" / "fruit.csv"
    run_dir = tmp_path / "run"
    args = ["data.name=csv", f"data.root={table}", "model.name=mlp", "trainer.progress_bar=false"]
    trained = run([sys.executable, "train.py", *args, f"output_dir={run_dir}"], cwd=project)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "test_accuracy:" in trained.stdout
    best = run_dir / "checkpoints" / "best.pt"
    evaluated = run([sys.executable, "evaluate.py", f"checkpoint={best}"], cwd=project)
    assert evaluated.returncode == 0, evaluated.stderr
    predicted = run(
        [sys.executable, "predict.py", f"checkpoint={best}", f"input={table}"], cwd=project
    )
    assert predicted.returncode == 0, predicted.stderr
    assert len((run_dir / "predictions.csv").read_text().splitlines()) == 151
    assert not (project / "predictions.csv").exists()


@pytest.mark.parametrize("profile", ["full", "minimal"])
@pytest.mark.parametrize("dataset", ["digits", "mnist", "fashion_mnist", "image_folder"])
def test_no_generated_test_skips_for_a_module_the_bake_lacks(bake, profile, dataset):
    """A test that needs one dataset's module lives in a file only bakes with that module
    keep (hooks/post_gen_project.py), rather than skipping elsewhere with "could not
    import": a clean suite reports no skip that names a module of the project."""
    project = bake(profile=profile, dataset=dataset)
    for path in sorted((project / "tests").glob("*.py")):
        for module in re.findall(
            r"importorskip\(\s*\"(my_pytorch_project[\w.]*)\"", path.read_text()
        ):
            file = project / (module.replace(".", "/") + ".py")
            assert file.is_file(), f"{path.name} skips unless {module} exists; this bake lacks it"


def full_only_entries() -> list[str]:
    """FULL_ONLY's scripts and folders, as the README writes them: ``demo.py``,
    ``notebooks/``, ``<slug>/experiments/`` (tests and the package's single modules left
    aside: the row sums those up as the options beyond the course)."""
    hook = (TEMPLATE / "hooks" / "post_gen_project.py").read_text()
    block = hook.split("FULL_ONLY = [", 1)[1].split("\n]", 1)[0]
    entries = []
    for line in block.splitlines():
        parts = re.findall(r'"([^"]+)"', line)
        if not parts or parts[0] == "tests":
            continue
        name = "/".join(["<slug>", *parts] if line.strip().startswith("PACKAGE") else parts)
        if not (name.startswith("<slug>/") and name.endswith(".py")):
            entries.append(name if name.endswith(".py") else name + "/")
    return entries


def test_the_readme_says_what_minimal_leaves_out():
    """The template README's profile row names every script and folder a minimal bake
    lacks (FULL_ONLY, demo.py and the notebook included), and its map of the generated
    project marks each of them as full only."""
    readme = (TEMPLATE / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `profile` |"))
    tree = readme.split("## The generated project", 1)[1].split("```", 2)[1]
    entries = full_only_entries()
    assert "demo.py" in entries and "notebooks/" in entries
    for entry in entries:
        assert f"`{entry}`" in row, entry
        for line in tree.splitlines():
            if line.startswith(entry):
                assert line.rstrip().endswith("(full)"), line
