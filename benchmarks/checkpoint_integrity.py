"""What checkpoint integrity costs: save and load of a ~50 MB checkpoint with the
project's digests (``saver.integrity``) against plain ``torch.save``/``torch.load``.

    python benchmarks/checkpoint_integrity.py --project /path/to/baked/my_project

Saves through ``write_atomic`` both ways (plain bytes vs ``serialize``, which records
the sha256 of every tensor) and loads both files with ``load_checkpoint`` (the plain one
is loaded unchecked, with its one warning silenced). Prints the best of ``--repeats``
timings for each and the ratios.
"""

import argparse
import importlib
import io
import logging
import sys
import tempfile
import time
from pathlib import Path


def best_of(repeats: int, action) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True, help="a baked project")
    parser.add_argument("--megabytes", type=float, default=50.0)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    sys.path.insert(0, str(args.project.resolve()))
    import torch

    package = next(p.parents[1].name for p in args.project.glob("*/saver/integrity.py"))
    saver = importlib.import_module(f"{package}.saver.checkpoint")
    integrity = importlib.import_module(f"{package}.saver.integrity")
    logging.disable(logging.WARNING)  # the plain file's "no digests" line

    rows = int(args.megabytes * 1e6 / 4 / 1000 / 10)
    model = {f"layer{i}.weight": torch.randn(rows, 1000) for i in range(10)}
    state = {"model": model, "config": {}, "trainer": {"epoch": 1}}

    def plain() -> bytes:
        buffer = io.BytesIO()
        torch.save(state, buffer)
        return buffer.getvalue()

    folder = Path(tempfile.mkdtemp())
    plain_file, checked_file = folder / "plain.pt", folder / "checked.pt"
    n = args.repeats
    times = {
        "save, plain": best_of(n, lambda: saver.write_atomic(plain(), plain_file)),
        "save, with digests": best_of(
            n, lambda: saver.write_atomic(saver.serialize(state), checked_file)
        ),
        "load, unchecked": best_of(n, lambda: saver.load_checkpoint(plain_file)),
        "load, checked": best_of(n, lambda: saver.load_checkpoint(checked_file)),
        "digests alone": best_of(n, lambda: integrity.tensor_digests(state)),
    }
    print(f"checkpoint of {checked_file.stat().st_size / 1e6:.1f} MB, best of {n}:")
    for name, seconds in times.items():
        print(f"  {name:<20} {seconds * 1e3:7.1f} ms")
    print(
        f"  save ratio {times['save, with digests'] / times['save, plain']:.2f}x, "
        f"load ratio {times['load, checked'] / times['load, unchecked']:.2f}x"
    )


if __name__ == "__main__":
    main()
