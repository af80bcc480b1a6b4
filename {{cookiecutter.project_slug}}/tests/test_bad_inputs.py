"""Every mistake in the config, the command line or the output path ends in one clear
``error:`` line (exit 2 for config, 1 for files), before anything is written."""

import shutil
import subprocess
import sys

import pytest
import torch

import train
from {{cookiecutter.project_slug}}.config import ConfigError, load_config
from {{cookiecutter.project_slug}}.utils.errors import error_boundary

from .conftest import PROJECT_ROOT, script_env
from .guard_tools import main_error_line

# train.main runs in this process; torchrun's @record cannot install its fault handler
# on pytest's captured stderr, and says so.
pytestmark = pytest.mark.filterwarnings("ignore:Unable to enable fault handler")


def fails_cleanly(capsys, args: list[str], code: int) -> str:
    """Run train.py's ``main`` in this process; return its single ``error:`` line."""
    return main_error_line(train.main, args, capsys, code)


@pytest.mark.parametrize(
    ("override", "rule"),
    [
        ("optimizer.lr=-0.1", "> 0"),
        ("optimizer.lr=0", "> 0"),
        ("optimizer.lr=nan", "finite"),
        ("optimizer.lr=inf", "finite"),
        ("optimizer.weight_decay=-1", ">= 0"),
        ("trainer.gradient_clip_val=-1", ">= 0"),
        ("trainer.gradient_clip_val=nan", "finite"),
        ("data.val_fraction=0", "> 0 and < 1"),
        ("data.val_fraction=1", "> 0 and < 1"),
        ("trainer.epochs=0", ">= 1"),
        ("data.batch_size=0", ">= 1"),
        ("data.eval_batch_size=-5", ">= 1"),
        ("model.dropout=1.0", "< 1"),
        ("model.hidden_sizes=[64,0]", "each item"),
        ("label_smoothing=-0.1", ">= 0"),
        ("trainer.accumulate_grad_batches=0", ">= 1"),
        ("lr_scheduler.gamma=0", "> 0"),
    ],
)
def test_out_of_range_values_name_key_rule_and_fix(tmp_path, monkeypatch, capsys, override, rule):
    monkeypatch.chdir(tmp_path)  # a default run would create runs/ here
    key = override.split("=")[0]
    line = fails_cleanly(capsys, [override], 2)
    assert f"{key}=" in line and rule in line and f"e.g. {key}=" in line
    assert list(tmp_path.iterdir()) == []


def test_ranges_accept_the_edges_they_allow():
    config = load_config(
        overrides=["optimizer.weight_decay=0", "model.dropout=0", "trainer.limit_val_batches=null"]
    )
    assert config.optimizer.weight_decay == 0 and config.trainer.limit_val_batches is None


@pytest.fixture
def config_files(tmp_path):
    files = {
        "list": "- 1\n- 2\n",
        "broken": "seed: 1\n  trainer: [\n",
        "undefined": "output_dir: ${oc.env:NO_SUCH_VARIABLE_HERE}\n",
    }
    for name, text in files.items():
        (tmp_path / f"{name}.yaml").write_text(text)
    (tmp_path / "folder.yaml").mkdir()
    return tmp_path


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["model.name='mlp"], 'cannot parse override "model.name=\'mlp"'),
        (["model.hidden_sizes=[1,2"], "check its quotes and brackets"),
        (["output_dir=${oc.env:NO_SUCH_VARIABLE_HERE}"], "cannot resolve the interpolation"),
        (["seed=${nope}"], "cannot resolve the interpolation in 'seed'"),
        (["-c", "{dir}/list.yaml"], "holds a list at its top level; it must be a mapping"),
        (["-c", "{dir}/broken.yaml"], "cannot parse {dir}/broken.yaml"),
        (["-c", "{dir}/undefined.yaml"], "cannot resolve the interpolation in 'output_dir'"),
        (["-c", "{dir}/folder.yaml"], "is a folder; give a YAML file"),
        (["-c", "{dir}/missing.yaml"], "does not exist"),
        (["seed"], "is not of the form key=value"),
    ],
)
def test_syntax_errors_are_one_line(config_files, monkeypatch, capsys, args, expected):
    monkeypatch.chdir(config_files)
    monkeypatch.delenv("NO_SUCH_VARIABLE_HERE", raising=False)
    args = [arg.replace("{dir}", str(config_files)) for arg in args]
    line = fails_cleanly(capsys, args, 2)
    assert expected.replace("{dir}", str(config_files)) in line
    assert not (config_files / "runs").exists()


def test_the_boundary_keeps_tracebacks_for_bugs():
    """Only errors a user can fix are shortened; a bug still shows where it happened."""

    @error_boundary
    def buggy(argv=None) -> int:
        raise ZeroDivisionError("a bug")

    @error_boundary
    def wrong(argv=None) -> int:
        raise ConfigError("trainer.epochs=0 is not allowed")

    with pytest.raises(ZeroDivisionError):
        buggy()
    assert wrong() == 2


# ------------------------------------------------------------ full and read-only disks
def train_on_own_tmpfs(disk, mount_options: str, args: list[str], then: str = ""):
    """Run train.py with a real tmpfs mounted at ``disk``, in a private mount namespace
    (no root needed; nothing is mounted for the rest of the machine). ``then``: shell
    commands run afterwards, inside the namespace, before the tmpfs vanishes."""
    if shutil.which("unshare") is None:
        pytest.skip("needs util-linux's unshare to mount a small file system")
    disk.mkdir()
    command = (
        f'mount -t tmpfs -o {mount_options} tmpfs "{disk}" || exit 77; '
        f'"{sys.executable}" "{PROJECT_ROOT / "train.py"}" "$@"; code=$?; {then} exit $code'
    )
    result = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", command, "sh", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=script_env(),
        cwd=PROJECT_ROOT,
    )
    if result.returncode == 77:
        pytest.skip(f"cannot mount a tmpfs in a user namespace here: {result.stderr[:200]}")
    return result


@pytest.mark.slow
def test_a_full_disk_names_the_file_and_keeps_the_last_good_checkpoint(tmp_path, fast_args):
    disk, kept = tmp_path / "disk", tmp_path / "kept"
{%- if cookiecutter.profile == "full" %}
    args = [
        *[arg for arg in fast_args if not arg.startswith("output_dir=")],
        f"output_dir={disk}/run",
        "trainer.epochs=30",
        "trainer.early_stopping.enabled=false",
        "trainer.checkpoint.save_top_k=-1",  # a new file every epoch: the 1 MB disk fills up
    ]
    size = "1m"
{%- else %}
    # best.pt and last.pt are rewritten in place (a temporary file, then a rename). With
    # checkpoints of a few MB the logs are small beside them: a disk with room for two and
    # a half checkpoints holds epoch 1's pair and fills at the next write.
    common = [
        *[arg for arg in fast_args if not arg.startswith("output_dir=")],
        "model.name=mlp",
        "model.hidden_sizes=[256,256]",
    ]
    assert train.main([*common, f"output_dir={tmp_path / 'probe'}", "trainer.epochs=1"]) == 0
    size = (tmp_path / "probe" / "checkpoints" / "last.pt").stat().st_size * 5 // 2
    args = [
        *common,
        f"output_dir={disk}/run",
        "trainer.epochs=30",
        "trainer.early_stopping.enabled=false",
    ]
{%- endif %}
    result = train_on_own_tmpfs(disk, f"size={size}", args, then=f'cp -r "{disk}/run" "{kept}";')
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: cannot write or read {disk}/run/"), lines
    assert lines[0].endswith("the disk is full; free space or choose another output_dir")
    last = torch.load(kept / "checkpoints" / "last.pt", weights_only=True)  # still loads
    assert last["trainer"]["epoch"] >= 1
    assert not list((kept / "checkpoints").glob(".*.tmp"))  # no half-written file left


@pytest.mark.slow
def test_a_read_only_output_dir_is_one_line(tmp_path, fast_args):
    disk = tmp_path / "disk"
    args = [arg for arg in fast_args if not arg.startswith("output_dir=")]
    result = train_on_own_tmpfs(disk, "ro,size=1m", [*args, f"output_dir={disk}/run"])
    assert result.returncode == 1, result.stderr[-3000:]
    assert result.stderr.strip().splitlines() == [
        f"error: cannot write or read {disk}/run: the file system is read-only; "
        "choose a writable output_dir"
    ]
