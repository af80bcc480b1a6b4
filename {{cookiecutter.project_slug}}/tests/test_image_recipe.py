"""The README's recipe for your own images, run as written on a small synthetic set like a
student's first own data: 3 classes of shapes, 60 pictures each, of varied size, place
and colour. It must learn them (test accuracy >= 0.8), not just run."""

import json
import re
import shlex
import sys

import numpy as np
import pytest

from .conftest import PROJECT_ROOT, run_script

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
SHAPES = ("circle", "square", "triangle")


def write_shapes(root, per_class: int = 60, seed: int = 0):
    """``root/<shape>/<i>.png``: one dark filled shape of random colour, size (40-75 % of
    the picture) and place on a light, noisy background; pictures of 48-96 px."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    for shape in SHAPES:
        (root / shape).mkdir(parents=True)
        for i in range(per_class):
            side = int(rng.integers(48, 97))
            background = rng.integers(170, 256, 3)
            noise = rng.normal(0, 12, (side, side, 3))
            image = Image.fromarray(np.clip(background + noise, 0, 255).astype(np.uint8))
            draw = ImageDraw.Draw(image)
            size = side * rng.uniform(0.4, 0.75)
            x, y = rng.uniform(0, side - size, 2)
            box = [x, y, x + size, y + size]
            colour = tuple(int(c) for c in rng.integers(0, 150, 3))
            if shape == "circle":
                draw.ellipse(box, fill=colour)
            elif shape == "square":
                draw.rectangle(box, fill=colour)
            else:
                draw.polygon([(x, y + size), (x + size, y + size), (x + size / 2, y)], fill=colour)
            image.save(root / shape / f"{i:03d}.png")
    return root


def readme_image_recipe() -> list[str]:
    """The arguments of the README's ``python train.py experiment=images ...`` line."""
    match = re.search(r"^python train\.py (experiment=images .*?)(?:\s+#.*)?$", README, re.M)
    assert match, "README has no image recipe (python train.py experiment=images ...)"
    return shlex.split(match.group(1))


@pytest.mark.slow
def test_the_readme_image_recipe_learns_a_small_shapes_set(tmp_path):
    root = write_shapes(tmp_path / "images")
    args = [a for a in readme_image_recipe() if not a.startswith("data.root=")]
    run_dir = tmp_path / "run"
    result = run_script(
        "train.py",
        *args,
        f"data.root={root}",
        f"output_dir={run_dir}",
        "trainer.progress_bar=false",
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = json.loads((run_dir / "test_metrics.json").read_text())["test_accuracy"]
    print(f"shapes set, README recipe: test_accuracy {accuracy:.3f}", file=sys.stderr)
    assert accuracy >= 0.8, result.stdout[-3000:]
