"""augmentations.png: at the start of an image-folder run, a few training images as read
and after the training transforms (a mirrored digit shows at minute one), listed with
the run's other outputs{% if cookiecutter.logger == "tensorboard" %} and in TensorBoard{% endif %}; none for tensors held in memory."""

import torch

from {{cookiecutter.project_slug}}.config import load_config
from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.data.augmentation_preview import (
    DRAWS,
    augmentation_preview,
)
from {{cookiecutter.project_slug}}.logger.augmentations import augmentation_figure

from .conftest import FAST, IMAGE_ARGS, run_script


def test_each_picked_image_as_read_then_after_the_training_transforms(image_root):
    config = load_config(overrides=[*IMAGE_ARGS, f"data.root={image_root}"])
    dm = build_datamodule(config.data, seed=0)
    names, columns = augmentation_preview(dm, count=4)
    assert len(names) == len(columns) == 4
    redrawn = 0  # images whose two draws differ (a small image's crop can repeat)
    for name, views in zip(names, columns, strict=True):
        assert name in dm.classes
        as_read, *augmented = views
        assert len(augmented) == DRAWS
        assert as_read.shape[0] == dm.input_shape[0]  # the file's pixels, any size
        for view in augmented:  # what the model gets, the normalization undone
            assert tuple(view.shape) == tuple(dm.input_shape)
            assert float(view.min()) >= 0 and float(view.max()) <= 1
        redrawn += not torch.equal(augmented[0], augmented[1])
    assert redrawn > 0  # the draws are random, not one fixed view
    figure = augmentation_figure(names, columns)
    assert len(figure.axes) == (1 + DRAWS) * 4


def test_tensors_held_in_memory_have_no_picture(tmp_path):
    # A CSV table: every bake has it (MNIST and digits are in some bakes only).
    from .test_csv_data import datamodule, write_table

    assert augmentation_preview(datamodule(write_table(tmp_path / "animals.csv"))) is None


def test_an_image_run_draws_and_lists_it(tmp_path, image_root):
    run_dir = tmp_path / "run"
    args = [*FAST, *IMAGE_ARGS, f"data.root={image_root}", f"output_dir={run_dir}"]
{%- if cookiecutter.logger == "tensorboard" %}
    args.append("logger.tensorboard=true")
{%- endif %}
    result = run_script("train.py", *args, "trainer.epochs=1")
    assert result.returncode == 0, result.stderr
    picture = run_dir / "augmentations.png"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"augmentations {picture}" in result.stdout  # listed with the outputs
    assert f"what the training transforms do: {picture}" in (run_dir / "train.log").read_text()
{%- if cookiecutter.logger == "tensorboard" %}
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"images": 0})
    events.Reload()
    assert "augmentations" in events.Tags()["images"]
{%- endif %}
