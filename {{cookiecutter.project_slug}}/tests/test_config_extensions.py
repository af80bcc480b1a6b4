"""The schema's seams for keys added by a part of the project: a section extended with
``schema.extends``, rules across keys (``checks.extra_check``), monitored metric names
(``checks.extra_monitors``) and tracker switches (``schema.tracker_switch``). Added
keys load, print and are checked exactly like the core's."""

import dataclasses

import pytest

from {{cookiecutter.project_slug}}.config import (
    ConfigError,
    checks,
    load_config,
    schema,
    to_plain_dict,
)
from {{cookiecutter.project_slug}}.config.checks import TRACKER
from {{cookiecutter.project_slug}}.config.loader import all_keys


@pytest.fixture
def registries(monkeypatch):
    """What a test registers lasts for that test only."""
    monkeypatch.setattr(schema, "_EXTENSIONS", dict(schema._EXTENSIONS))
    monkeypatch.setattr(checks, "EXTRA_CHECKS", list(checks.EXTRA_CHECKS))
    monkeypatch.setattr(checks, "EXTRA_MONITORS", list(checks.EXTRA_MONITORS))


def extend(base: type, **fields) -> type:
    """Register a subclass of the schema's current class for ``base`` with ``fields``
    (name -> (type, dataclass field))."""
    current = schema.section_type(base)
    extension = dataclasses.make_dataclass(
        f"Extended{base.__name__}",
        [(name, kind, spec) for name, (kind, spec) in fields.items()],
        bases=(current,),
    )
    return schema.extends(base)(extension)


def test_an_extension_adds_keys_with_their_defaults(registries):
    extend(schema.TrainerConfig, passes=(int, schema.at_least(1, 2)), warm=(bool, False))
    config = load_config(overrides=["trainer.passes=3"])
    assert (config.trainer.passes, config.trainer.warm) == (3, False)
    assert config.trainer.epochs == load_config().trainer.epochs  # the core's keys stay
    assert {"trainer.passes", "trainer.warm", "trainer.epochs"} <= set(all_keys())
    assert to_plain_dict(config)["trainer"]["passes"] == 3


def test_an_extensions_keys_are_checked_like_the_cores(registries):
    pace = schema.one_of("fast", "slow")
    extend(schema.TrainerConfig, passes=(int, schema.at_least(1, 2)), pace=(str, pace))
    refused = {
        "trainer.passes=0": r"^trainer\.passes=0 is not allowed: it must be a whole number >= 1; "
        r".* e\.g\. trainer\.passes=2$",
        "trainer.pace=medium": r"^trainer\.pace='medium' is not allowed; "
        r"choose one of \['fast', 'slow'\]$",
        "trainer.pases=3": r"^unknown config key 'trainer\.pases'.*did you mean trainer\.passes",
        "trainer.passes=many": r"^invalid value for 'trainer\.passes'",
    }
    for override, message in refused.items():
        with pytest.raises(ConfigError, match=message):
            load_config(overrides=[override])


def test_a_nested_section_is_extended_inside_its_parent(registries):
    extend(schema.CheckpointConfig, keep=(int, schema.non_negative(1)))
    assert load_config(overrides=["trainer.checkpoint.keep=4"]).trainer.checkpoint.keep == 4
    with pytest.raises(ConfigError, match=r"^trainer\.checkpoint\.keep=-1 is not allowed"):
        load_config(overrides=["trainer.checkpoint.keep=-1"])


def test_without_its_extension_a_key_is_unknown():
    with pytest.raises(ConfigError, match=r"unknown config key 'trainer\.passes'"):
        load_config(overrides=["trainer.passes=3"])


def test_an_extension_must_subclass_the_sections_class(registries):
    with pytest.raises(TypeError, match="must subclass"):
        schema.extends(schema.TrainerConfig)(dataclasses.make_dataclass("Loose", [("x", int, 0)]))


def test_an_extra_check_runs_at_load(registries):
    @checks.extra_check
    def even_seed(config):
        if config.seed % 2:
            raise ConfigError(f"seed={config.seed} is odd; use an even seed")

    assert load_config(overrides=["seed=2"]).seed == 2
    with pytest.raises(ConfigError, match="^seed=3 is odd"):
        load_config(overrides=["seed=3"])


def test_an_extra_monitor_must_name_a_logged_metric(registries):
    extend(schema.OptimizerConfig, follow=(str, "val_loss"))

    @checks.extra_monitors
    def followed(config):
        return {"optimizer.follow": config.optimizer.follow}

    assert load_config(overrides=["optimizer.follow=train_loss"]).optimizer.follow == "train_loss"
    with pytest.raises(ConfigError, match=r"^optimizer\.follow='val_nope' is not a logged metric"):
        load_config(overrides=["optimizer.follow=val_nope"])


def test_a_tracker_switch_is_refused_unless_it_names_this_projects_tracker(registries):
    extend(schema.LoggerConfig, neptune=(bool, schema.tracker_switch()))
    assert load_config(overrides=["logger.neptune=false"]).logger.neptune is False
    expected = f"logger.neptune=true, but this project was generated with logger={TRACKER}"
    with pytest.raises(ConfigError, match=f"^{expected}"):
        load_config(overrides=["logger.neptune=true"])
