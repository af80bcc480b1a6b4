"""Where config keys meet: a metric label that would overwrite another reported value
(``label: loss`` makes val_loss the accuracy, and best.pt the least accurate epoch)
is refused at load, before any run directory exists."""

import pytest

import train
from {{cookiecutter.project_slug}}.config import ConfigError

pytestmark = pytest.mark.filterwarnings("ignore:Unable to enable fault handler")


@pytest.mark.parametrize(
    "entry",
    [
        "{name: accuracy, label: loss}",
        "{name: f1, label: confusion_matrix}",
        "{name: recall, label: class_cat}",
        "{name: accuracy, label: LOSS}",
    ],
)
def test_metric_label_cannot_take_a_reserved_name(config_factory, entry):
    with pytest.raises(ConfigError, match="reserved"):
        config_factory(f"metrics=[{entry}]")


def test_reserved_label_exits_2_before_the_run_dir(tmp_path, fast_args, capsys):
    assert train.main([*fast_args, "metrics=[{name: accuracy, label: loss}]"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'loss'" in err[0] and "label" in err[0], err
    assert not (tmp_path / "run").exists()


def test_a_free_label_still_works(config_factory):
    config = config_factory("metrics=[{name: accuracy, label: acc}, {name: accuracy, top_k: 2}]")
    assert len(config.metrics) == 2


def test_top_k_is_checked_against_the_datas_classes(tmp_path, fast_args, capsys):
    """top_k up to the number of classes is fine (5 of 10); above it, one line naming
    the number of classes, exit 2, before the run directory exists."""
    config_factory_args = [*fast_args, "trainer.limit_train_batches=1", "trainer.epochs=1"]
    ok = [*config_factory_args, "metrics=[{name: accuracy, top_k: 5}]"]
    assert train.main(ok) == 0
    capsys.readouterr()
    other = tmp_path / "other"
    bad = [*config_factory_args, "metrics=[{name: accuracy, top_k: 11}]", f"output_dir={other}"]
    assert train.main(bad) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "top_k=11" in err[0] and "from 1 to 10" in err[0], err
    assert not other.exists()
