"""scikit-learn's handwritten digits as a class-per-folder PNG set, and its linear baseline.

    python benchmarks/digits_folder.py OUT            # writes OUT/<digit>/<n>.png, 32x32
    python benchmarks/digits_folder.py OUT --size 8   # the original 8x8 pixels

The set issue 34 trained on: ``sklearn.datasets.load_digits`` (1,797 grayscale 8x8
images, 17 gray levels), each upscaled to ``--size`` pixels (nearest neighbour, as a
student's quick script would) and written as a PNG in a folder named after its class.
Data no one in this project made, to run the README's First hour on:

    python train.py experiment=images data.root=OUT

Also prints the baseline the run should reach: a multinomial logistic regression on
the original 8x8 pixels, on a shuffled stratified split holding out 20 %.
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def write_folder(out: Path, size: int) -> int:
    """Every digit as ``out/<class>/<index>.png`` (grayscale, ``size`` x ``size``)."""
    digits = load_digits()
    for index, (pixels, target) in enumerate(zip(digits.images, digits.target, strict=True)):
        gray = np.round(pixels * (255 / 16)).astype(np.uint8)  # 0..16 -> 0..255
        image = Image.fromarray(gray, mode="L").resize((size, size), Image.NEAREST)
        folder = out / str(target)
        folder.mkdir(parents=True, exist_ok=True)
        image.save(folder / f"{index:04d}.png")
    return len(digits.target)


def linear_baseline(seed: int = 0) -> float:
    """Test accuracy of a logistic regression on the original 8x8 pixels."""
    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=0.2, stratify=digits.target, random_state=seed
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return float(model.fit(x_train, y_train).score(x_test, y_test))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write (created)")
    parser.add_argument("--size", type=int, default=32, help="side in pixels (default 32)")
    args = parser.parse_args()
    if args.out.exists() and any(args.out.iterdir()):
        raise SystemExit(f"{args.out} is not empty; pick a new folder")
    count = write_folder(args.out, args.size)
    print(f"wrote {count} PNGs of {args.size}x{args.size} to {args.out}")
    scores = [linear_baseline(seed) for seed in range(3)]
    print(
        "linear baseline (logistic regression, 8x8 pixels, 20 % test, seeds 0-2): "
        + ", ".join(f"{s:.4f}" for s in scores)
    )


if __name__ == "__main__":
    main()
