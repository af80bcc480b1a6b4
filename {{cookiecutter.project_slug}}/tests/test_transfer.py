"""Transfer learning: ResNet-18 backbone frozen from config, only the new head trains,
pretrained weights come from the local torch hub cache and nowhere else."""

from pathlib import Path

import pytest
import torch
from torchvision.models import resnet18

import train
from {{cookiecutter.project_slug}}.config import ConfigError
from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.model import build_model
from {{cookiecutter.project_slug}}.model.transfer import (
    ResNetClassifier,
    WeightsNotFoundError,
    cached_weights_path,
)
from {{cookiecutter.project_slug}}.trainer import ClassificationTrainer

from .conftest import IMAGE_ARGS
from .guard_tools import main_error_line


@pytest.fixture
def transfer(image_root) -> list[str]:
    """The transfer experiment on the tests' small image folder, in-process data loading."""
    return [
        "experiment=transfer_resnet18",
        *IMAGE_ARGS,
        f"data.root={image_root}",
        "data.num_workers=0",
        "trainer.epochs=1",
    ]


def build(config):
    datamodule = build_datamodule(config.data, seed=config.seed)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    return datamodule, model


def snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


def changed(before: dict, after: dict) -> set[str]:
    return {name for name in before if not torch.equal(before[name], after[name])}


def test_config_freezes_the_backbone_and_leaves_the_head_trainable(config_factory, transfer):
    _, model = build(config_factory(*transfer))
    assert isinstance(model, ResNetClassifier)
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    head_size = sum(p.numel() for p in model.head.parameters())
    assert model.num_parameters(trainable_only=True) == head_size
    assert model.num_parameters() > 100 * head_size  # the backbone is there, just frozen


def test_grayscale_input_is_repeated_to_three_channels():
    model = ResNetClassifier((1, 28, 28), 10).eval()
    gray = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(model(gray), model.head(model.backbone(gray.repeat(1, 3, 1, 1))))


@pytest.mark.parametrize("freeze_batchnorm", [True, False])
def test_training_changes_only_the_head(config_factory, tmp_path, freeze_batchnorm, transfer):
    """Parameters: only head.* moves. Buffers (BatchNorm running stats) are not covered by
    requires_grad=False: with freeze_batchnorm (the default) they stay fixed as well;
    without it (plain course behaviour) they adapt while the weights stay frozen."""
    config = config_factory(
        *transfer,
        "trainer.limit_train_batches=3",
        "trainer.limit_val_batches=1",
        f"model.freeze_batchnorm={str(freeze_batchnorm).lower()}",
    )
    datamodule, model = build(config)
    before = snapshot(model)
    ClassificationTrainer(model, datamodule, config, tmp_path / "run").fit()
    moved = changed(before, snapshot(model))
    parameters = {name for name, _ in model.named_parameters()}
    assert {name for name in moved if name in parameters} == {"head.weight", "head.bias"}
    running_stats = {name for name in moved if "running_" in name or "num_batches" in name}
    assert bool(running_stats) is not freeze_batchnorm
    assert (moved - parameters) == running_stats  # nothing else changed


def test_dropout_applies_to_the_backbone_features_in_training_only(config_factory, transfer):
    model = build_model(config_factory(*transfer, "model.dropout=0.5").model, (3, 32, 32), 4)
    x = torch.randn(2, 3, 32, 32)
    model.eval()
    assert torch.equal(model(x), model(x))
    model.train()
    torch.manual_seed(0)
    assert not torch.equal(model(x), model(x))  # a new mask each call
    assert "dropout" not in dict(model.named_children())  # no extra module or state


def test_frozen_batchnorm_stays_in_eval_mode_until_unfrozen():
    model = ResNetClassifier((1, 8, 8), 10)
    model.freeze(["backbone"])
    model.train()
    assert not model.backbone.bn1.training and model.training
    model.unfreeze(["backbone.layer4"])  # fine-tune the last stage again
    assert model.backbone.layer4[0].bn1.training
    assert not model.backbone.layer3[0].bn1.training
    assert all(p.requires_grad for p in model.backbone.layer4.parameters())
    assert not any(p.requires_grad for p in model.backbone.layer3.parameters())


def test_unknown_module_name_is_a_clear_error(config_factory, transfer):
    model = ResNetClassifier((1, 8, 8), 10)
    with pytest.raises(ValueError, match=r"no submodule named \['encoder'\].*'backbone', 'head'"):
        model.freeze(["encoder"])
    with pytest.raises(ConfigError, match="encoder"):
        build(config_factory(*transfer, "model.freeze=[encoder]"))


@pytest.mark.filterwarnings("ignore:Unable to enable fault handler")
def test_missing_pretrained_weights_say_where_to_put_them(
    tmp_path, capsys, monkeypatch, fast_args, transfer
):
    torch_home = tmp_path / "empty_torch_home"
    torch_home.mkdir()
    monkeypatch.setenv("TORCH_HOME", str(torch_home))
    expected = torch_home / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    args = [*fast_args, *transfer, "model.weights=IMAGENET1K_V1"]
    main_error_line(train.main, args, capsys, 1, str(expected), "does not download")
    assert not (tmp_path / "run").exists()  # stopped before writing anything


def test_weights_in_the_local_cache_are_used(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    path = cached_weights_path("IMAGENET1K_V1")
    assert path == tmp_path / "torch_home" / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    torch.manual_seed(123)
    fake = resnet18(weights=None).state_dict()  # stands in for the ImageNet file
    path.parent.mkdir(parents=True)
    torch.save(fake, path)

    model = ResNetClassifier((1, 28, 28), 10, weights="IMAGENET1K_V1")
    loaded = model.backbone.state_dict()
    assert set(loaded) == {name for name in fake if not name.startswith("fc.")}
    assert all(torch.equal(loaded[name], fake[name]) for name in loaded)
    different = ResNetClassifier((1, 28, 28), 10)  # weights=None: random, not the file
    assert not torch.equal(different.backbone.conv1.weight, fake["conv1.weight"])

    path.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsNotFoundError, match="cannot read pretrained weights"):
        ResNetClassifier((1, 28, 28), 10, weights="IMAGENET1K_V1")


def test_unknown_weights_name_is_a_config_error(config_factory, transfer):
    with pytest.raises(ConfigError, match="IMAGENET1K_V1"):
        build(config_factory(*transfer, "model.weights=IMAGENET9000"))


def test_weights_from_a_local_file(tmp_path):
    torch.manual_seed(7)
    fake = resnet18(weights=None).state_dict()
    torch.save(fake, tmp_path / "my_resnet18.pth")
    model = ResNetClassifier((3, 16, 16), 2, weights=str(tmp_path / "my_resnet18.pth"))
    assert torch.equal(model.backbone.conv1.weight, fake["conv1.weight"])
    with pytest.raises(WeightsNotFoundError, match=r"nothing\.pth: no such file"):
        ResNetClassifier((3, 16, 16), 2, weights=str(tmp_path / "nothing.pth"))


def test_a_frozen_backbone_without_pretrained_weights_warns(config_factory, transfer):
    """Freezing random weights trains only the head on random features: said at start."""
    from {{cookiecutter.project_slug}}.run import fit

    config = config_factory(*transfer, "model.weights=null", "trainer.fast_dev_run=true")
    assert list(config.model.freeze) == ["backbone"] and config.model.weights is None
    fit(config)
    log = (Path(config.output_dir) / "train.log").read_text().splitlines()
    warnings = [line for line in log if "keeps random weights" in line]
    assert len(warnings) == 1 and "WARNING" in warnings[0]
    assert "model.freeze=[backbone]" in warnings[0] and "model.weights=<file.pth>" in warnings[0]


def test_a_trainable_or_pretrained_backbone_does_not_warn(config_factory, transfer, tmp_path):
    from {{cookiecutter.project_slug}}.model.transfer import frozen_random_warning

    unfrozen = config_factory(*transfer, "model.weights=null", "model.freeze=[]")
    assert frozen_random_warning(unfrozen.model) is None
    weights = tmp_path / "resnet18.pth"
    pretrained = config_factory(*transfer, f"model.weights={weights}")
    assert frozen_random_warning(pretrained.model) is None
    assert frozen_random_warning(config_factory("model.name=mlp").model) is None
