"""Predict classes for new images (or a saved tensor) with a trained checkpoint.

    python predict.py checkpoint=runs/<run>/checkpoints/best.pt input=<image, folder or .pt>
        [output=predictions.csv] [key=value ...]
{%- if cookiecutter.profile == "full" %}

``checkpoint`` may also be a model written by export.py: ``best.onnx`` (run by ONNX
Runtime) or ``best.safetensors`` (metadata in its header). They record
the same classes and preprocessing as the checkpoint, so inputs are prepared identically.
{%- endif %}

``input`` is a PNG/JPG/WebP image (the suffixes training accepts), a ``.pt`` file, a
``.csv`` of feature rows (models trained on ``data.name=csv``: the columns the checkpoint
records, any order, other columns ignored), or a folder of them (not recursive).
A model trained on ``data.name=image_folder`` gets each image through the eval
transforms its checkpoint stored (decoded by torchvision, any size). Other images are
converted to grayscale (RGB for 3-channel models), resized to the model's input size,
scaled to [0, 1] and normalized with the mean/std that the checkpoint recorded from the
training data, so they are prepared exactly like the training set.
A ``.pt`` file (read with ``weights_only=True``) holds a tensor that already IS a
model input: ``(C, H, W)`` or ``(N, C, H, W)``, normalized like the data module's output.

Prints one line per input and writes a CSV (file, class, probability):

- ``output=<file>`` given: to that file; an existing file is replaced only with
  ``overwrite=true``;
- otherwise, when the checkpoint lies in a run directory that train.py wrote (marked by
  its ``<run>/.run`` file, not guessed from file names): to
  ``<run>/predictions.csv``, the run's own file (the output says when it replaced one);
- otherwise: nowhere (never the current folder); the output says how to save them.

Everything is checked before the CSV is written: the output path, the checkpoint (a
training checkpoint with finite weights that fit its model) and every input (readable,
not empty, finite, at most ``MAX_IMAGE_PIXELS`` pixels per image: no decompression
bombs); any problem is one ``error:`` line naming the file, exit code 1, and nothing
written.
Overrides such as ``trainer.device=cpu`` apply to the checkpoint's config.
"""

import sys
from pathlib import Path

from {{cookiecutter.project_slug}}.config import ConfigError, parse_cli
{%- if cookiecutter.profile == "full" %}
from {{cookiecutter.project_slug}}.inference import exported  # noqa: F401  reads export.py's files
{%- endif %}
from {{cookiecutter.project_slug}}.inference.inputs import (
    predict,
    predictions_destination,
)
from {{cookiecutter.project_slug}}.saver import parse_overwrite
from {{cookiecutter.project_slug}}.utils.errors import error_boundary


@error_boundary
def main(argv: list[str] | None = None) -> int:
    keys = ("checkpoint", "input", "output", "overwrite")
    _, overrides, args = parse_cli(argv, script_keys=keys)
    hints = {
        "checkpoint": "a .pt checkpoint{% if cookiecutter.profile == "full" %}, .onnx or .safetensors{% endif %}",
        "input": "an image, folder, .pt or .csv",
    }
    for key, hint in hints.items():
        if key not in args:
            raise ConfigError(f"missing {key}=<{hint}>")
    checkpoint = Path(args["checkpoint"])
    overwrite = parse_overwrite(args.get("overwrite"))
    given = Path(args["output"]) if "output" in args else None
    output = predictions_destination(checkpoint, given, overwrite)
    replacing = given is None and output is not None and output.exists()
    rows = predict(checkpoint, Path(args["input"]), output, overrides, overwrite or replacing)
    width = max(len(name) for name, _, _ in rows)
    for name, label, probability in rows:
        print(f"{name:<{width}}  {label}  ({probability:.4f})")
    if output is None:
        print(
            "predictions not saved: the checkpoint is not in a run directory; "
            "give output=<file.csv> to save them"
        )
    else:
        note = " (replaced the previous one)" if replacing else ""
        print(f"predictions written to {output}{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
