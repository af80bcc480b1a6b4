"""Benchmark the image_folder data path: images/s of decode + augment + collate (no model).

    python benchmarks/image_folder.py                  # 2,000 JPEGs, batch 64, 2 workers
    python benchmarks/image_folder.py --images 500 --repeats 1 --workers 0
    python benchmarks/image_folder.py --project /path/to/baked/my_project

Variants, each over the same JPEG files, with the same batch size and workers, each
timed in its own subprocess for one full pass over the training images:

- ``generated``: the generated project's ``image_folder`` data module (torchvision.io
  decoding to uint8, v2 RandomResizedCrop(224) + flip, ToDtype + Normalize, per-sample
  seeding), its own training DataLoader;
- ``course``: the plain course code: ``torchvision.datasets.ImageFolder`` (PIL) with
  ``transforms.Compose([RandomResizedCrop(224), RandomHorizontalFlip(), ToTensor(),
  Normalize(...)])`` and a default DataLoader;
- ``decode``: ``decode_image(read_file(path))`` alone in the same workers, nothing but
  the image size sent back (the limit: no augmentation, no collate, no transfer).

Prints images/s (median over repeats, variants interleaved) and the ratios
generated/course and generated/decode. Timings are printed, never asserted.

Start-up (``--startup``): seconds from spawning a process to its first training step,
on folders of 32x32 PNGs in 10 classes (``--sizes``; written once into ``--png-root``
and reused), for

- ``ImageFolder``: ``torchvision.datasets.ImageFolder`` and a DataLoader (batch 32, 2
  workers, RandomResizedCrop(64) + flip): its first batch;
- ``train.py`` of ``--project`` (and of ``--before``, e.g. a bake of older code):
  ``experiment=images trainer.fast_dev_run=true`` through ``startup_probe.py``, its
  first ``training_step``; a first start (no cache: the project's cache folder empty,
  ``<root>/.cache`` removed) then a second start (whatever the first one left).

    python benchmarks/image_folder.py --startup --sizes 3000,30000 --png-root /tmp/pngs \
        --project /tmp/new/my_pytorch_project --before /tmp/old/my_pytorch_project
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE.parent
VARIANTS = ("generated", "course", "decode")
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def bake(where: Path) -> Path:
    from cookiecutter.main import cookiecutter

    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(where)))


def write_jpegs(root: Path, n: int, classes: int = 10, seed: int = 0) -> Path:
    """``n`` JPEGs of 256-500 px (each side drawn separately) in ``classes`` folders:
    smooth colour gradients plus noise, so they compress like photos, not like noise."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    for i in range(n):
        folder = root / f"class{i % classes}"
        folder.mkdir(parents=True, exist_ok=True)
        height, width = (int(v) for v in rng.integers(256, 501, size=2))
        ys, xs = np.mgrid[0:height, 0:width]
        colour = rng.integers(0, 256, size=3)
        pixels = np.stack([(ys * c / height + xs * (255 - c) / width) / 2 for c in colour], -1)
        pixels = pixels + rng.normal(0, 12, (height, width, 3))
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(
            folder / f"{i:05d}.jpg", quality=90
        )
    return root


# --------------------------------------------------------------------------- one variant
def loader_generated(project: Path, root: Path, batch: int, workers: int):
    sys.path.insert(0, str(project))
    package = next(p.parent.parent.name for p in project.glob("*/data/image_folder.py"))
    config_module = __import__(f"{package}.config", fromlist=["load_config"])
    data_module = __import__(f"{package}.data", fromlist=["build_datamodule"])
    config = config_module.load_config(
        overrides=[
            "data.name=image_folder",
            f"data.root={root}",
            "data.image_size=224",
            "data.channels=3",
            "data.flip=true",  # the course's RandomHorizontalFlip: the same work
            "data.normalize=imagenet",
            f"data.batch_size={batch}",
            f"data.num_workers={workers}",
        ]
    )
    datamodule = data_module.build_datamodule(config.data, seed=0)
    loader = datamodule.train_dataloader()
    datamodule.set_epoch(1)
    return loader


def loader_course(root: Path, batch: int, workers: int):
    import torch
    from torchvision import datasets, transforms

    transform = transforms.Compose(
        [
            transforms.RandomResizedCrop(224),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize(MEAN, STD),
        ]
    )
    dataset = datasets.ImageFolder(str(root / "train"), transform=transform)
    return torch.utils.data.DataLoader(dataset, batch_size=batch, shuffle=True, num_workers=workers)


class DecodeOnly:
    def __init__(self, files):
        self.files = files

    def __len__(self):
        return len(self.files)

    def __getitem__(self, index):
        from torchvision.io import ImageReadMode, decode_image, read_file

        image = decode_image(read_file(self.files[index]), mode=ImageReadMode.RGB)
        # Only the size goes back: a full-size tensor per item through the workers' queue
        # (one shared-memory segment each) would cost more than the decoding.
        return image.shape[1] * image.shape[2]


def loader_decode(root: Path, batch: int, workers: int):
    import torch

    files = sorted(str(p) for p in (root / "train").rglob("*.jpg"))
    return torch.utils.data.DataLoader(
        DecodeOnly(files), batch_size=batch, shuffle=True, num_workers=workers, collate_fn=list
    )


def measure(variant: str, project: Path, root: Path, batch: int, workers: int) -> dict:
    import warnings

    import torch

    warnings.simplefilter("ignore", DeprecationWarning)  # torchvision.io's TorchCodec notice
    torch.set_num_threads(1)
    if variant == "generated":
        loader = loader_generated(project, root, batch, workers)
    elif variant == "course":
        loader = loader_course(root, batch, workers)
    else:
        loader = loader_decode(root, batch, workers)
    images, started = 0, time.perf_counter()
    for batch_data in loader:
        images += len(batch_data if variant == "decode" else batch_data[0])
    seconds = time.perf_counter() - started
    return {"variant": variant, "images": images, "seconds": seconds, "images/s": images / seconds}


# --------------------------------------------------------------------------- start-up
def write_small_pngs(root: Path, n: int, classes: int = 10, seed: int = 0) -> Path:
    """``n`` 32x32 RGB PNGs, ``n // classes`` in each of ``classes`` folders: a colour
    per class plus noise. Kept: a folder that is already complete is reused."""
    import numpy as np
    from PIL import Image

    if len(list(root.glob("class*/*.png"))) == n - n % classes:
        return root
    rng = np.random.default_rng(seed)
    for c in range(classes):
        folder = root / f"class{c}"
        folder.mkdir(parents=True, exist_ok=True)
        colour = rng.integers(0, 256, 3)
        for i in range(n // classes):
            pixels = colour + rng.normal(0, 30, (32, 32, 3))
            Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(folder / f"{i:06d}.png")
    return root


def imagefolder_first_batch(root: Path) -> dict:
    """In the child: the course's ImageFolder loop up to its first batch."""
    spawned = float(os.environ["BENCH_SPAWN_TIME"])
    import torch
    from torchvision import datasets, transforms

    torch.set_num_threads(1)
    transform = transforms.Compose(
        [
            transforms.RandomResizedCrop(64),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize(MEAN, STD),
        ]
    )
    dataset = datasets.ImageFolder(str(root), transform=transform)
    listed = time.time() - spawned
    loader = torch.utils.data.DataLoader(dataset, batch_size=32, shuffle=True, num_workers=2)
    next(iter(loader))
    return {"data": listed, "first_step": time.time() - spawned}


def timed_child(command: list[str], env: dict) -> dict:
    """Run ``command`` (it prints ``BENCH_STARTUP {json}``); its marks, in seconds since spawn."""
    import resource

    env = {**os.environ, "OMP_NUM_THREADS": "1", **env, "BENCH_SPAWN_TIME": repr(time.time())}
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_STARTUP "):
            marks = json.loads(line.split(" ", 1)[1])
            # CPU seconds of the process (and its reaped workers): what the shared
            # machine's other jobs disturb far less than the wall clock.
            marks["cpu"] = sum(now[:2]) - sum(used[:2])
            return marks
    raise RuntimeError(f"{command[:3]} exit {proc.returncode}: {proc.stderr[-2000:]}")


def startup(args) -> int:
    """The ``--startup`` table (see the module's docstring)."""
    projects = {"new": args.project}
    if args.before:
        projects["before"] = args.before
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(size) for size in args.sizes.split(",")):
            root = write_small_pngs(args.png_root / str(n), n)
            row = {"images": n}
            shutil.rmtree(root / ".cache", ignore_errors=True)  # older code's stats cache
            row["ImageFolder"] = timed_child(
                [sys.executable, __file__, "--measure-startup", "--root", str(root)], {}
            )
            for label, project in projects.items():
                slug = next(p.parents[1].name for p in project.glob("*/run/fit.py"))
                cache = Path(tmp) / f"cache-{label}-{n}"  # empty: a first start
                shutil.rmtree(root / ".cache", ignore_errors=True)  # older code's stats cache
                for start in ("first", "second"):
                    command = [
                        sys.executable, str(HERE / "startup_probe.py"), str(project),
                        "experiment=images", "trainer.fast_dev_run=true", f"data.root={root}",
                        f"output_dir={Path(tmp) / f'run-{label}-{n}-{start}'}",
                    ]  # fmt: skip
                    env = {f"{slug.upper()}_CACHE_DIR": str(cache)}
                    row[f"{label} {start}"] = timed_child(command, env)
                    marks = row[f"{label} {start}"]
                    print(f"  {n} {label} {start}: {json.dumps(marks)}", flush=True)
                shutil.rmtree(root / ".cache", ignore_errors=True)  # leave the folder as found
            print(f"  {n} ImageFolder: {json.dumps(row['ImageFolder'])}", flush=True)
            rows.append(row)
    starts = [f"{label} {start}" for label in projects for start in ("first", "second")]
    columns = ["ImageFolder", *starts]
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"\nseconds from spawn to the first step (to the data set built), then the CPU "
        f"seconds to the first step; load average at the end {load}:"
    )
    print("| images | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for row in rows:
        cells = [
            f"{row[c]['first_step']:.1f} ({row[c]['data']:.1f}) {row[c]['cpu']:.1f}"
            for c in columns
        ]
        print(f"| {row['images']:,} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


# --------------------------------------------------------------------------- driver
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="a baked project (default: bake one)")
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also save the raw numbers here")
    parser.add_argument("--startup", action="store_true", help="time to the first step")
    parser.add_argument("--sizes", default="3000,30000", help="--startup: images per folder")
    parser.add_argument("--png-root", type=Path, help="--startup: where the PNGs are kept")
    parser.add_argument("--before", type=Path, help="--startup: a second project to compare")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: one variant
    parser.add_argument("--measure-startup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_startup:
        print("BENCH_STARTUP " + json.dumps(imagefolder_first_batch(args.root)), flush=True)
        return 0
    if args.startup:
        if args.project is None or args.png_root is None:
            parser.error("--startup needs --project and --png-root")
        return startup(args)
    if args.measure:
        result = measure(args.measure, args.project, args.root, args.batch_size, args.workers)
        print(json.dumps(result))
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        project = args.project or bake(Path(tmp) / "bake")
        started = time.perf_counter()
        root = Path(tmp) / "images"
        write_jpegs(root / "train", args.images)
        for split in ("val", "test"):  # the data module wants them; not timed
            for folder in sorted((root / "train").iterdir()):
                first = min(folder.glob("*.jpg"))
                (root / split / folder.name).mkdir(parents=True, exist_ok=True)
                shutil.copy(first, root / split / folder.name / first.name)
        print(f"wrote {args.images} JPEGs in {time.perf_counter() - started:.0f} s", flush=True)
        results = {variant: [] for variant in VARIANTS}
        for repeat in range(args.repeats):
            order = VARIANTS[repeat % 3 :] + VARIANTS[: repeat % 3]  # rotate: fair noise
            for variant in order:
                command = [
                    sys.executable, __file__, "--measure", variant, "--project", str(project),
                    "--root", str(root), "--batch-size", str(args.batch_size),
                    "--workers", str(args.workers),
                ]  # fmt: skip
                env = {**os.environ, "OMP_NUM_THREADS": "1"}
                proc = subprocess.run(command, capture_output=True, text=True, env=env)
                if proc.returncode != 0:
                    print(proc.stderr[-3000:], file=sys.stderr)
                    return 1
                result = json.loads(proc.stdout.strip().splitlines()[-1])
                results[variant].append(result["images/s"])
                print(f"  repeat {repeat + 1} {variant:<9} {result['images/s']:8.1f} images/s")
    median = {variant: statistics.median(values) for variant, values in results.items()}
    print(
        f"\nimage folder, {args.images} JPEGs 256-500 px -> 224 px crops, batch "
        f"{args.batch_size}, {args.workers} workers, median of {args.repeats}:"
    )
    print("| variant | images/s |\n|---|---|")
    for variant in VARIANTS:
        print(f"| {variant} | {median[variant]:.1f} |")
    print(f"generated / course: {median['generated'] / median['course']:.2f}x")
    print(f"generated / decode-only: {median['generated'] / median['decode']:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"raw": results, "median": median}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
