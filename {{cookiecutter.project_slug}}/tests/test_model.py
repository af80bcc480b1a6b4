"""Models: abstract base classes fail early and clearly, shapes, summaries, freezing."""

import dataclasses
import inspect

import pytest
import torch
from torch import nn

from {{cookiecutter.project_slug}}.config import ConfigError, load_config
from {{cookiecutter.project_slug}}.config.schema import ModelConfig
from {{cookiecutter.project_slug}}.model import (
    MLP,
    MODELS,
    BaseModel,
    build_metrics,
    build_model,
)
from {{cookiecutter.project_slug}}.model.models import SmallCNN
from {{cookiecutter.project_slug}}.trainer import BaseTrainer


def test_model_without_forward_fails_at_construction_naming_it():
    class Forgetful(BaseModel):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(2, 2)

    with pytest.raises(TypeError, match="forward"):
        Forgetful()


def test_trainer_without_steps_fails_at_construction_naming_them():
    class Half(BaseTrainer):
        def training_step(self, batch, batch_idx):
            return {}

    with pytest.raises(TypeError, match="validation_step"):
        Half(None, None, None, None)


@pytest.mark.parametrize("name", sorted(MODELS.entries))
def test_a_models_defaults_are_its_options_dataclass(name):
    """The options dataclass declares a model's options: the constructor's defaults (for
    the Python API) may not drift from it, and ``from_config`` passes exactly its fields."""
    schema = MODELS.options[name] or ModelConfig
    common = {spec.name for spec in dataclasses.fields(ModelConfig)}
    declared = {
        spec.name: spec.default_factory() if spec.default is dataclasses.MISSING else spec.default
        for spec in dataclasses.fields(schema)
        if spec.name not in common
    }
    parameters = dict(list(inspect.signature(MODELS.get(name)).parameters.items())[2:])
    assert set(parameters) == set(declared), name
    for key, parameter in parameters.items():
        default = parameter.default
        if default is not inspect.Parameter.empty:
            default = list(default) if isinstance(default, tuple) else default
            assert default == declared[key], (name, key)


def test_course_mlp_is_784_128_64_10():
    model = MLP((1, 28, 28), 10, [128, 64])
    linear = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(784, 128), (128, 64), (64, 10)]
    assert model(torch.randn(5, 1, 28, 28)).shape == (5, 10)
    assert model.num_parameters() == 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 28, 28), (3, 32, 32)])
def test_cnn_sizes_itself_from_the_input(shape):
    model = SmallCNN(shape, 7)
    assert model(torch.randn(2, *shape)).shape == (2, 7)


def test_build_model_from_config_and_unknown_name():
    config = load_config(overrides=["model.name=cnn", "model.channels=[4,8]"])
    model = build_model(config.model, (1, 28, 28), 10)
    assert isinstance(model, SmallCNN)
    config.model.name = "transformer"
    with pytest.raises(ConfigError, match="model.name='transformer'"):
        build_model(config.model, (1, 28, 28), 10)


def test_each_model_takes_its_own_keys_and_a_new_name_starts_from_its_defaults():
    # The MLP's options; naming another model drops them (train.yaml may configure either).
    cnn = load_config(overrides=["model.name=mlp", "model.hidden_sizes=[32]", "model.name=cnn"])
    cnn_channels = list(load_config(overrides=["model.name=cnn"]).model.channels)
    assert list(cnn.model.hidden_sizes) == [32] and list(cnn.model.channels) == cnn_channels
    resnet = load_config(overrides=["model.name=resnet18", "model.dropout=0.2"])
    assert "hidden_sizes" not in resnet.model and resnet.model.dropout == 0.2
    with pytest.raises(
        ConfigError, match=r"unknown config key 'model.channels' for model.name='mlp'"
    ):
        load_config(overrides=["model.name=mlp", "model.channels=[4]"])
    with pytest.raises(ConfigError, match="did you mean model.hidden_sizes"):
        load_config(overrides=["model.name=mlp", "model.hiden_sizes=[4]"])


def test_cnn_on_a_table_says_to_use_the_mlp():
    config = load_config(overrides=["model.name=cnn"])
    with pytest.raises(ConfigError, match=r"cnn takes images.*shape \(4,\).*model.name=mlp"):
        build_model(config.model, (4,), 3)


def test_cnn_head_uses_every_hidden_size():
    model = SmallCNN((1, 8, 8), 10, channels=[4], hidden_sizes=[16, 12], dropout=0.1)
    linear = [m for m in model.head if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(64, 16), (16, 12), (12, 10)]


def test_freeze_and_unfreeze_by_module_name():
    model = MLP((1, 8, 8), 10, [16])
    model.freeze(["features"])
    assert not any(p.requires_grad for p in model.features.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    assert model.num_parameters(trainable_only=True) == 16 * 10 + 10
    model.unfreeze(["features"])
    assert all(p.requires_grad for p in model.parameters())
    with pytest.raises(ValueError, match="backbone"):
        model.freeze(["backbone"])


def test_freeze_from_config_and_summary():
    config = load_config(overrides=["model.freeze=[features]"])
    model = build_model(config.model, (1, 8, 8), 10)
    assert "trainable" in model.summary()
    assert model.num_parameters(trainable_only=True) < model.num_parameters()


def test_metrics_by_name():
    logits = torch.tensor([[0.1, 0.9, 0.0], [0.8, 0.15, 0.05], [0.2, 0.3, 0.5]])
    targets = torch.tensor([1, 1, 0])
    metrics = build_metrics(["accuracy", "top2_accuracy"], num_classes=3)
    assert metrics["accuracy"](logits, targets).item() == pytest.approx(1 / 3)
    assert metrics["top2_accuracy"](logits, targets).item() == pytest.approx(2 / 3)
    with pytest.raises(ConfigError, match="f2"):
        build_metrics(["f2"], num_classes=3)


def test_top_k_accuracy_is_left_out_when_k_covers_every_class():
    """top3_accuracy with 3 classes is always 1.0: it is not reported at all."""
    assert set(build_metrics(["accuracy", "top3_accuracy"], num_classes=3)) == {"accuracy"}
    assert set(build_metrics(["accuracy", "top3_accuracy"], num_classes=4)) == {
        "accuracy",
        "top3_accuracy",
    }
