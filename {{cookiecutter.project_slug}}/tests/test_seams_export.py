"""Where export meets predict: a safetensors pair half-replaced by a killed export,
stale temporary files of one, and tampered metadata (std 0, an absurd input shape, a
class list that does not fit) end in one line, never in a wrong prediction."""

import contextlib
import importlib.util
import io
import json
import shutil

import pytest
import torch

import export
import predict

from .conftest import FAST

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


def predict_with(model, tmp_path, capsys) -> tuple[int, str]:
    inputs = tmp_path / "x.pt"
    shape = json.loads(model.with_suffix(".json").read_text())["preprocessing"]["input_shape"]
    torch.save(torch.rand(2, *shape), inputs)
    output = tmp_path / "p.csv"
    output.unlink(missing_ok=True)
    capsys.readouterr()
    code = predict.main([f"checkpoint={model}", f"input={inputs}", f"output={output}"])
    err = capsys.readouterr().err.strip().splitlines()
    if code:
        assert len(err) == 1 and not output.exists(), err
    return code, err[0] if err else ""


def test_half_replaced_safetensors_pair_is_refused(checkpoints, tmp_path, capsys):
    """What a kill between the two renames of ``overwrite=true`` leaves: the new weights
    beside the old sidecar. predict.py refuses the pair instead of predicting with it."""
    first, second = checkpoints
    model = tmp_path / "model.safetensors"
    other = tmp_path / "other" / "model.safetensors"
    other.parent.mkdir()
    assert export_to(first, model) == 0
    assert export_to(second, other) == 0
    assert predict_with(model, tmp_path, capsys)[0] == 0
    shutil.copy(other, model)  # weights replaced, sidecar not yet
    code, line = predict_with(model, tmp_path, capsys)
    assert code == 1 and "not one export" in line and "overwrite=true" in line, line


def test_export_overwrite_removes_a_killed_exports_temporary_files(checkpoints, tmp_path):
    model = tmp_path / "model.safetensors"
    assert export_to(checkpoints[0], model) == 0
    stale = [tmp_path / ".model.safetensors.k1ll3d.tmp", tmp_path / ".model.json.k1ll3d.tmp"]
    for path in stale:
        path.write_bytes(b"half")
    mine = tmp_path / ".notes.tmp"
    mine.write_text("a user's file")
    assert export_to(checkpoints[1], model, "overwrite=true") == 0
    assert not any(path.exists() for path in stale)
    assert mine.read_text() == "a user's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".notes.tmp",
        "model.json",
        "model.safetensors",
    ]


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("std", [0.0], "preprocessing.std"),
        ("std", [float("nan")], "preprocessing.std"),
        ("mean", ["a"], "preprocessing.mean"),
        ("input_shape", [1, 1000000, 1000000], "implausible input shape"),
    ],
)
def test_tampered_sidecar_preprocessing_is_refused(
    checkpoints, tmp_path, capsys, key, value, fragment
):
    model = tmp_path / "model.safetensors"
    assert export_to(checkpoints[0], model) == 0
    sidecar = model.with_suffix(".json")
    metadata = json.loads(sidecar.read_text())
    shape = metadata["preprocessing"]["input_shape"]
    metadata["preprocessing"][key] = value
    sidecar.write_text(json.dumps(metadata))
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
