"""A web page to try a trained model: upload an image (or draw a digit) and see its
top-k classes with their probabilities. Needs the optional demo extra:
``pip install -e ".[demo]"``.

    python demo.py checkpoint=runs/<run>/checkpoints/best.pt [top_k=5] [port=7860]
        [host=127.0.0.1] [key=value ...]

``checkpoint`` is anything predict.py accepts: a ``.pt`` checkpoint, ``.onnx`` or
``.safetensors`` from export.py. Every input goes through predict.py's own checks and
preprocessing (``inference.inputs.classify``), so the page and predict.py give the same
classes and probabilities, and a bad file gets the same ``error:`` line, shown on the page.
Models whose classes are the ten digits (digits, MNIST) also get a sketch pad.
The page listens on ``host`` (default 127.0.0.1: this machine only) and ``port``;
its HTTP API (``/classify``, ``/classify_drawing``) serves ``gradio_client``.
"""

import importlib.util
import os
import sys
import tempfile
from pathlib import Path

from {{cookiecutter.project_slug}}.config import ConfigError, parse_cli
from {{cookiecutter.project_slug}}.inference.exported import Predictor, load_predictor
from {{cookiecutter.project_slug}}.inference.inputs import classify
from {{cookiecutter.project_slug}}.utils.errors import (
    UserError,
    error_boundary,
    user_message,
)

INSTALL_HINT = "pip install -e '.[demo]'"
DIGIT_CLASSES = [str(digit) for digit in range(10)]
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


def top_classes(predictor: Predictor, path: Path, shown_name: str) -> dict[str, float]:
    """Class -> probability for one input file, through predict.py's checks and
    preprocessing. Errors name ``shown_name`` (the user's file), not the server's copy."""
    try:
        names, probabilities = classify(predictor, [path])
    except UserError as error:
        raise UserError(user_message(error).replace(str(path), shown_name)) from None
    if len(names) != 1:
        raise UserError(
            f"{shown_name} holds {len(names)} inputs; the demo classifies one at a time "
            "(use predict.py for a batch)"
        )
    return dict(zip(predictor.classes, probabilities[0].tolist(), strict=True))


def drawing_to_image(drawing, folder: Path) -> Path:
    """A sketch (dark strokes on a light or transparent canvas) -> a PNG of a light digit
    on black, cropped to the strokes and centred with a margin, like the digits datasets'
    images; predict.py's preprocessing then resizes and normalizes it."""
    from PIL import Image, ImageOps

    sketch = drawing.get("composite") if isinstance(drawing, dict) else drawing
    if sketch is None:
        raise UserError("nothing drawn: draw a digit on the sketch pad first")
    canvas = Image.new("RGBA", sketch.size, "white")
    canvas.alpha_composite(sketch.convert("RGBA"))
    ink = ImageOps.invert(canvas.convert("L"))
    box = ink.point(lambda value: 255 if value > 32 else 0).getbbox()
    if box is None:
        raise UserError("nothing drawn: draw a digit on the sketch pad first")
    ink = ink.crop(box)
    side = int(max(ink.size) * 1.25)  # the datasets leave a thin border round the digit
    square = Image.new("L", (side, side), 0)
    square.paste(ink, ((side - ink.width) // 2, (side - ink.height) // 2))
    path = folder / "drawing.png"
    square.save(path)
    return path


def build_app(predictor: Predictor, top_k: int, model_name: str):
    """The Gradio page: an upload (and, for digit models, a sketch pad) -> top-k classes."""
    import gradio as gr

    def checked(function):
        def run(*args):
            try:
                return function(*args)
            except UserError as error:  # predict.py's one line, shown on the page
                raise gr.Error(f"error: {user_message(error)}", print_exception=False) from None

        return run

    @checked
    def classify_upload(path):
        if not path:
            raise UserError("no file given: upload a PNG or JPG image (or a .pt tensor)")
        path = Path(path)
        return top_classes(predictor, path, path.name)

    @checked
    def classify_drawing(drawing):
        with tempfile.TemporaryDirectory() as folder:
            return top_classes(predictor, drawing_to_image(drawing, Path(folder)), "the drawing")

    shape = "x".join(map(str, predictor.preprocessing["input_shape"]))
    with gr.Blocks(title=f"{model_name} demo") as app:
        gr.Markdown(
            f"## Try the model `{model_name}`\n"
            f"{len(predictor.classes)} classes; inputs are prepared as in training ({shape})."
        )
        with gr.Row():
            with gr.Column():
                with gr.Tab("Upload"):
                    upload = gr.File(label="Image (PNG/JPG) or .pt tensor", type="filepath")
                if predictor.classes == DIGIT_CLASSES:
                    with gr.Tab("Draw"):
                        sketch = gr.Sketchpad(type="pil", label="Draw a digit")
                        draw = gr.Button("Classify drawing", variant="primary")
            result = gr.Label(num_top_classes=top_k, label=f"Top {top_k} classes")
        upload.upload(classify_upload, upload, result, api_name="classify")
        upload.clear(lambda: None, None, result, api_name=False)
        if predictor.classes == DIGIT_CLASSES:
            draw.click(classify_drawing, sketch, result, api_name="classify_drawing")
    return app


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
    app = build_app(predictor, min(top_k, len(predictor.classes)), Path(args["checkpoint"]).name)
    try:
        app.launch(server_name=host, server_port=port, show_error=True, quiet=False)
    except OSError as error:  # the port is taken, or the host is not this machine's
        raise UserError(f"cannot serve on {host}:{port} ({error}); choose another port=") from None
    return 0


if __name__ == "__main__":
    sys.exit(main())
