"""export.py: every format (safetensors with the metadata in its header, ONNX in ONNX
Runtime, torch.export) reproduces the trained MLP and CNN; predict.py gives the
checkpoint's predictions from an export; bad inputs are one error line and nothing is
written."""

import contextlib
import csv
import importlib.util
import io
import json
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import export
import predict
from {{cookiecutter.project_slug}}.config import load_config
from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.model import build_model
from {{cookiecutter.project_slug}}.trainer import ClassificationTrainer

from .conftest import FAST, run_script
from .guard_tools import assert_one_error_line, snapshot

TOOLS = {
    "safetensors": ("safetensors",),
    "onnx": ("onnx", "onnxscript", "onnxruntime"),
    "torch_export": (),
}
SUFFIX = {"safetensors": ".safetensors", "onnx": ".onnx", "torch_export": ".pt2"}
MODELS = ["mlp", "cnn"]


def needs(export_format: str):
    missing = [name for name in TOOLS[export_format] if importlib.util.find_spec(name) is None]
    reason = f"needs {', '.join(missing)}: pip install -e '.[export]'"
    return pytest.mark.skipif(bool(missing), reason=reason)


def marks(export_format: str) -> list:
    """The ONNX exporter takes 5-15 s per model: those tests are slow (the option bakes,
    which change no export code, skip them; the default bake and CI run them)."""
    return [needs(export_format)] + ([pytest.mark.slow] if export_format == "onnx" else [])


FORMATS = [pytest.param(f, marks=marks(f)) for f in TOOLS]


@pytest.fixture(scope="module")
def trained(data_root, tmp_path_factory):
    """``trained(name)``: (model in eval mode, best.pt, data module), trained once per
    model for 1 epoch of 5 batches."""
    cache = {}

    def make(name: str):
        if name not in cache:
            run_dir = tmp_path_factory.mktemp(f"export_{name}") / "run"
            config = load_config(
                overrides=[
                    *FAST,
                    f"data.root={data_root}",
                    f"output_dir={run_dir}",
                    f"model.name={name}",
                    "trainer.epochs=1",
                    "trainer.limit_train_batches=5",
                ]
            )
            datamodule = build_datamodule(config.data, seed=config.seed)
            model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
            ClassificationTrainer(model, datamodule, config, run_dir).fit()
            cache[name] = (model.eval(), run_dir / "checkpoints" / "best.pt", datamodule)
        return cache[name]

    return make


@pytest.fixture(scope="module")
def exported(trained):
    """``exported(model, format)``: (the file export.py wrote, what it printed), made
    once per pair."""
    cache = {}

    def make(name: str, export_format: str):
        if (name, export_format) not in cache:
            _, checkpoint, _ = trained(name)
            argv = [f"checkpoint={checkpoint}", f"format={export_format}"]
            with contextlib.redirect_stdout(io.StringIO()) as out:
                assert export.main(argv) == 0
            path = checkpoint.with_suffix(SUFFIX[export_format])
            cache[name, export_format] = path, out.getvalue()
        return cache[name, export_format]

    return make


def logits(model, inputs: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(inputs)


@pytest.mark.parametrize("export_format", FORMATS)
@pytest.mark.parametrize("name", MODELS)
def test_export_reproduces_the_model(trained, exported, name, export_format):
    """Loaded back with the format's own library (not export.py's code) and run on real
    test inputs, the export gives the trained model's logits."""
    model, checkpoint, datamodule = trained(name)
    path, out = exported(name, export_format)
    assert f"wrote {path}" in out and "max abs difference of the logits" in out, out
    inputs = datamodule.test_set.inputs[:13]  # not the batch sizes export.py checked
    expected = logits(model, inputs)
    saved = torch.load(checkpoint, weights_only=True)
    if export_format == "safetensors":
        from safetensors import safe_open
        from safetensors.torch import load_file

        weights = load_file(path)
        assert weights.keys() == saved["model"].keys()
        for key, tensor in weights.items():
            assert torch.equal(tensor, saved["model"][key]), key
        with safe_open(path, framework="pt") as handle:
            metadata = json.loads(handle.metadata()["inference"])
        assert metadata["classes"] == saved["classes"]
        assert metadata["preprocessing"] == saved["preprocessing"]
        assert metadata["config"]["model"]["name"] == name
        assert not path.with_suffix(".json").exists()  # one file
        return
    if export_format == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        assert isinstance(session.get_inputs()[0].shape[0], str)  # a dynamic batch size
        actual = torch.from_numpy(session.run(None, {"input": inputs.numpy()})[0])
        metadata = json.loads(session.get_modelmeta().custom_metadata_map["inference"])
        assert metadata["classes"] == saved["classes"]
    else:
        actual = logits(torch.export.load(path).module(), inputs)
    difference = float((actual - expected).abs().max())
    print(f"{name} {export_format}: max abs difference {difference:.3g}")
    assert difference <= 1e-4


def write_images(folder, input_shape) -> None:
    """Random 8-bit images of the model's size, and one larger RGB image to be resized."""
    _, height, width = input_shape
    rng = np.random.default_rng(0)
    for i in range(4):
        pixels = rng.integers(0, 256, size=(height, width), dtype=np.uint8)
        Image.fromarray(pixels, mode="L").save(folder / f"img{i}.png")
    rgb = rng.integers(0, 256, size=(height * 3, width * 3, 3), dtype=np.uint8)
    Image.fromarray(rgb, mode="RGB").save(folder / "big_rgb.png")


def read_csv(path) -> list[tuple[str, str, float]]:
    with path.open(newline="") as handle:
        return [(r["file"], r["class"], float(r["probability"])) for r in csv.DictReader(handle)]


@pytest.mark.parametrize(
    "export_format", [pytest.param(f, marks=marks(f)) for f in ("onnx", "safetensors")]
)
@pytest.mark.parametrize("name", MODELS)
def test_predict_on_an_export_matches_the_checkpoint(
    trained, exported, tmp_path, name, export_format
):
    _, checkpoint, datamodule = trained(name)
    path, _ = exported(name, export_format)
    folder = tmp_path / "inputs"
    folder.mkdir()
    write_images(folder, datamodule.input_shape)
    torch.save(datamodule.test_set.inputs[:5].clone(), folder / "batch.pt")
    from_checkpoint, from_export = tmp_path / "checkpoint.csv", tmp_path / "export.csv"
    assert (
        predict.main([f"checkpoint={checkpoint}", f"input={folder}", f"output={from_checkpoint}"])
        == 0
    )
    assert predict.main([f"checkpoint={path}", f"input={folder}", f"output={from_export}"]) == 0
    expected, actual = read_csv(from_checkpoint), read_csv(from_export)
    assert len(actual) == len(expected) == 10
    for (file, label, probability), (file2, label2, probability2) in zip(
        expected, actual, strict=True
    ):
        assert (file, label) == (file2, label2)
        assert probability2 == pytest.approx(probability, abs=2e-6)


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_bad_arguments_are_usage_errors(trained, tmp_path, capsys):
    _, checkpoint, _ = trained("mlp")
    before = sorted(checkpoint.parent.iterdir())
    cases = {
        "format=pickle": "format='pickle' is not allowed; use format=safetensors | onnx",
        "format=onnx tolerance=abc": "tolerance='abc' is not allowed",
        "format=onnx tolerance=-1": "tolerance='-1' is not allowed",
        f"format=onnx output={tmp_path / 'model.pt'}": "does not end in .onnx",
        "format=onnx overwrite=maybe": "overwrite='maybe' is not allowed",
    }
    for args, message in cases.items():
        assert export.main([f"checkpoint={checkpoint}", *args.split()]) == 2, args
        assert message in one_error_line(capsys), args
    assert export.main([f"checkpoint={checkpoint}"]) == 2
    assert "missing format=" in one_error_line(capsys)
    assert export.main(["format=onnx"]) == 2
    assert "missing checkpoint=" in one_error_line(capsys)
    assert sorted(checkpoint.parent.iterdir()) == before  # nothing written
    assert list(tmp_path.iterdir()) == []


def test_the_script_refuses_a_bad_format_in_one_line(trained):
    """As a user runs it: exit 2, one ``error:`` line, the run's folder untouched."""
    _, checkpoint, _ = trained("mlp")
    before = snapshot(checkpoint.parent)
    proc = run_script("export.py", f"checkpoint={checkpoint}", "format=tflite")
    assert_one_error_line(proc, 2, "format='tflite' is not allowed", "torch_export")
    assert snapshot(checkpoint.parent) == before


@pytest.mark.parametrize("export_format", FORMATS)
def test_bad_checkpoints_exit_1_and_write_nothing(tmp_path, capsys, export_format):
    (tmp_path / "notes.pt").write_text("not a checkpoint")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "bare.pt")
    cases = {
        "missing.pt": "missing.pt does not exist",
        "notes.pt": "was not written by torch.save",
        "bare.pt": "bare model state_dict",
    }
    for name, message in cases.items():
        argv = [f"checkpoint={tmp_path / name}", f"format={export_format}"]
        assert export.main(argv) == 1, name
        assert message in one_error_line(capsys), name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bare.pt", "notes.pt"]


@needs("safetensors")
def test_existing_files_are_replaced_only_with_overwrite(trained, tmp_path, capsys):
    _, checkpoint, _ = trained("mlp")
    output = tmp_path / "model.safetensors"
    notes = tmp_path / "model.json"  # a file of the user's, beside: not export.py's
    notes.write_text("mine")
    argv = [f"checkpoint={checkpoint}", "format=safetensors", f"output={output}"]
    assert export.main(argv) == 0
    written = output.read_bytes()
    output.write_bytes(b"mine")
    assert export.main(argv) == 1
    assert f"output={output} already exists" in one_error_line(capsys)
    assert output.read_bytes() == b"mine"
    assert export.main([*argv, "overwrite=true"]) == 0
    assert output.read_bytes() == written
    assert notes.read_text() == "mine"


@pytest.mark.slow
@needs("onnx")
def test_an_export_beyond_the_tolerance_is_refused(trained, tmp_path, capsys):
    """ONNX Runtime's float32 sums differ from PyTorch's in the last bits (1e-7 to 1e-6
    on these models); tolerance=0 must refuse that export and write nothing."""
    _, checkpoint, _ = trained("cnn")
    output = tmp_path / "model.onnx"
    argv = [f"checkpoint={checkpoint}", "format=onnx", f"output={output}", "tolerance=0"]
    assert export.main(argv) == 1
    line = one_error_line(capsys)
    assert "more than tolerance=0" in line and "nothing was written" in line, line
    assert not output.exists()


@pytest.mark.parametrize("export_format", ["onnx", "safetensors"])
def test_missing_export_tools_say_how_to_install_them(
    trained, tmp_path, capsys, monkeypatch, export_format
):
    _, checkpoint, datamodule = trained("mlp")
    package = TOOLS[export_format][-1]
    monkeypatch.setitem(sys.modules, package, None)  # makes ``import package`` fail
    model = tmp_path / f"model{SUFFIX[export_format]}"
    assert (
        export.main([f"checkpoint={checkpoint}", f"format={export_format}", f"output={model}"]) == 1
    )
    line = one_error_line(capsys)
    assert package in line and "pip install -e '.[export]'" in line, line
    assert list(tmp_path.iterdir()) == []
    # predict.py, given such a file, says the same.
    model.write_bytes(b"x")
    torch.save(datamodule.test_set.inputs[:2].clone(), tmp_path / "x.pt")
    argv = [f"checkpoint={model}", f"input={tmp_path / 'x.pt'}", f"output={tmp_path / 'p.csv'}"]
    assert predict.main(argv) == 1
    line = one_error_line(capsys)
    assert package in line and "pip install -e '.[export]'" in line, line


@pytest.mark.slow
@needs("safetensors")
@needs("onnx")
def test_predict_refuses_broken_exports(trained, exported, tmp_path, capsys):
    _, _, datamodule = trained("mlp")
    torch.save(datamodule.test_set.inputs[:2].clone(), tmp_path / "x.pt")
    weights, _ = exported("mlp", "safetensors")
    from safetensors.torch import load_file, save_file

    lonely = tmp_path / "lonely.safetensors"  # weights saved without export.py's metadata
    save_file(load_file(weights), lonely)
    (tmp_path / "broken.onnx").write_bytes(b"not an onnx model")
    (tmp_path / "program.pt2").write_bytes(b"PK")
    (tmp_path / "broken.safetensors").write_bytes(b"garbage")
    # A valid ONNX model without export.py's metadata (classes, preprocessing).
    import onnx

    foreign = onnx.load(str(exported("mlp", "onnx")[0]))
    del foreign.metadata_props[:]
    onnx.save(foreign, str(tmp_path / "foreign.onnx"))
    cases = {
        lonely: "holds no export metadata in its header",
        tmp_path / "broken.safetensors": "cannot read safetensors file",
        tmp_path / "broken.onnx": "cannot load ONNX model",
        tmp_path / "foreign.onnx": "holds no export metadata",
        tmp_path / "program.pt2": "does not run torch.export programs",
        tmp_path / "gone.onnx": "does not exist",
    }
    output = tmp_path / "p.csv"
    for path, message in cases.items():
        argv = [f"checkpoint={path}", f"input={tmp_path / 'x.pt'}", f"output={output}"]
        assert predict.main(argv) == 1, path
        assert message in one_error_line(capsys), path
    assert not output.exists()
