"""demo.py's page: an image upload (and a sketch pad for digit models), or for models
trained on a table (data.name=csv) one field per feature, -> the top-k classes. Every input
becomes a file that goes through predict.py's ``classify`` (its checks, its preprocessing,
its ``error:`` lines). Gradio is imported only when the page is built (the demo extra).

What the page receives stays in a folder of the process's own (``received_files_folder``):
each upload is deleted once answered, anything else gradio keeps there after
``KEEP_SECONDS``, and the whole folder when the demo stops (Ctrl-C, SIGTERM, SIGHUP)."""

import contextlib
import csv
import os
import shutil
import signal
import tempfile
from pathlib import Path

from ..utils.errors import UserError, user_message
from .inputs import classify
from .predictor import Predictor

DIGIT_CLASSES = [str(digit) for digit in range(10)]
KEEP_SECONDS = 600  # gradio deletes what it received this long ago, checking as often
STOP_SIGNALS = [signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]
ROW_NAME = "the row"  # how error lines name a row typed on the page


@contextlib.contextmanager
def received_files_folder():
    """A new folder inside ``GRADIO_TEMP_DIR`` (or the system's temp folder) that is gradio's
    upload folder while the demo serves, removed with all it holds when the demo stops.
    SIGTERM and SIGHUP end the demo as Ctrl-C does: gradio closes its server on the
    KeyboardInterrupt, and the folder goes (by default they would end the process on the
    spot, leaving every upload behind)."""
    parent = os.environ.get("GRADIO_TEMP_DIR")
    if parent:
        Path(parent).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="demo-", dir=parent))
    previous = {number: signal.signal(number, _interrupt) for number in STOP_SIGNALS}
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    try:
        yield folder
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if parent is None:
            os.environ.pop("GRADIO_TEMP_DIR", None)
        else:
            os.environ["GRADIO_TEMP_DIR"] = parent
        shutil.rmtree(folder, ignore_errors=True)


def _interrupt(number, frame):
    raise KeyboardInterrupt


def forget_upload(path: Path) -> None:
    """Delete an answered upload and the folder gradio made for it (named by its hash);
    only inside the demo's own upload folder, never a file elsewhere."""
    folder = os.environ.get("GRADIO_TEMP_DIR")
    if folder and path.resolve().is_relative_to(Path(folder).resolve()):
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # not empty: another upload shares it
            path.parent.rmdir()


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


def row_to_table(values, features: list[str], folder: Path) -> Path:
    """The typed values, unchanged, as a one-row CSV under the feature columns: the file
    predict.py would read, so its checks (numbers only, finite) judge them."""
    path = folder / "row.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(features)
        writer.writerow(["" if value is None else str(value) for value in values])
    return path


def build_app(predictor: Predictor, top_k: int, model_name: str):
    """The Gradio page: an upload (and, for digit models, a sketch pad) -> top-k classes;
    for table models, one text field per feature -> top-k classes."""
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
        try:
            return top_classes(predictor, path, path.name)
        finally:
            forget_upload(path)

    @checked
    def classify_drawing(drawing):
        with tempfile.TemporaryDirectory() as folder:
            return top_classes(predictor, drawing_to_image(drawing, Path(folder)), "the drawing")

    features = predictor.preprocessing.get("features")

    @checked
    def classify_row(*values):
        with tempfile.TemporaryDirectory() as folder:
            return top_classes(predictor, row_to_table(values, features, Path(folder)), ROW_NAME)

    shape = "x".join(map(str, predictor.preprocessing["input_shape"]))
    digits = predictor.classes == DIGIT_CLASSES
    keep = (KEEP_SECONDS, KEEP_SECONDS)  # drawings and anything else gradio received
    with gr.Blocks(title=f"{model_name} demo", delete_cache=keep) as app:
        gr.Markdown(
            f"## Try the model `{model_name}`\n"
            f"{len(predictor.classes)} classes; inputs are prepared as in training ({shape})."
        )
        with gr.Row():
            with gr.Column():
                if features:
                    # Text, not number fields: the typed value reaches predict.py's checks as
                    # is, so a bad one gets predict.py's error line, not the browser's.
                    means = predictor.preprocessing["mean"]
                    boxes = [
                        gr.Textbox(label=name, placeholder=f"training mean {mean:.4g}")
                        for name, mean in zip(features, means, strict=True)
                    ]
                    classify_button = gr.Button("Classify row", variant="primary")
                else:
                    with gr.Tab("Upload"):
                        upload = gr.File(label="Image (PNG/JPG) or .pt tensor", type="filepath")
                    if digits:
                        with gr.Tab("Draw"):
                            sketch = gr.Sketchpad(type="pil", label="Draw a digit")
                            draw = gr.Button("Classify drawing", variant="primary")
            result = gr.Label(num_top_classes=top_k, label=f"Top {top_k} classes")
        if features:
            triggers = [classify_button.click, *(box.submit for box in boxes)]
            gr.on(triggers, classify_row, boxes, result, api_name="classify_row")
        else:
            upload.upload(classify_upload, upload, result, api_name="classify")
            upload.clear(lambda: None, None, result, api_name=False)
            if digits:
                draw.click(classify_drawing, sketch, result, api_name="classify_drawing")
    return app
