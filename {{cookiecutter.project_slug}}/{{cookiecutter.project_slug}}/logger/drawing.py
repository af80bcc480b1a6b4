"""A matplotlib figure drawn once: its PNG and every tracker's image come from the same
pixels. Drawing the test confusion matrix (~200 text cells) takes ~0.2 s; ``savefig``
and TensorBoard's ``add_figure`` each drew it again."""

from pathlib import Path

import numpy as np

DPI = 100  # every PNG a run writes, and the images trackers get


def figure_pixels(figure) -> np.ndarray:
    """The figure's RGBA pixels, ``(height, width, 4)`` uint8, at its own dpi: drawn on
    an Agg canvas the first time, and again only if the figure changed since."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = figure.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(figure)  # attaches itself to the figure
    if figure.stale or getattr(canvas, "renderer", None) is None:
        canvas.draw()
    return np.asarray(canvas.buffer_rgba())


def save_png(figure, path: Path | str) -> Path:
    """The PNG ``figure.savefig(path, dpi=figure.dpi)`` writes, from the drawn pixels."""
    from matplotlib.image import imsave

    imsave(path, figure_pixels(figure), format="png", dpi=figure.dpi)
    return Path(path)
