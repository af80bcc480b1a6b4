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


# --------------------------------------------------------------------------- driver
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="a baked project (default: bake one)")
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also save the raw numbers here")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: one variant
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
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
