"""Export a trained checkpoint for inference.

    python export.py checkpoint=runs/<run>/checkpoints/best.pt format=onnx
        [output=model.onnx] [overwrite=true] [tolerance=1e-4] [key=value ...]

``format`` is one of:

- ``safetensors``: the weights, loadable without pickle, with the metadata (classes,
  preprocessing, config) as JSON in the file's own header: one file, one rename;
- ``onnx``: an ONNX graph (dynamic batch size) with the same metadata inside, for ONNX
  Runtime or any other ONNX runtime;
- ``torch_export``: a ``torch.export`` program (``.pt2``) for ``torch.export.load``.

``output`` defaults to the checkpoint's path with the format's suffix. Before anything
is written, every export is run on random inputs and compared with the PyTorch model:
the largest absolute difference of the logits is printed and must not exceed
``tolerance`` (default 1e-4). predict.py accepts the ``.onnx`` and ``.safetensors`` files
as ``checkpoint=``. The ONNX and safetensors tools are an optional extra:
``pip install -e '.[export]'``. Existing files are replaced only with ``overwrite=true``.
"""

import sys
from pathlib import Path

from {{cookiecutter.project_slug}}.config import ConfigError, parse_cli
from {{cookiecutter.project_slug}}.inference import load_trained
from {{cookiecutter.project_slug}}.inference.export import (
    PACKAGES,
    export_model,
    parse_format,
    parse_output,
    parse_tolerance,
)
from {{cookiecutter.project_slug}}.inference.exported import require_packages
from {{cookiecutter.project_slug}}.saver import (
    check_output_file,
    parse_overwrite,
    write_output,
)
from {{cookiecutter.project_slug}}.utils.errors import error_boundary

KEYS = ("checkpoint", "format", "output", "overwrite", "tolerance")


@error_boundary
def main(argv: list[str] | None = None) -> int:
    _, overrides, args = parse_cli(argv, script_keys=KEYS)
    if "checkpoint" not in args:
        raise ConfigError("missing checkpoint=<a .pt checkpoint written by train.py>")
    checkpoint = Path(args["checkpoint"])
    export_format = parse_format(args.get("format"))
    tolerance = parse_tolerance(args.get("tolerance"))
    output = parse_output(args.get("output"), checkpoint, export_format)
    overwrite = parse_overwrite(args.get("overwrite"))
    require_packages(PACKAGES[export_format], f"format={export_format}")
    check_output_file(output, overwrite)
    trained = load_trained(checkpoint, overrides)
    exported = export_model(trained, export_format, output, tolerance)
    write_output(output, exported.data)
    print(f"{export_format}: wrote {output}")
    print(
        f"checked on {exported.checked_inputs} inputs: max abs difference of the logits "
        f"vs PyTorch {exported.max_abs_diff:.3g} (tolerance {tolerance:g})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
