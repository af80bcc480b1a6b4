"""The README states defaults; these tests read them from the README and compare them with
the code, so the two cannot drift apart."""

import re

import yaml

from {{cookiecutter.project_slug}}.config import load_config
from {{cookiecutter.project_slug}}.data.images import default_transforms
from {{cookiecutter.project_slug}}.utils.run_dir import RunFiles

from .conftest import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def readme_yaml_value(key: str):
    """The first ``key: value`` line inside a fenced yaml block of the README."""
    match = re.search(rf"^\s*{key}: (.+)$", README, re.MULTILINE)
    assert match, f"README has no {key}: line"
    return yaml.safe_load(match.group(1))


def test_the_image_transforms_the_readme_shows_are_the_defaults():
    train, evaluation = default_transforms(224)
    assert readme_yaml_value("train_transforms") == train
    assert readme_yaml_value("eval_transforms") == evaluation


def test_the_metrics_the_readme_lists_are_the_default_metrics():
    match = re.search(r"\(`metrics`: ([a-z0-9_, ]+)[;)]", README)
    assert match, "README's metrics.csv row names no metrics"
    assert [m.strip() for m in match.group(1).split(",")] == list(load_config().metrics)


def test_the_default_model_the_readme_names_is_the_configured_one():
    match = re.search(r"trains an? ([\w ]+?) \(`model.name=(\w+)`\) by default", README)
    assert match, "README does not say which model trains by default"
    assert load_config().model.name == match.group(2)


def test_the_first_hour_recipe_says_what_the_images_experiment_does():
    section = README.split("## First hour", 1)[1].split("\n## ", 1)[0]
    config = load_config(overrides=["experiment=images"])
    said = re.search(
        r"A small CNN \((\w+) conv blocks, each map averaged to one number, a small head\), "
        r"random\ncrops keeping (\d+)-(\d+) % of each picture and no flips, (\d+) % of the images "
        r"held out for\nvalidation, up to (\d+) epochs with early stopping after (\d+) without "
        r"progress\. Size and\nchannels follow your images",
        section,
    )
    assert said, "the First hour's recipe description changed: update this test with it"
    blocks, low, high, val, epochs, patience = said.groups()
    words = {"two": 2, "three": 3, "four": 4}
    assert config.model.name == "cnn" and config.model.global_pool
    assert len(config.model.channels) == words[blocks]
    data = config.data
    assert (data.image_size, data.channels, data.flip) == ("auto", "auto", False)
    crop = default_transforms(32)[0][0]
    assert crop["name"] == "RandomResizedCrop" and crop["scale"] == [
        int(low) / 100,
        int(high) / 100,
    ]
    assert config.data.train_transforms is None  # the defaults apply
    assert round(config.data.val_fraction * 100) == int(val)
    assert config.trainer.epochs == int(epochs)
    assert config.trainer.early_stopping.enabled
    assert config.trainer.early_stopping.patience == int(patience)


def test_every_file_a_run_writes_is_in_the_readmes_table():
    """The README's table of run files names each picture and file train.py lists at the
    end (augmentations.png, the baselines in test_metrics.json among them)."""
    files = [p.name for p in RunFiles(".").outputs().values() if p.suffix]
    assert "augmentations.png" in files
    for name in files:
        assert re.search(rf"^\| `{re.escape(name)}` \|", README, re.MULTILINE), name
    row = re.search(r"^\| `test_metrics.json` \|(.+)$", README, re.MULTILINE)[1]
    assert "`baselines`" in row
