"""Weights & Biases for real, in offline mode: the run directory, its logged history and
config (read from the .wandb file with wandb's own protobuf classes), and resuming."""

import json
import struct
from pathlib import Path

import pytest
from wandb.proto import wandb_internal_pb2

from {{cookiecutter.project_slug}}.logger import read_metrics

from .conftest import FAST, run_script

OFFLINE = {"WANDB_MODE": "offline", "WANDB_SILENT": "true"}
BLOCK, HEADER = 32768, 7  # the .wandb file: a 7-byte file header, then LevelDB-log records


def read_records(path: Path) -> list:
    """Every Record in a .wandb transaction log (LevelDB log format: records of up to
    32 KiB blocks, each chunk with a 7-byte header: crc32c, length, type)."""
    data = path.read_bytes()
    assert data[:4] == b":W&B"
    records, pending, pos = [], b"", HEADER
    while pos + HEADER <= len(data):
        room = BLOCK - pos % BLOCK
        length, kind = struct.unpack("<HB", data[pos + 4 : pos + 7])
        if room < HEADER or kind == 0:  # block trailer / padding
            pos += room
            continue
        pending += data[pos + HEADER : pos + HEADER + length]
        pos += HEADER + length
        if kind in (1, 4):  # FULL or LAST chunk: the record is complete
            records.append(wandb_internal_pb2.Record.FromString(pending))
            pending = b""
    return records


def history(records) -> dict[int, dict]:
    """step -> {key: value} of every history row (nested keys joined with ``/``)."""
    rows = {}
    for record in records:
        if record.WhichOneof("record_type") == "history":
            row = {
                item.key or "/".join(item.nested_key): json.loads(item.value_json)
                for item in record.history.item
            }
            rows[record.history.step.num] = row
    return rows


def offline_runs(run_dir: Path) -> list[Path]:
    return sorted((run_dir / "wandb").glob("offline-run-*"))


@pytest.fixture(scope="module")
def wandb_runs(tmp_path_factory, data_root):
    """One epoch, then a resume to two epochs (``resume=auto``, as after a restart), both
    logging to W&B offline."""
    run_dir = tmp_path_factory.mktemp("wb") / "run"
    common = [
        *FAST,
        f"data.root={data_root}",
        f"output_dir={run_dir}",
        "trainer.limit_train_batches=4",
        "trainer.log_every_n_steps=1",
        "trainer.early_stopping.enabled=false",
        "logger.wandb=true",
    ]
    first = run_script("train.py", *common, "trainer.epochs=1", env=OFFLINE)
    assert first.returncode == 0, first.stderr
    last = run_dir / "checkpoints" / "last.pt"
    second = run_script("train.py", *common, "trainer.epochs=2", "resume=auto", env=OFFLINE)
    assert second.returncode == 0, second.stderr
    assert f"resume=auto: continuing from {last}" in second.stdout
    return run_dir, first, second


def test_offline_run_directory_holds_history_and_config(wandb_runs):
    run_dir, first, _ = wandb_runs
    first_run = offline_runs(run_dir)[0]
    run_id = (run_dir / "wandb_run_id.txt").read_text().strip()
    wandb_file = first_run / f"run-{run_id}.wandb"
    assert wandb_file.is_file()
    log = (run_dir / "train.log").read_text()
    assert f"W&B offline run {run_id}" in log and f"wandb sync {first_run}" in log

    records = read_records(wandb_file)
    [run] = [r.run for r in records if r.WhichOneof("record_type") == "run"]
    assert run.run_id == run_id and run.display_name == "run"
    config = {item.key: json.loads(item.value_json) for item in run.config.update}
    assert config["optimizer"]["lr"] == 0.001
    assert config["logger"]["wandb"] is True and config["trainer"]["epochs"] == 1

    rows = history(records)
    # per step: loss and lr at every optimizer step 1..4
    assert [s for s, row in sorted(rows.items()) if "train/loss_step" in row] == [1, 2, 3, 4]
    # per epoch: the same values as metrics.csv, at the epoch's last step
    csv_row = read_metrics(run_dir / "metrics.csv")[0][0]  # epoch 1
    epoch_row = rows[4]
    assert epoch_row["epoch"] == 1
    for name in ("train_loss", "val_loss", "val_accuracy", "lr"):
        key = name.replace("_", "/", 1) if name != "lr" else "lr"
        assert epoch_row[key] == pytest.approx(float(csv_row[name]), rel=1e-6), name
    assert epoch_row["val/predictions/_type"] == "image-file"  # the prediction grid


def test_resume_continues_the_same_run(wandb_runs):
    run_dir, _, _ = wandb_runs
    runs = offline_runs(run_dir)
    assert len(runs) == 2
    run_id = (run_dir / "wandb_run_id.txt").read_text().strip()
    resumed = read_records(runs[1] / f"run-{run_id}.wandb")
    [run] = [r.run for r in resumed if r.WhichOneof("record_type") == "run"]
    assert run.run_id == run_id  # same W&B run: `wandb sync` appends to it
    rows = history(resumed)
    steps = sorted(s for s, row in rows.items() if "train/loss_step" in row)
    assert steps == [5, 6, 7, 8]  # continues after the first run's 4 steps
    assert rows[8]["epoch"] == 2
