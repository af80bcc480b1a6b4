"""demo.py's page: an image upload (and a sketch pad for digit models), or for models
trained on a table (data.name=csv) one field per feature, -> the top-k classes. Every input
becomes a file that goes through predict.py's ``classify`` (its checks, its preprocessing,
its ``error:`` lines). Gradio is imported only when the page is built (the demo extra)."""

import csv
import tempfile
from pathlib import Path

from ..utils.errors import UserError, user_message
from .inputs import classify
from .predictor import Predictor

DIGIT_CLASSES = [str(digit) for digit in range(10)]
ROW_NAME = "the row"  # how error lines name a row typed on the page


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
        return top_classes(predictor, path, path.name)

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
    with gr.Blocks(title=f"{model_name} demo") as app:
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
