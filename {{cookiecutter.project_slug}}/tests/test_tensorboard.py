"""TensorBoard, read back from the event files of a real ``train.py`` run."""

import io

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from {{cookiecutter.project_slug}}.saver import load_checkpoint

from .conftest import FAST, run_script

EPOCHS = 2


@pytest.fixture(scope="module")
def tensorboard_run(tmp_path_factory, data_root):
    """One short run with every TensorBoard feature on{% if cookiecutter.profile == "full" %}; histograms every epoch{% endif %}."""
    run_dir = tmp_path_factory.mktemp("tb") / "run"
    result = run_script(
        "train.py",
        *FAST,
        "model.name=mlp",  # parameters only, no BatchNorm buffers (image_folder: a CNN)
        f"data.root={data_root}",
        f"output_dir={run_dir}",
        f"trainer.epochs={EPOCHS}",
        "trainer.limit_train_batches=4",
        "trainer.log_every_n_steps=1",
        "trainer.early_stopping.enabled=false",
        "logger.tensorboard=true",
{%- if cookiecutter.profile == "full" %}
        "logger.histogram_every_n_epochs=1",
        "logger.images_every_n_epochs=1",
{%- endif %}
        "trainer.train_metrics=true",
    )
    assert result.returncode == 0, result.stderr
    events = EventAccumulator(
        str(run_dir / "tensorboard"),
        size_guidance={"scalars": 0, {% if cookiecutter.profile == "full" %}"histograms": 0, {% endif %}"images": 0, "tensors": 0},
    )
    events.Reload()
    checkpoint = load_checkpoint(run_dir / "checkpoints" / "last.pt")
    return events, checkpoint


def steps(items) -> list[int]:
    return [item.step for item in items]


def test_epoch_scalars_per_epoch_and_loss_per_step(tensorboard_run):
    events, checkpoint = tensorboard_run
    epoch_tags = ["train/loss", "val/loss", "lr"] + [
        f"{split}/{name}" for split in ("train", "val") for name in checkpoint["config"]["metrics"]
    ]
    for tag in epoch_tags:
        # x = global step at each epoch's end (4 optimizer steps per epoch)
        assert steps(events.Scalars(tag)) == [4 * e for e in range(1, EPOCHS + 1)], tag
    # log_every_n_steps=1: one point per optimizer step, x = global step
    total_steps = checkpoint["trainer"]["global_step"]
    assert total_steps == EPOCHS * 4
    for tag in ("train/loss_step", "train/lr"):
        assert steps(events.Scalars(tag)) == list(range(1, total_steps + 1)), tag
    last_val = events.Scalars("val/loss")[-1].value
    assert last_val == pytest.approx(checkpoint["metrics"]["val_loss"], rel=1e-6)
{%- if cookiecutter.profile == "full" %}


def test_model_graph_logged_once(tensorboard_run):
    events, _ = tensorboard_run
    graph = events.Graph()
    assert len(graph.node) > 3
    assert any("Linear" in node.op or "linear" in node.op for node in graph.node)


def test_weight_and_gradient_histograms_every_epoch(tensorboard_run):
    events, checkpoint = tensorboard_run
    names = list(checkpoint["model"])  # parameter names (no buffers in these models)
    histograms = events.Tags()["histograms"]
    for name in names:
        for kind in ("weights", "gradients"):
            tag = f"{kind}/{name}"
            assert tag in histograms, tag
            assert steps(events.Histograms(tag)) == list(range(1, EPOCHS + 1)), tag
    # gradients are real: captured before zero_grad(set_to_none=True) dropped them
    gradient = events.Histograms(f"gradients/{names[0]}")[-1].histogram_value
    assert gradient.num > 0 and gradient.max > gradient.min


def test_prediction_grid_every_epoch(tensorboard_run):
    events, _ = tensorboard_run
    images = events.Images("val/predictions")
    assert steps(images) == list(range(1, EPOCHS + 1))
    assert images[-1].width > images[-1].height > 50
    assert images[-1].encoded_image_string.startswith(b"\x89PNG")
{%- endif %}


def test_config_as_text_and_hparams(tensorboard_run):
    events, checkpoint = tensorboard_run
    [text] = events.Tensors("config/text_summary")
    assert b"lr: " in text.tensor_proto.string_val[0]
    content = events.PluginTagToContent("hparams")
    assert set(content) == {"_hparams_/experiment", "_hparams_/session_start_info"}
    start = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/session_start_info"]
    ).session_start_info
    assert start.hparams["optimizer.lr"].number_value == checkpoint["config"]["optimizer"]["lr"]
    assert start.hparams["model.name"].string_value == checkpoint["config"]["model"]["name"]


def test_the_test_confusion_matrix_is_an_image(tensorboard_run):
    events, checkpoint = tensorboard_run
    (image,) = events.Images("test/confusion_matrix")
    assert image.step == checkpoint["trainer"]["global_step"]
    assert image.width > 100 and image.height > 100


def test_the_confusion_matrix_png_and_tensorboard_image_come_from_one_drawing(
    tmp_path, monkeypatch
):
    """train.py writes confusion_matrix.png and logs it to TensorBoard: the figure (its
    ~200 text cells take most of the test report's time) is drawn once, and both hold
    the same pixels."""
    import numpy as np
    import torch
    from matplotlib.figure import Figure
    from PIL import Image

    from {{cookiecutter.project_slug}}.logger import TensorBoardLogger
    from {{cookiecutter.project_slug}}.logger.confusion import confusion_figure
    from {{cookiecutter.project_slug}}.run.results import write_test_results

    draws, draw = [], Figure.draw

    def counted(self, renderer):
        draws.append(1)
        return draw(self, renderer)

    monkeypatch.setattr(Figure, "draw", counted)
    matrix = torch.tensor([[50, 0, 1], [2, 40, 0], [0, 3, 45]])
    figure = confusion_figure(matrix, ["cat", "dog", "owl"])
    write_test_results({"test_accuracy": 0.9}, figure, tmp_path / "test_metrics.json")
    logger = TensorBoardLogger(tmp_path / "tensorboard")
    logger.log_figure("test/confusion_matrix", figure, 7)
    logger.finalize()
    assert len(draws) == 1
    events = EventAccumulator(str(tmp_path / "tensorboard"), size_guidance={"images": 0})
    events.Reload()
    (image,) = events.Images("test/confusion_matrix")
    assert image.step == 7
    with Image.open(tmp_path / "confusion_matrix.png") as png:
        written = np.asarray(png.convert("RGBA"))
    with Image.open(io.BytesIO(image.encoded_image_string)) as logged:
        np.testing.assert_array_equal(np.asarray(logged.convert("RGBA")), written)
    assert written.shape[:2] == (figure.get_figheight() * 100, figure.get_figwidth() * 100)


def test_the_baselines_are_beside_the_curves(tensorboard_run):
    """The majority class's and the linear model's accuracy, as scalars under baseline/
    and a table in the TEXT tab."""
    events, _ = tensorboard_run
    tags = events.Tags()
    for kind in ("majority", "linear"):
        for split in ("val", "test"):
            assert f"baseline/{kind}_{split}_accuracy" in tags["scalars"]
    assert "baselines/text_summary" in tags["tensors"]
