"""Benchmark the generated project's Trainer against a hand-written loop and Lightning.

    python benchmarks/run.py            # full run (see benchmarks/README.md)
    python benchmarks/run.py --quick    # a few minutes: fewer steps, one repeat
    python benchmarks/run.py --project /path/to/baked/my_project

Bakes the default project with cookiecutter into a temporary directory (or uses
``--project``), writes MNIST-format IDX files itself, then runs every (case, variant)
in its own subprocess (clean peak RSS), interleaving variants and repeats so machine
noise hits them alike. Prints Markdown tables; ``--json`` also saves the raw numbers.
"""

import argparse
import json
import os
import platform
import pty
import re
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE.parent
COLUMNS = [
    "case",
    "variant",
    "steps/s",
    "epoch s",
    "ratio",
    "CPU ratio",
    "train CPU ratio",
    "faults/step",
    "peak RSS MiB",
]


# --------------------------------------------------------------------------- setup
def bake(where: Path) -> Path:
    """The default project, baked from this template."""
    from cookiecutter.main import cookiecutter

    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(where)))


def write_idx(root: Path, n_train: int, n_test: int, folder: str = "MNIST") -> Path:
    """MNIST's four uncompressed IDX files under root/folder/raw (the format torchvision
    reads), with a bright block per class so the models learn something."""
    import numpy as np

    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = (rng.permutation(n) % 10).astype(np.uint8)
        images = rng.integers(0, 60, size=(n, 28, 28), dtype=np.uint8)
        for label in range(10):
            row, col = divmod(label, 5)
            images[labels == label, 4 + row * 10 : 12 + row * 10, 1 + col * 5 : 6 + col * 5] = 250
        header = struct.pack(">IIII", 2051, n, 28, 28)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(header + images.tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(
            struct.pack(">II", 2049, n) + labels.tobytes()
        )
    return root


def has_lightning() -> bool:
    import importlib.util

    return importlib.util.find_spec("lightning") is not None


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


# --------------------------------------------------------------------------- subprocesses
THREADS_ENV: dict[str, str] = {}  # OMP_NUM_THREADS for every child, set from --threads


def run_child(command: list[str], env: dict | None = None, tty: bool = True) -> tuple[str, str]:
    """Run ``command``; return (stdout, stderr). stderr is a pseudo-terminal when ``tty``,
    so progress bars draw exactly as they do for a user at a terminal."""
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **THREADS_ENV, **(env or {})}
    chunks: list[bytes] = []
    if tty:
        master, slave = pty.openpty()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=slave, env=environment)
        os.close(slave)

        def drain() -> None:
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    return
                if not data:
                    return
                chunks.append(data)

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        stdout = process.stdout.read().decode(errors="replace")
        process.wait()
        reader.join(timeout=5)
        os.close(master)
        stderr = b"".join(chunks).decode(errors="replace")
    else:
        done = subprocess.run(command, capture_output=True, text=True, env=environment)
        process, stdout, stderr = done, done.stdout, done.stderr
    if process.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited with {process.returncode}:\n{stdout[-3000:]}\n"
            f"{stderr[-3000:]}"
        )
    return stdout, stderr


def tagged(stdout: str, tag: str) -> dict:
    for line in stdout.splitlines():
        if line.startswith(tag + " "):
            return json.loads(line[len(tag) + 1 :])
    raise RuntimeError(f"no {tag} line in:\n{stdout[-3000:]}")


def worker(args, out: Path, variant: str, model: str, batch: int, device: str, **extra) -> dict:
    command = [
        sys.executable,
        str(HERE / "worker.py"),
        f"--project={args.project}",
        f"--data={args.data}",
        f"--out={out}",
        f"--variant={variant}",
        f"--model={model}",
        f"--batch-size={batch}",
        f"--device={device}",
        f"--epochs={extra.get('epochs', args.epochs)}",
        f"--steps={extra.get('steps', args.steps)}",
        f"--threads={args.threads}",
    ]
    stdout, _ = run_child(command)
    return tagged(stdout, "BENCH_RESULT")


# --------------------------------------------------------------------------- measurements
def measure_loops(args) -> list[dict]:
    """Every case x variant, ``--repeats`` times, the variant order rotating each repeat."""
    cases = [
        (model, batch, device)
        for device in args.devices
        for model in args.models
        for batch in args.batch_sizes
    ]
    results: dict[tuple, list[dict]] = {}
    for repeat in range(args.repeats):
        for model, batch, device in cases:
            shift = repeat % len(args.variants)
            order = args.variants[shift:] + args.variants[:shift]
            for variant in order:
                name = f"{model}-b{batch}-{device}-{variant}-r{repeat}"
                print(f"  {name}", file=sys.stderr, flush=True)
                result = worker(args, args.work / name, variant, model, batch, device)
                results.setdefault((model, batch, device, variant), []).append(result)
    return summarize(results)


def measure_interleaved(args) -> list[dict]:
    """Per case, the training phase of the plain loop and of the Trainer alternating in one
    process (``worker.run_interleaved``): per-step CPU time and the median of the
    per-round ratios, the first round dropped as warm-up."""
    rows = []
    for device in args.devices:
        for model in args.models:
            for batch in args.batch_sizes:
                name = f"{model}-b{batch}-{device}-interleaved"
                print(f"  {name}", file=sys.stderr, flush=True)
                out = args.work / name
                result = worker(args, out, "interleaved", model, batch, device, epochs=args.rounds)
                plain, trainer = result["plain_cpu_s"][1:], result["trainer_cpu_s"][1:]
                ratios = [t / p for t, p in zip(trainer, plain, strict=True)]
                per_step = 1e6 / result["steps_per_epoch"]
                rows.append(
                    {
                        "case": f"{model} b{batch} {device}",
                        "steps": result["steps_per_epoch"],
                        "plain_us": statistics.median(plain) * per_step,
                        "trainer_us": statistics.median(trainer) * per_step,
                        "ratio": statistics.median(ratios),
                        "rounds": len(plain),
                    }
                )
    return rows


def summarize(results: dict[tuple, list[dict]]) -> list[dict]:
    """Per run, the mean of its steady-state epochs (the first is warm-up), so work done
    every few epochs is counted at its rate; then the median over repeats."""

    def steady(runs: list[dict], key: str) -> float:
        return statistics.median(statistics.fmean(run[key][1:] or run[key]) for run in runs)

    rows = []
    for (model, batch, device, variant), runs in results.items():
        row = {"case": f"{model} b{batch} {device}", "variant": variant}
        row["steps"] = runs[0]["steps_per_epoch"]
        for key in ("epoch_s", "epoch_cpu_s", "train_s", "train_cpu_s", "faults"):
            row[key] = steady(runs, key)
        row["faults_per_step"] = row["faults"] / row["steps"]
        row["steps_per_s"] = row["steps"] / row["train_s"]
        row["peak_rss_mb"] = statistics.median(run["peak_rss_mb"] for run in runs)
        row["runs"] = len(runs)
        rows.append(row)
    plain = {row["case"]: row for row in rows if row["variant"] == "plain"}
    for row in rows:
        base = plain.get(row["case"])
        for key, ratio in (
            ("epoch_s", "ratio"),
            ("epoch_cpu_s", "cpu_ratio"),
            ("train_cpu_s", "train_cpu_ratio"),
        ):
            row[ratio] = row[key] / base[key] if base else None
    return rows


def importtime_top(stderr: str, count: int = 8) -> list[tuple[str, float]]:
    """The slowest top-level imports in ``-X importtime`` output (cumulative seconds)."""
    top = []
    for line in stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", line)
        if match:  # no indentation before the name: imported by the program itself
            top.append((match.group(2).strip(), int(match.group(1)) / 1e6))
    return sorted(top, key=lambda item: -item[1])[:count]


def measure_startup(args, train_args: list[str], label: str) -> dict:
    """Phases of ``python train.py`` up to the first training step (median of repeats),
    plus the slowest imports from one ``-X importtime`` run."""
    probe = [sys.executable, str(HERE / "startup_probe.py"), str(args.project), *train_args]
    floor = [sys.executable, str(HERE / "startup_floor.py")]
    runs, floors = [], []
    for _ in range(args.startup_repeats):  # interleaved: load changes hit both alike
        for command, into in ((probe, runs), (floor, floors)):
            env = {"BENCH_SPAWN_TIME": repr(time.time())}
            stdout, _ = run_child(command, env=env)
            into.append(tagged(stdout, "BENCH_STARTUP"))
    baseline = []
    for _ in range(args.startup_repeats):
        started = time.time()
        run_child([sys.executable, "-c", "pass"], tty=False)
        baseline.append(time.time() - started)
    marks = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
    env = {"BENCH_SPAWN_TIME": repr(time.time())}
    command = [sys.executable, "-X", "importtime", *probe[1:]]
    _, stderr = run_child(command, env=env, tty=False)
    return {
        "label": label,
        "marks": marks,
        "floor": {name: statistics.median(run[name] for run in floors) for name in floors[0]},
        "python_bare_s": statistics.median(baseline),
        "top_imports": importtime_top(stderr),
    }


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure_whole(args) -> dict:
    """Whole processes, spawn to exit: ``python train.py experiment=mnist_mlp`` (through
    ``startup_probe.py`` with ``BENCH_WHOLE=1``, which only notes when steps run) against
    ``whole_plain.py``, the hand-written script, on the same files and epochs; medians of
    ``--whole-repeats`` interleaved pairs. Wall times (first step, last step, exit) and the
    CPU time of each process."""
    epochs = str(args.whole_epochs)
    train_args = [
        "experiment=mnist_mlp",
        f"data.root={args.data}",
        f"trainer.epochs={epochs}",
        f"output_dir={args.work / 'whole_run'}",
        "overwrite=true",
    ]
    commands = {
        "train.py": [
            sys.executable,
            str(HERE / "startup_probe.py"),
            str(args.project),
            *train_args,
        ],
        "plain": [
            sys.executable,
            str(HERE / "whole_plain.py"),
            str(args.data),
            epochs,
            str(args.work / "whole_plain"),
        ],
    }
    runs: dict[str, list[dict]] = {name: [] for name in commands}
    for repeat in range(args.whole_repeats):
        order = list(commands) if repeat % 2 == 0 else list(commands)[::-1]
        for name in order:
            cpu_before, spawned = children_cpu(), time.time()
            stdout, _ = run_child(
                commands[name], env={"BENCH_SPAWN_TIME": repr(spawned), "BENCH_WHOLE": "1"}
            )
            marks = tagged(stdout, "BENCH_WHOLE")
            marks["exit"] = time.time() - spawned
            marks["cpu"] = children_cpu() - cpu_before
            runs[name].append(marks)
    return {
        name: {key: statistics.median(run[key] for run in found) for key in found[0]}
        for name, found in runs.items()
    }


def peak_rss_of_run(args, train_args: list[str]) -> tuple[float, float]:
    """(peak RSS MiB, wall seconds) of a whole ``python train.py`` run."""
    started = time.time()
    process = subprocess.Popen(
        [sys.executable, "train.py", *train_args],
        cwd=args.project,
        env={**os.environ, **THREADS_ENV},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"train.py {' '.join(train_args)} failed")
    return usage.ru_maxrss / 1024, time.time() - started


def measure_memory(args) -> dict:
    """Peak RSS of the default run and the MNIST run; RSS after each of 10 epochs."""
    default_args = [f"output_dir={args.work / 'default_run'}"]
    mnist_args = [
        "experiment=mnist_mlp",
        f"data.root={args.data}",
        f"output_dir={args.work / 'mnist_run'}",
    ]
    if args.quick:
        default_args.append("trainer.epochs=3")
        mnist_args.append("trainer.epochs=1")
    default_rss, default_wall = peak_rss_of_run(args, default_args)
    mnist_rss, mnist_wall = peak_rss_of_run(args, mnist_args)
    epochs = 10
    growth = worker(
        args,
        args.work / "rss_epochs",
        "trainer",
        "mlp",
        256,
        "cpu",
        epochs=epochs,
        steps=args.rss_steps,
    )
    return {
        "default_peak_mb": default_rss,
        "default_wall_s": default_wall,
        "mnist_peak_mb": mnist_rss,
        "mnist_wall_s": mnist_wall,
        "rss_per_epoch_mb": growth["rss_mb"],
        "rss_steps_per_epoch": growth["steps_per_epoch"],
    }


# --------------------------------------------------------------------------- report
def fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def report(args, loops, interleaved, startup, memory, datapath, whole=None) -> str:
    import torch

    parts = [
        f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, "
        f"{'CUDA ' + torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU'}; "
        f"torch {torch.__version__}, Python {platform.python_version()}; "
        f"date {time.strftime('%Y-%m-%d')}; torch threads per process: "
        f"{args.threads or 'default'}; malloc thresholds: {args.malloc}",
        f"{args.repeats} repeat(s) x {args.epochs} epochs; per run the mean of the epochs "
        f"after the first (warm-up), then the median over repeats; {args.steps or 'all'} "
        "train steps per epoch.",
        "",
        table(
            COLUMNS,
            [
                [
                    row["case"],
                    row["variant"],
                    f"{row['steps_per_s']:.0f}",
                    f"{row['epoch_s']:.2f}",
                    fmt(row["ratio"], ".3f"),
                    fmt(row["cpu_ratio"], ".3f"),
                    fmt(row["train_cpu_ratio"], ".3f"),
                    f"{row['faults_per_step']:.0f}",
                    f"{row['peak_rss_mb']:.0f}",
                ]
                for row in loops
            ],
        ),
    ]
    if interleaved:
        parts += [
            "",
            "training phase in one process, plain loop and Trainer alternating on the same "
            f"model and DataLoader ({args.steps or 'all'} steps per round; CPU time; ratio = "
            "median of the per-round ratios, the first round dropped):",
            "",
            table(
                ["case", "plain us/step", "Trainer us/step", "Trainer / plain", "rounds"],
                [
                    [
                        row["case"],
                        f"{row['plain_us']:.0f}",
                        f"{row['trainer_us']:.0f}",
                        f"{row['ratio']:.3f}",
                        str(row["rounds"]),
                    ]
                    for row in interleaved
                ],
            ),
        ]
    if datapath:
        factor = datapath["pil_s"] / datapath["tensor_s"]
        parts += [
            "",
            f"data path, one pass over {datapath['items']} training images at batch "
            f"{args.datapath_batch}: in-memory tensors {datapath['tensor_s']:.2f} s, "
            f"torchvision per-item PIL {datapath['pil_s']:.2f} s: factor {factor:.1f}x",
        ]
    for item in startup:
        marks, floor = item["marks"], item["floor"]
        phases, previous = [], 0.0
        for name, at in marks.items():
            phases.append([name, f"{at - previous:.2f}", f"{at:.2f}"])
            previous = at
        parts += [
            "",
            f"start-up, {item['label']}: `python train.py` to the first training step "
            f"{marks['first_step']:.2f} s (bare `python -c pass`: {item['python_bare_s']:.2f} s)",
            "",
            f"floor, a hand-written script (`startup_floor.py`: import torch, MLP, Adam, one "
            f"forward): {floor['first_step']:.2f} s, of which import torch "
            f"{floor['imports']:.2f} s and building Adam (torch._dynamo) "
            f"{floor['optimizer'] - floor['imports']:.2f} s; the project adds "
            f"{marks['first_step'] - floor['first_step']:+.2f} s",
            "",
            table(["phase", "s", "cumulative s"], phases),
            "",
            "slowest top-level imports (-X importtime, inflated by the tracing): "
            + ", ".join(f"{name} {sec:.2f} s" for name, sec in item["top_imports"]),
        ]
    if whole:
        plain, trainer = whole["plain"], whole["train.py"]
        first = trainer["first_step"] - plain["first_step"]
        after = (trainer["exit"] - trainer["last_step"]) - (plain["exit"] - plain["last_step"])
        rows = []
        for name, marks in whole.items():
            cpu_after = marks["cpu"] - marks["last_step_cpu"]
            rows.append(
                [
                    name,
                    f"{marks['first_step']:.2f} / {marks['first_step_cpu']:.2f}",
                    f"{marks['last_step'] - marks['first_step']:.2f} / "
                    f"{marks['last_step_cpu'] - marks['first_step_cpu']:.2f}",
                    f"{marks['exit'] - marks['last_step']:.2f} / {cpu_after:.2f}",
                    f"{marks['exit']:.2f} / {marks['cpu']:.2f}",
                    f"{marks['exit'] / plain['exit']:.3f}",
                    f"{marks['cpu'] / plain['cpu']:.3f}",
                ]
            )
        cpu_first = trainer["first_step_cpu"] - plain["first_step_cpu"]
        cpu_after = (trainer["cpu"] - trainer["last_step_cpu"]) - (
            plain["cpu"] - plain["last_step_cpu"]
        )
        parts += [
            "",
            f"whole process, {args.whole_epochs} epochs of `experiment=mnist_mlp` "
            f"({args.data_size} images, MLP, batch 64) against the hand-written script "
            f"`whole_plain.py`, same files (median of {args.whole_repeats}; seconds, wall "
            f"since spawn / CPU of the process): time to the first step {first:+.2f} s wall, "
            f"{cpu_first:+.2f} s CPU over plain; after the last step {after:+.2f} s wall, "
            f"{cpu_after:+.2f} s CPU",
            "",
            table(
                [
                    "script",
                    "to first step",
                    "first to last step",
                    "after last step",
                    "total",
                    "wall / plain",
                    "CPU / plain",
                ],
                rows,
            ),
        ]
    if memory:
        rss = memory["rss_per_epoch_mb"]
        parts += [
            "",
            f"memory: default run (`python train.py`) peak RSS {memory['default_peak_mb']:.0f} MiB "
            f"({memory['default_wall_s']:.1f} s); MNIST run (experiment=mnist_mlp, "
            f"{args.data_size} images) peak RSS {memory['mnist_peak_mb']:.0f} MiB "
            f"({memory['mnist_wall_s']:.1f} s)",
            f"RSS after each of {len(rss)} epochs (Trainer, mlp b256, "
            f"{memory['rss_steps_per_epoch']} steps/epoch), MiB: "
            + " ".join(f"{value:.0f}" for value in rss)
            + f"; growth epoch 2 -> {len(rss)}: {rss[-1] - rss[1]:+.1f} MiB",
        ]
    return "\n".join(parts)


# --------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer steps, one repeat")
    parser.add_argument("--project", type=Path, help="a baked project (default: bake one)")
    parser.add_argument("--work-dir", type=Path, help="where data and runs go (default: temp)")
    parser.add_argument("--models", default="mlp,cnn")
    parser.add_argument("--batch-sizes", default="32,256")
    parser.add_argument("--devices", default=None, help="default: cpu, plus cuda if present")
    parser.add_argument("--variants", default=None, help="default: plain,trainer[,lightning]")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--epochs",
        type=int,
        default=6,
        help="per run; the first is warm-up, the 5th draws the Trainer's grid and histograms",
    )
    parser.add_argument("--steps", type=int, default=400, help="train steps per epoch; 0 = all")
    parser.add_argument("--data-size", type=int, default=60000, help="training images written")
    parser.add_argument(
        "--rounds", type=int, default=12, help="rounds of the interleaved training-phase check"
    )
    parser.add_argument("--no-interleaved", action="store_true")
    parser.add_argument(
        "--malloc",
        choices=["fixed", "default"],
        default="fixed",
        help="glibc allocator thresholds for every child (see main)",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads; 0 = torch default")
    parser.add_argument("--rss-steps", type=int, default=0, help="steps/epoch of the RSS check")
    parser.add_argument("--startup-repeats", type=int, default=3)
    parser.add_argument("--datapath-batch", type=int, default=256)
    parser.add_argument("--no-startup", action="store_true")
    parser.add_argument(
        "--whole-epochs", type=int, default=3, help="epochs of the whole-process check"
    )
    parser.add_argument("--whole-repeats", type=int, default=3)
    parser.add_argument("--no-whole", action="store_true")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--no-datapath", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the raw numbers here")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.epochs, args.steps = 1, 2, min(args.steps or 100, 100)
        args.rounds = 3
        args.startup_repeats, args.rss_steps = 1, args.rss_steps or 20
        args.whole_repeats = 1
    args.models = args.models.split(",")
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    args.devices = (args.devices or ("cpu,cuda" if cuda_available() else "cpu")).split(",")
    default_variants = "plain,trainer" + (",lightning" if has_lightning() else "")
    args.variants = (args.variants or default_variants).split(",")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads > 0:
        # Oversubscribed OpenMP threads spin and wreck timings on a shared machine.
        THREADS_ENV["OMP_NUM_THREADS"] = str(args.threads)
    if args.malloc == "fixed":
        # glibc moves its mmap/trim thresholds as a process frees memory, so whether a big
        # tensor gets fresh (faulting) pages depends on the heap's history: two processes
        # running the same loop differed by 20 % and 1.6x the page faults. Fixed
        # thresholds give every variant the same allocator; --malloc default measures
        # glibc's own behaviour.
        THREADS_ENV["MALLOC_MMAP_THRESHOLD_"] = str(32 * 2**20)
        THREADS_ENV["MALLOC_TRIM_THRESHOLD_"] = str(4 * 2**30)
    with tempfile.TemporaryDirectory(prefix="bench-") as temp:
        args.work = (args.work_dir or Path(temp)).resolve()
        args.work.mkdir(parents=True, exist_ok=True)
        if args.project is None:
            print("baking the default project...", file=sys.stderr, flush=True)
            args.project = bake(args.work / "baked")
        args.project = args.project.resolve()
        print(f"writing {args.data_size} MNIST-format images...", file=sys.stderr, flush=True)
        args.data = write_idx(args.work / "data", args.data_size, max(args.data_size // 6, 100))
        print("timing the loops:", file=sys.stderr, flush=True)
        loops = measure_loops(args)
        interleaved = None
        if not args.no_interleaved:
            print("the training phase, interleaved in one process:", file=sys.stderr, flush=True)
            interleaved = measure_interleaved(args)
        datapath = None
        if not args.no_datapath:
            print("data path...", file=sys.stderr, flush=True)
            datapath = worker(
                args, args.work / "datapath", "datapath", "mlp", args.datapath_batch, "cpu"
            )
        startup = []
        if not args.no_startup:
            print("start-up...", file=sys.stderr, flush=True)
            out = f"output_dir={args.work / 'startup_run'}"
            # overwrite=true: each probe run stops at its first step in the same folder
            startup.append(measure_startup(args, [out, "overwrite=true"], "default project"))
        whole = None
        if not args.no_whole:
            print("whole processes...", file=sys.stderr, flush=True)
            whole = measure_whole(args)
        memory = None
        if not args.no_memory:
            print("memory...", file=sys.stderr, flush=True)
            memory = measure_memory(args)
        print(report(args, loops, interleaved, startup, memory, datapath, whole))
        if args.json:
            raw = {
                "loops": loops,
                "interleaved": interleaved,
                "startup": startup,
                "memory": memory,
                "datapath": datapath,
                "whole": whole,
            }
            args.json.write_text(json.dumps(raw, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
