"""Config: defaults, YAML + experiment + dotted overrides, and clear errors
(exit 2, nothing written)."""

import pytest

import train
from {{cookiecutter.project_slug}}.config import ConfigError, load_config, to_plain_dict
from {{cookiecutter.project_slug}}.config.loader import all_keys

from .guard_tools import main_error_line


def test_defaults_load_and_are_typed():
    config = load_config()
    assert config.data.name == "{{ cookiecutter.dataset }}"
    assert isinstance(config.trainer.epochs, int) and config.trainer.epochs >= 1
    assert config.trainer.early_stopping.monitor == "val_loss"


def test_dotted_overrides_take_precedence_and_are_converted():
    config = load_config(
        overrides=["trainer.epochs=2", "data.batch_size=7", "seed=1", "output_dir=/tmp/x"]
    )
    assert (config.trainer.epochs, config.data.batch_size, config.seed) == (2, 7, 1)
    assert config.output_dir == "/tmp/x"


def test_list_and_null_overrides():
    config = load_config(overrides=["model.hidden_sizes=[32,16]", "trainer.limit_val_batches=null"])
    assert list(config.model.hidden_sizes) == [32, 16]
    assert config.trainer.limit_val_batches is None


def test_unknown_key_names_it_and_suggests_the_closest():
    with pytest.raises(ConfigError) as error:
        load_config(overrides=["trainer.epoch=3"])
    message = str(error.value)
    assert "'trainer.epoch'" in message and "trainer.epochs" in message


def test_wrong_type_names_the_key():
    with pytest.raises(ConfigError, match="trainer.epochs"):
        load_config(overrides=["trainer.epochs=many"])


@pytest.mark.parametrize(
    ("override", "key"),
    [
{%- if cookiecutter.profile == "full" %}
        ("trainer.precision=16", "trainer.precision"),
{%- endif %}
        ("optimizer.name=adamax", "optimizer.name"),
        ("trainer.epochs=0", "trainer.epochs"),
        ("data.val_fraction=1.5", "data.val_fraction"),
        ("trainer.device=gpu", "trainer.device"),
    ],
)
def test_values_outside_the_allowed_set_are_rejected(override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(overrides=[override])


def test_plain_dict_holds_only_plain_types():
    def check(value):
        if isinstance(value, dict):
            for item in value.values():
                check(item)
        elif isinstance(value, list):
            for item in value:
                check(item)
        else:
            assert value is None or isinstance(value, (str, int, float, bool)), type(value)

    plain = to_plain_dict(load_config())
    assert type(plain) is dict
    check(plain)


def test_all_keys_lists_nested_keys():
    keys = all_keys()
    assert "trainer.early_stopping.patience" in keys and "data.batch_size" in keys


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("trainer.epoch=3", "did you mean trainer.epochs"),
        ("trainer.epochs=abc", "trainer.epochs"),
        ("data.name=cifar", "data.name"),
        ("metrics=[f2]", "f2"),
        ("trainer.early_stopping.monitor=val_f1", "val_f1"),
        ("trainer=5", "trainer is a section, not a value; set its keys, e.g. trainer."),
        ("model=cnn", "model is a section, not a value; set its keys, e.g. model.name="),
    ],
)
@pytest.mark.filterwarnings("ignore:Unable to enable fault handler")
def test_cli_config_errors_exit_2_and_create_no_run_directory(
    tmp_path, capsys, fast_args, override, expected
):
    run_dir = tmp_path / "run"  # where fast_args points output_dir
    main_error_line(train.main, [*fast_args, override], capsys, 2, expected)
    assert not run_dir.exists()


def test_the_default_dataset_is_one_this_project_has():
    """A project generated without digits does not default to it. (That its comments name
    only its own datasets is the template's check, on a fresh bake: a test here reading
    comments would fail once you add a dataset of your own.)"""
    import {{cookiecutter.project_slug}}.config.schema as schema
    from {{cookiecutter.project_slug}}.data import DATAMODULES

    assert schema.DataConfig().name in DATAMODULES.entries
