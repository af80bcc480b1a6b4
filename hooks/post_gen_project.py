"""Remove what the chosen options don't use, so the project holds only live code.

Values are read through ``tojson`` (see pre_gen_project.py for why).
"""

import json
import shutil
import sys
from pathlib import Path

SLUG = json.loads(r'''{{ cookiecutter.project_slug | tojson }}''')
DATASET = json.loads(r'''{{ cookiecutter.dataset | tojson }}''')
LOGGER = json.loads(r'''{{ cookiecutter.logger | tojson }}''')
LICENSE = json.loads(r'''{{ cookiecutter.license | tojson }}''')
DOCKER = json.loads(r'''{{ cookiecutter.docker | tojson }}''')
PROFILE = json.loads(r'''{{ cookiecutter.profile | tojson }}''')
MINIMAL = PROFILE == "minimal"

PACKAGE = Path(SLUG)

UNUSED = {
    PACKAGE / "logger" / "tensorboard.py": LOGGER != "tensorboard",
    PACKAGE / "logger" / "tensorboard_views.py": LOGGER != "tensorboard",  # and full-only
    PACKAGE / "logger" / "figures.py": LOGGER == "none" or MINIMAL,  # minimal: no prediction grid
    PACKAGE / "logger" / "wandb.py": LOGGER != "wandb",
    PACKAGE / "logger" / "mlflow.py": LOGGER != "mlflow",
    PACKAGE / "data" / "digits.py": DATASET != "digits",
    Path("tests") / "test_tensorboard.py": LOGGER != "tensorboard",
    Path("tests") / "test_wandb.py": LOGGER != "wandb",
    Path("tests") / "test_mlflow.py": LOGGER != "mlflow",
    Path("tests") / "test_digits.py": DATASET != "digits",
    Path("LICENSE"): LICENSE == "none",
    # profile=minimal also drops the container files (docker=yes is the default answer, so
    # minimal coerces it instead of refusing every minimal bake that did not say docker=no).
    Path("Dockerfile"): DOCKER != "yes" or MINIMAL,
    Path(".dockerignore"): DOCKER != "yes" or MINIMAL,
    Path(".devcontainer"): DOCKER != "yes" or MINIMAL,
}

# What profile=minimal leaves out: THE one list. A new full-only file is one line here; the
# template test (tests/test_profile.py) then checks that nothing left in a minimal bake
# still names it. Text that mentions these features sits in an if-profile-is-full block.
FULL_ONLY = [
    Path("sweep.py"),
    Path("cv.py"),
    Path("runs.py"),
    Path("export.py"),
    Path("configs") / "sweep",
    Path("slurm"),
    PACKAGE / "experiments",
    PACKAGE / "inference" / "export.py",
    PACKAGE / "inference" / "exported.py",
    PACKAGE / "inference" / "demo_page.py",
    PACKAGE / "utils" / "slurm.py",
    PACKAGE / "utils" / "dist.py",  # minimal runs one process: nothing to share or agree on
    PACKAGE / "run" / "same_config.py",
    PACKAGE / "run" / "start_checks.py",  # the processes agree; the trackers' stores are checked
    PACKAGE / "run" / "requeue.py",  # SLURM requeue and torchrun's resume line after a stop
    PACKAGE / "trainer" / "distributed.py",
    PACKAGE / "trainer" / "reshard.py",
    PACKAGE / "trainer" / "fsdp.py",
    PACKAGE / "trainer" / "cluster_stop.py",
    PACKAGE / "trainer" / "kept_checkpoints.py",  # top-k and periodic checkpoints
    PACKAGE / "trainer" / "model_logging.py",  # graph, histograms, prediction grids
    PACKAGE / "trainer" / "step_schedulers.py",  # per-step schedules, warm-up, plateau
    PACKAGE / "utils" / "amp.py",
    PACKAGE / "saver" / "sharded.py",
    PACKAGE / "config" / "added_keys.py",
    PACKAGE / "data" / "sharded.py",
    PACKAGE / "data" / "folds.py",
    PACKAGE / "logger" / "main_process.py",  # one process: it is the main one
    PACKAGE / "logger" / "tracker_hooks.py",  # the graph, histograms, prediction grids
    PACKAGE / "logger" / "tensorboard_views.py",
    PACKAGE / "utils" / "rank_sums.py",  # the DDP/FSDP strategies' reduce
    Path("tests") / "test_sweep.py",
    Path("tests") / "test_cv.py",
    Path("tests") / "test_runs_table.py",
    Path("tests") / "test_export.py",
    Path("tests") / "test_cluster.py",
    Path("tests") / "test_distributed.py",
    Path("tests") / "test_sharded.py",
    Path("tests") / "rank_kill.py",  # the kill wrapper's rules for torchrun jobs
    Path("tests") / "test_fsdp.py",
    Path("tests") / "test_seams_cv.py",
    Path("tests") / "test_seams_export.py",
    Path("tests") / "test_seams_runs.py",
    Path("tests") / "test_seams_sweep.py",
    Path("demo.py"),
    Path("notebooks"),
    Path("tests") / "test_demo.py",
    Path("tests") / "test_notebook.py",
]
UNUSED.update({path: MINIMAL or UNUSED.get(path, False) for path in FULL_ONLY})
# A minimal digits bake leaves MNIST/FashionMNIST out. It keeps image_folder (its README's
# First hour trains on a folder of images); an image_folder bake keeps MNIST, on which its
# shared tests train. The full profile keeps every dataset for data.name=... .
MNIST_FILES = [
    PACKAGE / "data" / "mnist.py",
    PACKAGE / "data" / "idx.py",
    Path("configs") / "experiment" / "mnist_mlp.yaml",
    Path("configs") / "experiment" / "fashion_mnist_mlp.yaml",
    Path("tests") / "test_data_files.py",
    Path("tests") / "test_mnist.py",
]
UNUSED.update({path: MINIMAL and DATASET == "digits" for path in MNIST_FILES})

# CI installs the full profile's extras and runs its slow tests; .github/ is copied without
# rendering (it holds GitHub expressions), so minimal's text is set here: full -> minimal.
CI_WORKFLOW = Path(".github") / "workflows" / "ci.yml"
CI_MINIMAL = {
    '-e ".[dev,export,sweep]"': '-e ".[dev]"',
    "long training runs, torchrun, sweeps": "long training runs",
}


def main() -> None:
    for path, unused in UNUSED.items():
        if unused and path.is_dir():
            shutil.rmtree(path)
        elif unused:
            path.unlink(missing_ok=True)
    if MINIMAL:
        text = CI_WORKFLOW.read_text(encoding="utf-8")
        for full, minimal in CI_MINIMAL.items():
            if full not in text:
                sys.exit(f"template error: {CI_WORKFLOW} no longer holds {full!r} (CI_MINIMAL)")
            text = text.replace(full, minimal)
        CI_WORKFLOW.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
