"""The benchmark in benchmarks/ must keep running against the template as it changes:
a tiny case (a few steps on a few hundred images) through the real command, checking
that it reports every column and section. Never asserts a timing."""

import json
import math
import sys

from .conftest import TEMPLATE, run

COLUMNS = ["case", "variant", "steps/s", "epoch s", "ratio", "CPU ratio", "train CPU ratio"]
HEADER = "| " + " | ".join([*COLUMNS, "faults/step", "peak RSS MiB"]) + " |"


def run_benchmark(cookies, tmp_path, script: str, *options: str):
    """Bake the default project and run ``benchmarks/<script>`` on it; it must succeed."""
    baked = cookies.bake()
    assert baked.exit_code == 0, baked.exception
    command = [sys.executable, str(TEMPLATE / "benchmarks" / script)]
    done = run([*command, f"--project={baked.project_path}", *options], cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_benchmark_runs_and_reports(cookies, tmp_path):
    raw = tmp_path / "bench.json"
    done = run_benchmark(
        cookies,
        tmp_path,
        "run.py",
        "--quick",
        f"--work-dir={tmp_path / 'work'}",
        "--data-size=600",
        "--models=mlp",
        "--batch-sizes=32",
        "--variants=plain,trainer",  # Lightning is optional; not needed to catch rot
        "--steps=3",
        "--startup-repeats=1",
        "--no-memory",  # whole training runs: too slow for this check
        "--no-datapath",  # one more process; its code is a plain DataLoader pass
        "--whole-epochs=1",
        f"--json={raw}",
    )
    lines = done.stdout.splitlines()
    assert HEADER in lines
    first_table = lines[lines.index(HEADER) : lines.index("", lines.index(HEADER))]
    rows = [line for line in first_table if line.startswith("| mlp b32 cpu |")]
    assert [row.split("|")[2].strip() for row in rows] == ["plain", "trainer"]
    assert "start-up, default project: `python train.py` to the first training step" in done.stdout
    assert "| first_step |" in done.stdout  # the phase breakdown reached the training step
    assert "floor, a hand-written script" in done.stdout

    results = json.loads(raw.read_text())
    for row in results["loops"]:
        assert row["steps"] == 3
        for key in ("epoch_s", "epoch_cpu_s", "steps_per_s", "peak_rss_mb", "ratio"):
            assert math.isfinite(row[key]) and row[key] > 0, (key, row)
        assert row["faults"] >= 0  # a count (a warm allocator may map no new page)
    floor = results["startup"][0]["floor"]
    assert 0 < floor["imports"] <= floor["optimizer"] <= floor["first_step"]
    assert "| script | to first step | first to last step | after last step |" in done.stdout
    for name, marks in results["whole"].items():  # whole processes: steps ran, then exited
        assert 0 < marks["first_step"] <= marks["last_step"] < marks["exit"], (name, marks)
        assert 0 < marks["first_step_cpu"] <= marks["last_step_cpu"] < marks["cpu"], (name, marks)
    plain = next(row for row in results["loops"] if row["variant"] == "plain")
    assert plain["ratio"] == 1.0  # ratios are relative to the plain loop


def test_image_folder_benchmark_runs_and_reports(cookies, tmp_path):
    raw = tmp_path / "images.json"
    done = run_benchmark(
        cookies,
        tmp_path,
        "image_folder.py",
        "--images=60",
        "--batch-size=8",
        "--workers=0",
        "--repeats=1",
        f"--json={raw}",
    )
    for variant in ("generated", "course", "decode"):
        assert f"| {variant} |" in done.stdout
    assert "generated / course:" in done.stdout and "generated / decode-only:" in done.stdout
    medians = json.loads(raw.read_text())["median"]
    assert all(math.isfinite(value) and value > 0 for value in medians.values())


def test_image_folder_startup_benchmark_runs_and_reports(cookies, tmp_path):
    raw = tmp_path / "startup.json"
    done = run_benchmark(
        cookies,
        tmp_path,
        "image_folder.py",
        "--startup",
        "--sizes=100",
        f"--png-root={tmp_path / 'pngs'}",
        f"--json={raw}",
    )
    assert "| images | ImageFolder | new first | new second |" in done.stdout
    (row,) = json.loads(raw.read_text())
    assert row["images"] == 100 and len(list((tmp_path / "pngs" / "100").glob("*/*.png"))) == 100
    for column in ("ImageFolder", "new first", "new second"):
        marks = row[column]
        assert 0 < marks["data"] <= marks["first_step"] and marks["cpu"] > 0, (column, marks)
    assert not (tmp_path / "pngs" / "100" / ".cache").exists()  # the folder left as found
