"""Where export meets predict: an export killed while replacing another (the previous
one stays whole, its temporary file is removed next time), and tampered metadata (std 0,
an absurd input shape, a class list that does not fit) end in one line, never in a
wrong prediction."""

import contextlib
import importlib.util
import io
import json
import signal

import pytest
import torch

import export
import predict

from .conftest import FAST, PROJECT_ROOT, run_script

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("safetensors") is None, reason="needs pip install -e '.[export]'"
)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory, data_root):
    """Two MLPs trained on the same data with different seeds: best.pt of each."""
    import train

    found = []
    for seed in (1, 2):
        run_dir = tmp_path_factory.mktemp(f"seams_export_{seed}") / "run"
        args = [*FAST, f"data.root={data_root}", f"output_dir={run_dir}", f"seed={seed}"]
        args += ["trainer.epochs=1", "trainer.limit_train_batches=3", "trainer.limit_val_batches=1"]
        assert train.main(args) == 0
        found.append(run_dir / "checkpoints" / "best.pt")
    return found


def export_to(checkpoint, output, *extra) -> int:
    argv = [f"checkpoint={checkpoint}", "format=safetensors", f"output={output}", *extra]
    with contextlib.redirect_stdout(io.StringIO()):
        return export.main(argv)


def header_metadata(model) -> dict:
    """export.py's metadata, read from the safetensors header by the format's library."""
    from safetensors import safe_open

    with safe_open(model, framework="pt") as handle:
        return json.loads(handle.metadata()["inference"])


def predict_with(model, shape, tmp_path, capsys) -> tuple[int, str]:
    inputs = tmp_path / "x.pt"
    torch.save(torch.rand(2, *shape), inputs)
    output = tmp_path / "p.csv"
    output.unlink(missing_ok=True)
    capsys.readouterr()
    code = predict.main([f"checkpoint={model}", f"input={inputs}", f"output={output}"])
    err = capsys.readouterr().err.strip().splitlines()
    if code:
        assert len(err) == 1 and not output.exists(), err
    return code, err[0] if err else ""


KILLED_AT_A_RENAME = """\
import os, signal, sys
sys.path.insert(0, sys.argv[1])
import export
rename, kill_at, done = os.replace, int(sys.argv[2]), []
def replace(*args):
    done.append(args)
    if len(done) == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    rename(*args)
os.replace = replace
sys.exit(export.main(sys.argv[3:]))
"""


def test_an_export_killed_at_any_rename_leaves_an_export_that_predicts(
    checkpoints, tmp_path, capsys
):
    """``overwrite=true`` SIGKILLed at its 1st, 2nd... rename (until it makes no more):
    what is left predicts, the previous export or the new one, never a refused mix;
    the next export of that name removes the dead writer's temporary file."""
    first, second = checkpoints
    shape = torch.load(first, weights_only=True)["preprocessing"]["input_shape"]
    kill_at = 0
    while True:
        kill_at += 1
        folder = tmp_path / f"kill_at_{kill_at}"
        folder.mkdir()
        model = folder / "model.safetensors"
        assert export_to(first, model) == 0
        killer = tmp_path / "killer.py"
        killer.write_text(KILLED_AT_A_RENAME)
        argv = [f"checkpoint={second}", "format=safetensors", f"output={model}", "overwrite=true"]
        proc = run_script(str(killer), str(PROJECT_ROOT), str(kill_at), *argv)
        assert predict_with(model, shape, folder, capsys) == (0, "")
        if proc.returncode == 0:  # fewer renames than kill_at: the export finished
            break
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        assert len(list(folder.glob(".model.safetensors.*.tmp"))) == 1
        mine = folder / ".notes.tmp"
        mine.write_text("a user's file")
        assert export_to(second, model, "overwrite=true") == 0
        assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == [".notes.tmp"]
    assert kill_at == 2  # one rename: the export is one file (no sidecar)
    assert sorted(p.name for p in folder.iterdir()) == ["model.safetensors", "p.csv", "x.pt"]


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("std", [0.0], "preprocessing.std"),
        ("std", [float("nan")], "preprocessing.std"),
        ("mean", ["a"], "preprocessing.mean"),
        ("input_shape", [1, 1000000, 1000000], "implausible input shape"),
    ],
)
def test_tampered_safetensors_metadata_is_refused(
    checkpoints, tmp_path, capsys, key, value, fragment
):
    from safetensors.torch import load_file, save_file

    model = tmp_path / "model.safetensors"
    assert export_to(checkpoints[0], model) == 0
    metadata = header_metadata(model)
    shape = metadata["preprocessing"]["input_shape"]
    metadata["preprocessing"][key] = value
    save_file(load_file(model), model, metadata={"inference": json.dumps(metadata)})
    inputs = tmp_path / "x.pt"
    torch.save(torch.rand(2, *shape), inputs)
    output = tmp_path / "p.csv"
    capsys.readouterr()
    code = predict.main([f"checkpoint={model}", f"input={inputs}", f"output={output}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and fragment in err[0], err
    assert not output.exists()


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("onnxruntime") is None, reason="needs pip install -e '.[export]'"
)
@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda m: m["preprocessing"].update(input_shape=[3, 9, 9]), "the ONNX graph takes"),
        (lambda m: m.update(classes=m["classes"][:3]), "logits, its metadata names 3"),
        (lambda m: m["preprocessing"].update(input_shape=[1, 10**6, 10**6]), "implausible"),
    ],
)
def test_tampered_onnx_metadata_is_refused(checkpoints, tmp_path, capsys, change, fragment):
    import onnx

    from {{cookiecutter.project_slug}}.inference.exported import METADATA_KEY

    model = tmp_path / "model.onnx"
    argv = [f"checkpoint={checkpoints[0]}", "format=onnx", f"output={model}"]
    with contextlib.redirect_stdout(io.StringIO()):
        assert export.main(argv) == 0
    proto = onnx.load(str(model))
    entry = next(p for p in proto.metadata_props if p.key == METADATA_KEY)
    metadata = json.loads(entry.value)
    shape = metadata["preprocessing"]["input_shape"]
    change(metadata)
    entry.value = json.dumps(metadata)
    onnx.save(proto, str(model))
    inputs, output = tmp_path / "x.pt", tmp_path / "p.csv"
    torch.save(torch.rand(2, *shape), inputs)
    capsys.readouterr()
    code = predict.main([f"checkpoint={model}", f"input={inputs}", f"output={output}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and fragment in err[0], err
    assert not output.exists()
