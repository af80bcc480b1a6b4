"""FSDP2 vs DDP on CPU: time per optimizer step of ``trainer.strategy=fsdp`` and ``ddp``
under a real ``torchrun --nproc_per_node=2`` (gloo), in the generated project.

    python benchmarks/fsdp_steps.py [--project /path/to/baked/my_project] [--repeats 3]

Bakes the default (full) project unless ``--project`` is given. Each run trains the
digits MLP (default width, and a wide one where communication weighs more) for a few
epochs; the step time is the mean ``epoch_time`` of the epochs after the first (warm-up:
first all-gathers, lazy init) divided by the optimizer steps per epoch. Strategies are
interleaved so machine noise hits both alike; the median over repeats is printed with
the FSDP/DDP ratio. ``epoch_time`` includes the epoch's validation (144 images).
"""

import argparse
import csv
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
MODELS = {"mlp (17k params)": [], "wide mlp (1.1M params)": ["model.hidden_sizes=[1024,1024]"]}
ARGS = [
    "trainer.device=cpu",
    "trainer.epochs=4",
    "data.batch_size=16",
    "trainer.progress_bar=false",
    "trainer.early_stopping.enabled=false",
    "trainer.num_threads=1",
    "logger.tensorboard=false",
    "logger.curves=false",
]


def bake(directory: Path) -> Path:
    cookiecutter = Path(sys.executable).parent / "cookiecutter"
    subprocess.run([cookiecutter, "--no-input", TEMPLATE, "-o", directory], check=True)
    return next(directory.iterdir())


def step_time(project: Path, run_dir: Path, strategy: str, extra: list[str]) -> float:
    command = [
        *(sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"),
        "train.py",
        *ARGS,
        *extra,
        f"trainer.strategy={strategy}",
        f"output_dir={run_dir}",
    ]
    subprocess.run(command, cwd=project, check=True, capture_output=True)
    with (run_dir / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    log = (run_dir / "train.log").read_text()
    steps = int(re.search(r"epochs x (\d+) batches", log).group(1))  # per epoch and process
    return statistics.mean(float(row["epoch_time"]) for row in rows[1:]) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        project = args.project or bake(work / "bake")
        print("| model | DDP ms/step | FSDP ms/step | FSDP/DDP |\n|---|---|---|---|")
        for name, extra in MODELS.items():
            times: dict[str, list[float]] = {"ddp": [], "fsdp": []}
            for repeat in range(args.repeats):
                for strategy in times:
                    run_dir = work / f"{strategy}-{len(extra)}-{repeat}"
                    times[strategy].append(step_time(project, run_dir, strategy, extra))
            ddp, fsdp = (statistics.median(times[s]) * 1000 for s in ("ddp", "fsdp"))
            print(f"| {name} | {ddp:.2f} | {fsdp:.2f} | {fsdp / ddp:.2f} |", flush=True)


if __name__ == "__main__":
    main()
