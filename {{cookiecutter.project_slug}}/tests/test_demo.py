"""demo.py: the Gradio page gives predict.py's classes and probabilities (through its HTTP
API, with gradio_client) and its error lines, for images, drawings and rows of a table;
a real headless Chromium uploads an image and reads the predicted class off the page.
Needs the demo extra (skipped without it)."""

import contextlib
import csv
import json
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

import pytest
import torch
from PIL import Image

import demo
import predict
from {{cookiecutter.project_slug}}.config import load_config
from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.inference.demo_page import DIGIT_CLASSES, ROW_NAME
from {{cookiecutter.project_slug}}.model import build_model
from {{cookiecutter.project_slug}}.trainer import ClassificationTrainer

from .conftest import FAST, PROJECT_ROOT, start_script, stop_process
from .test_csv_data import write_table


def _missing(*modules: str) -> str | None:
    import importlib.util

    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    return ", ".join(missing) or None


MISSING_DEMO = _missing("gradio", "gradio_client")
needs_demo = pytest.mark.skipif(
    MISSING_DEMO is not None,
    reason=f"{MISSING_DEMO} not installed (the demo extra: pip install -e '.[demo]')",
)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
# Headless and quiet: no GPU, no sandbox (containers, root), no calls to Google's services.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1100,800",
]


def test_bad_config_is_one_line_and_exit_2(tmp_path, capsys):
    """Checked before the checkpoint is read and before gradio is imported."""
    cases = [
        ([], "missing checkpoint="),
        ([f"checkpoint={tmp_path / 'x.pt'}", "top_k=0"], "top_k='0' is not allowed"),
        ([f"checkpoint={tmp_path / 'x.pt'}", "top_k=two"], "top_k='two' is not allowed"),
        ([f"checkpoint={tmp_path / 'x.pt'}", "port=70000"], "port='70000' is not allowed"),
        (["checkpoint=x.pt", "nonsense"], "is not of the form key=value"),
    ]
    for argv, message in cases:
        assert demo.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


@needs_demo
def test_missing_checkpoint_exits_1_like_predict(tmp_path, capsys):
    assert demo.main([f"checkpoint={tmp_path / 'nope.pt'}"]) == 1
    assert "nope.pt does not exist" in capsys.readouterr().err


@pytest.fixture(scope="module")
def trained(data_root, tmp_path_factory):
    """A briefly trained best.pt and the data module it was trained on."""
    run_dir = tmp_path_factory.mktemp("demo") / "run"
    overrides = [*FAST, f"data.root={data_root}", f"output_dir={run_dir}"]
    config = load_config(overrides=[*overrides, "trainer.epochs=1"])
    datamodule = build_datamodule(config.data, seed=config.seed)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    ClassificationTrainer(model, datamodule, config, run_dir).fit()
    return run_dir / "checkpoints" / "best.pt", datamodule


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(checkpoint, uploads, stop_signal=signal.SIGTERM):
    """``python demo.py checkpoint=...`` serving on a free local port; yields its URL.
    Stopped with ``stop_signal`` (SIGINT: Ctrl-C), killed if it does not end."""
    port = free_port()
    env = {"GRADIO_TEMP_DIR": str(uploads), "GRADIO_ANALYTICS_ENABLED": "False"}
    process = start_script("demo.py", f"checkpoint={checkpoint}", f"port={port}", env=env)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"demo.py exited {process.returncode}: {process.stderr.read()[-2000:]}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("demo.py did not serve its page within 180 s")
            time.sleep(0.5)
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(stop_signal)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.communicate(timeout=30)
        stop_process(process, timeout=30)


@pytest.fixture(scope="module")
def server(trained, tmp_path_factory):
    with serving(trained[0], tmp_path_factory.mktemp("gradio")) as url:
        yield url


def write_test_images(datamodule, folder, count: int) -> list:
    """The first ``count`` test images as 8-bit PNGs (the data module's normalization undone)."""
    folder.mkdir()
    inputs = datamodule.test_set.inputs[:count]
    pixels = (inputs * datamodule.std + datamodule.mean).clamp(0, 1) * 255
    paths = []
    for i, image in enumerate(pixels.round().to(torch.uint8).numpy()):
        paths.append(folder / f"test{i:02d}.png")
        Image.fromarray(image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)).save(
            paths[-1]
        )
    return paths


def assert_api_agrees_with_predict(url, checkpoint, datamodule, folder, count):
    from gradio_client import Client, handle_file

    paths = write_test_images(datamodule, folder / "images", count)
    rows = predict.predict(checkpoint, folder / "images", folder / "p.csv", [])
    client = Client(url, verbose=False)
    for path, (name, label, probability) in zip(paths, rows, strict=True):
        assert path.name == name
        answer = client.predict(handle_file(str(path)), api_name="/classify")
        assert answer["label"] == label, name
        top = answer["confidences"][0]
        assert top["label"] == label and top["confidence"] == pytest.approx(probability, abs=1e-5)
        shown = [entry["confidence"] for entry in answer["confidences"]]
        assert len(shown) == min(demo.DEFAULT_TOP_K, len(datamodule.classes))
        assert shown == sorted(shown, reverse=True)


@pytest.mark.slow
@needs_demo
def test_api_agrees_with_predict_on_20_images(trained, server, tmp_path):
    checkpoint, datamodule = trained
    assert_api_agrees_with_predict(server, checkpoint, datamodule, tmp_path, 20)


@pytest.mark.slow
@needs_demo
@pytest.mark.parametrize("export_format", ["onnx", "safetensors"])
def test_exported_models_serve_like_predict(trained, tmp_path, export_format):
    """``checkpoint=`` may be an export, as for predict.py."""
    tools = {"onnx": ("onnx", "onnxscript", "onnxruntime"), "safetensors": ("safetensors",)}
    missing = _missing(*tools[export_format])
    if missing:
        pytest.skip(f"{missing} not installed (the export extra: pip install -e '.[export]')")
    import export

    checkpoint, datamodule = trained
    exported = tmp_path / f"model.{export_format}"
    argv = [f"checkpoint={checkpoint}", f"format={export_format}", f"output={exported}"]
    assert export.main(argv) == 0
    (tmp_path / "uploads").mkdir()
    with serving(exported, tmp_path / "uploads") as url:
        assert_api_agrees_with_predict(url, exported, datamodule, tmp_path, 5)


@pytest.mark.slow
@needs_demo
def test_bad_file_gets_predicts_error_line_on_the_page(trained, server, tmp_path, capsys):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    checkpoint, _ = trained
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png")
    assert predict.main([f"checkpoint={checkpoint}", f"input={bad}", f"output={bad}.csv"]) == 1
    expected = capsys.readouterr().err.strip().replace(str(bad), bad.name)
    with pytest.raises(AppError) as raised:
        Client(server, verbose=False).predict(handle_file(str(bad)), api_name="/classify")
    assert str(raised.value) == expected


def call_api(url: str, endpoint: str, *data) -> tuple[str, object]:
    """One call of the page's HTTP API as any client may send it (no gradio_client, which
    uploads local files itself): (the event, its data)."""
    request = urllib.request.Request(
        f"{url}gradio_api/call/{endpoint}",
        data=json.dumps({"data": list(data)}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        event_id = json.load(response)["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/{endpoint}/{event_id}", timeout=60) as reply:
        lines = reply.read().decode().splitlines()
    event = next(line for line in lines if line.startswith("event: "))
    payload = next(line for line in lines if line.startswith("data: "))
    return event.removeprefix("event: "), json.loads(payload.removeprefix("data: "))


@pytest.mark.slow
@needs_demo
@pytest.mark.parametrize("named", ["README.md", "/etc/hostname", "../../x.png"])
def test_a_file_that_was_not_uploaded_is_refused_without_server_paths(server, named):
    """An API call naming a server file instead of uploading one is refused, and the
    answer names no folder of the server (the project's, the temp folder's)."""
    event, data = call_api(
        server, "classify", {"path": named, "meta": {"_type": "gradio.FileData"}}
    )
    assert event == "error", data
    text = json.dumps(data)
    assert str(PROJECT_ROOT) not in text and "/tmp" not in text and "/etc" not in text, text


@pytest.mark.slow
@needs_demo
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl_c", "sigterm"])
def test_uploads_are_deleted_once_answered_and_all_it_received_when_it_stops(
    trained, tmp_path, stop_signal
):
    """Each uploaded image is gone once its answer is sent (what the demo keeps while it
    runs stays bounded), and after Ctrl-C or SIGTERM nothing it received is left in
    GRADIO_TEMP_DIR."""
    from gradio_client import Client, handle_file

    checkpoint, datamodule = trained
    images = write_test_images(datamodule, tmp_path / "images", 3)
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    with serving(checkpoint, uploads, stop_signal) as url:
        client = Client(url, verbose=False)
        for image in images:
            assert client.predict(handle_file(str(image)), api_name="/classify")["label"]
        kept = sorted(path.name for path in uploads.rglob("*") if path.is_file())
        assert not [name for name in kept if name.startswith("test")], kept
    assert sorted(uploads.rglob("*")) == []


@pytest.mark.slow
@needs_demo
def test_drawing_of_a_test_digit_is_classified_like_the_image(trained, server, tmp_path):
    """The sketch pad's endpoint (digit models): a dark-on-white drawing of a test image."""
    from gradio_client import Client, handle_file

    checkpoint, datamodule = trained
    if datamodule.classes != DIGIT_CLASSES:
        pytest.skip("the sketch pad is only offered for digit classes")
    path = write_test_images(datamodule, tmp_path / "images", 1)[0]
    image = Image.open(path).convert("L")
    drawing = tmp_path / "drawing.png"
    # As drawn: dark strokes on a light canvas, bigger, with empty space round the digit.
    big = Image.eval(image, lambda value: 255 - value).resize((image.width * 8, image.height * 8))
    canvas = Image.new("L", (big.width * 2, big.height * 2), 255)
    canvas.paste(big, (big.width // 3, big.height // 2))
    canvas.save(drawing)
    client = Client(server, verbose=False)
    sketch = {"background": None, "layers": [], "composite": handle_file(str(drawing))}
    answer = client.predict(sketch, api_name="/classify_drawing")
    assert answer["label"] in datamodule.classes
    assert len(answer["confidences"]) == demo.DEFAULT_TOP_K


@pytest.mark.slow
@needs_demo
@pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None or _missing("selenium") is not None,
    reason="no headless browser: needs chromium and chromedriver on PATH "
    "(Debian: apt-get install chromium chromium-driver) and selenium (the demo extra)",
)
def test_browser_uploads_an_image_and_reads_the_label_or_the_error(
    trained, server, tmp_path, capsys
):
    """Real headless Chromium: open the page, upload a PNG, read the top class off the page;
    upload a corrupt one, read predict.py's error line. The screenshots are kept as
    artifacts: ``demo_page.png`` and ``demo_error.png`` in this test's tmp_path."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    checkpoint, datamodule = trained
    path = write_test_images(datamodule, tmp_path / "images", 1)[0]
    ((_, label, _),) = predict.predict(checkpoint, path, tmp_path / "p.csv", [])
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png")
    assert predict.main([f"checkpoint={checkpoint}", f"input={bad}", f"output={bad}.csv"]) == 1
    expected_error = capsys.readouterr().err.strip().replace(str(bad), bad.name)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        driver.get(server)
        wait = WebDriverWait(driver, 60)
        upload = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "input[type=file]"))
        upload.send_keys(str(path))
        shown = wait.until(
            lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=label-output-value]").text
        )
        time.sleep(0.5)  # let the confidence bars finish drawing for the screenshot
        driver.save_screenshot(str(tmp_path / "demo_page.png"))
        # A bad file: predict.py's error line appears on the page (a toast).
        driver.get(server)
        upload = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "input[type=file]"))
        upload.send_keys(str(bad))
        toast = wait.until(
            lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=toast-text]").text
        )
        driver.save_screenshot(str(tmp_path / "demo_error.png"))
    finally:
        driver.quit()
    print(f"screenshots: {tmp_path / 'demo_page.png'}, {tmp_path / 'demo_error.png'}")
    assert shown.strip() == label
    assert toast.strip() == expected_error
    with Image.open(tmp_path / "demo_page.png") as screenshot:
        assert screenshot.size[0] >= 800


@pytest.fixture(scope="module")
def table_model(tmp_path_factory):
    """A briefly trained best.pt of an MLP on a CSV table (data.name=csv)."""
    folder = tmp_path_factory.mktemp("table")
    table = write_table(folder / "animals.csv")
    overrides = [*FAST, "data.name=csv", f"data.root={table}", "model.name=mlp"]
    config = load_config(overrides=[*overrides, f"output_dir={folder / 'run'}"])
    datamodule = build_datamodule(config.data, seed=config.seed)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    ClassificationTrainer(model, datamodule, config, folder / "run").fit()
    return folder / "run" / "checkpoints" / "best.pt", datamodule.preprocessing()["features"]


@pytest.mark.slow
@needs_demo
def test_a_row_of_values_is_classified_like_predict_on_a_csv(table_model, tmp_path, capsys):
    """A table model's page takes one value per feature: the same class and probability as
    predict.py on the same rows in a CSV, and predict.py's error line for a bad value."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    checkpoint, features = table_model
    table = write_table(tmp_path / "new.csv", rows=5, seed=1)  # columns in another order
    with table.open(newline="") as handle:
        rows = [[row[name] for name in features] for row in csv.DictReader(handle)]
    expected = predict.predict(checkpoint, table, tmp_path / "p.csv", [])
    assert len(rows) == len(expected) == 5
    (tmp_path / "uploads").mkdir()
    with serving(checkpoint, tmp_path / "uploads") as url:
        client = Client(url, verbose=False)
        for values, (name, label, probability) in zip(rows, expected, strict=True):
            answer = client.predict(*values, api_name="/classify_row")
            top = answer["confidences"][0]
            assert answer["label"] == top["label"] == label, name
            assert top["confidence"] == pytest.approx(probability, abs=1e-5), name
            shown = [entry["confidence"] for entry in answer["confidences"]]
            assert len(shown) == 3 and shown == sorted(shown, reverse=True)
        for bad_value in ["abc", "inf", ""]:
            bad = tmp_path / "bad.csv"
            bad.write_text(",".join(features) + "\n" + ",".join([*rows[0][:-1], bad_value]))
            argv = [f"checkpoint={checkpoint}", f"input={bad}", f"output={bad}.out.csv"]
            assert predict.main(argv) == 1
            err = capsys.readouterr().err
            assert err.startswith("error: ") and err.count("\n") == 1, err
            with pytest.raises(AppError) as raised:
                client.predict(*rows[0][:-1], bad_value, api_name="/classify_row")
            assert str(raised.value) == err.strip().replace(str(bad), ROW_NAME), bad_value
