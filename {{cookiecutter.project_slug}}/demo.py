"""A web page to try a trained model: upload an image (or draw a digit), or for a model
trained on a table (``data.name=csv``) type a row of feature values, and see its top-k
classes with their probabilities. Needs the optional demo extra:
``pip install -e ".[demo]"``.

    python demo.py checkpoint=runs/<run>/checkpoints/best.pt [top_k=5] [port=7860]
        [host=127.0.0.1] [key=value ...]

``checkpoint`` is anything predict.py accepts: a ``.pt`` checkpoint, ``.onnx`` or
``.safetensors`` from export.py. Every input goes through predict.py's own checks and
preprocessing (``inference.inputs.classify``), so the page and predict.py give the same
classes and probabilities, and a bad file gets the same ``error:`` line, shown on the page.
Models whose classes are the ten digits (digits, MNIST) also get a sketch pad. Table
models get one text field per feature column instead; the row is written as a one-row
CSV and read as predict.py reads a ``.csv``, so a value that is not a finite number gets
predict.py's error line too.
The page listens on ``host`` (default 127.0.0.1: this machine only) and ``port``;
its HTTP API (``/classify``, ``/classify_drawing``; ``/classify_row`` for table models)
serves ``gradio_client``. The page itself is built in ``inference/demo_page.py``.
"""

import importlib.util
import os
import sys
from pathlib import Path

from {{cookiecutter.project_slug}}.config import ConfigError, parse_cli
from {{cookiecutter.project_slug}}.inference import demo_page
from {{cookiecutter.project_slug}}.inference.exported import load_predictor
from {{cookiecutter.project_slug}}.utils.errors import UserError, error_boundary

INSTALL_HINT = "pip install -e '.[demo]'"
DEFAULT_TOP_K = 5


def parse_int(args: dict, key: str, default: int, low: int, high: int) -> int:
    """A whole-number script argument within [low, high]; one line naming it otherwise."""
    text = args.get(key)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ConfigError(f"{key}={text!r} is not allowed; use a whole number from {low} to {high}")
    return value


@error_boundary
def main(argv: list[str] | None = None) -> int:
    keys = ("checkpoint", "top_k", "port", "host")
    _, overrides, args = parse_cli(argv, script_keys=keys)
    if "checkpoint" not in args:
        raise ConfigError("missing checkpoint=<a .pt checkpoint, .onnx or .safetensors>")
    top_k = parse_int(args, "top_k", DEFAULT_TOP_K, 1, 1000)
    port = parse_int(args, "port", 7860, 1, 65535)
    host = args.get("host", "127.0.0.1")
    if importlib.util.find_spec("gradio") is None:
        raise UserError(f"demo.py needs gradio (the optional demo extra): {INSTALL_HINT}")
    predictor = load_predictor(Path(args["checkpoint"]), overrides)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home
    top_k = min(top_k, len(predictor.classes))
    with demo_page.received_files_folder():  # removed when the demo stops
        app = demo_page.build_app(predictor, top_k, Path(args["checkpoint"]).name)
        try:
            # show_error=False: a client sees the error lines the page raises itself
            # (gr.Error, naming its own file), never gradio's or a bug's text, which can
            # name the server's folders ("Cannot move /srv/project/README.md ...").
            app.launch(server_name=host, server_port=port, show_error=False, quiet=False)
        except OSError as error:  # the port is taken, or the host is not this machine's
            message = f"cannot serve on {host}:{port} ({error}); choose another port="
            raise UserError(message) from None
    return 0


if __name__ == "__main__":
    sys.exit(main())
