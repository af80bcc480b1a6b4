"""Shared by the guard-rail tests of the three scripts: a real trained run and the checks
every refusal must pass (one ``error:`` line, the exit code, files untouched)."""

from pathlib import Path

from .conftest import FAST, run_script


def train_tiny_run(run_dir: Path, data_root: Path) -> Path:
    """A real run directory written by train.py (config.yaml, checkpoints/best.pt...)."""
    args = [*FAST, f"data.root={data_root}", f"output_dir={run_dir}"]
    proc = run_script("train.py", *args, "trainer.epochs=1", "trainer.limit_train_batches=5")
    assert proc.returncode == 0, proc.stderr
    return run_dir


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``folder`` with its modification time (ns) and bytes: compare
    before and after a refusal."""
    return {
        str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.read_bytes())
        for p in folder.rglob("*")
        if p.is_file()
    }


def assert_one_error_line(proc, exit_code: int, *fragments: str) -> str:
    """The process failed with ``exit_code`` and ONE ``error:`` line holding ``fragments``."""
    assert proc.returncode == exit_code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def main_error_line(main, args: list[str], capsys, exit_code: int, *fragments: str) -> str:
    """A script's ``main(args)``, run in this process (no interpreter start and torch
    import: ~2.5 s a case), returned ``exit_code`` after ONE ``error:`` line holding
    ``fragments``. (train.py's main warns that it cannot enable its fault handler on
    pytest's captured stderr: filter "Unable to enable fault handler".)"""
    assert main(args) == exit_code
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]
