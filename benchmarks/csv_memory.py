"""Peak memory of training on a large CSV table (data.name=csv), per MB of CSV.

    python benchmarks/csv_memory.py --project /path/to/baked/my_project [--mb 50]
    python benchmarks/csv_memory.py --project A --project B   # compare two bakes

Writes a CSV of about ``--mb`` MB (20 numeric features, a text label of 4 classes) and
a small one of the same shape (1,000 rows), then runs ``train.py data.name=csv ...
trainer.fast_dev_run=true`` on each in its own process and reads that process's peak
RSS (``os.wait4``). The small table's peak is the fixed cost (Python, torch, the
model); (large - small) / MB of CSV is what the table itself costs.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FEATURES = 20
KINDS = ["bird", "cat", "dog", "fish"]


def write_csv(path: Path, rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    with path.open("w") as handle:
        handle.write(",".join([f"f{i}" for i in range(FEATURES)] + ["label"]) + "\n")
        for start in range(0, rows, 10_000):
            n = min(10_000, rows - start)
            kinds = rng.integers(0, len(KINDS), n)
            values = rng.normal(kinds[:, None], 1.0, (n, FEATURES))
            for row, kind in zip(values, kinds, strict=True):
                handle.write(",".join(f"{v:.6f}" for v in row) + f",{KINDS[kind]}\n")


def peak_rss_mib(project: Path, table: Path, out: Path) -> tuple[float, float, int]:
    """(peak RSS MiB, wall seconds, exit code) of one train.py run."""
    args = [
        sys.executable,
        str(project / "train.py"),
        "data.name=csv",
        f"data.root={table}",
        "model.name=mlp",
        "trainer.fast_dev_run=true",
        "trainer.progress_bar=false",
        f"output_dir={out}",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    process = subprocess.Popen(
        args, cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code:
        print(process.stderr.read().decode()[-2000:], file=sys.stderr)
    return usage.ru_maxrss / 1024, seconds, code  # ru_maxrss is in KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", action="append", required=True, type=Path)
    parser.add_argument("--mb", type=float, default=50.0, help="size of the large CSV")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        small, large = folder / "small.csv", folder / "large.csv"
        write_csv(small, 1000)
        bytes_per_row = small.stat().st_size / 1000
        write_csv(large, int(args.mb * 1e6 / bytes_per_row))
        mb = large.stat().st_size / 1e6
        print(f"large CSV: {mb:.1f} MB ({FEATURES} features + label)")
        print("| project | peak RSS, 1,000 rows | peak RSS, large | per MB of CSV | wall s |")
        print("|---|---|---|---|---|")
        for i, project in enumerate(args.project):
            base, _, code_small = peak_rss_mib(project, small, folder / f"run_small_{i}")
            peak, seconds, code_large = peak_rss_mib(project, large, folder / f"run_large_{i}")
            if code_small or code_large:
                print(f"| {project} | failed (exit {code_small}, {code_large}) | | | |")
                continue
            per_mb = (peak - base) / mb
            print(
                f"| {project} | {base:.0f} MiB | {peak:.0f} MiB | {per_mb:.1f} MiB | "
                f"{seconds:.1f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
