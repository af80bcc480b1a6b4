"""Objects that live as long as the process, kept out of the garbage collector's way.

Each full pass of Python's collector walks every tracked object it has not been told to
skip. torch (with torch._dynamo, which the first optimizer imports), torchmetrics and
matplotlib make about a million objects at import, all kept until exit, and a run's
passes walked them again and again: ~0.4 s of a 3-epoch MNIST run (whole process).
run/process.py freezes what a script's imports made (``gc.freeze()``: a generation no
pass walks; reference counting still frees those objects), and the big libraries that are
imported later, on first use, are imported with the collector off: an import makes
lasting objects, not garbage worth a pass. What exists mid-run is not frozen: doing so
raised the MNIST run's peak memory by ~140 MB.
"""

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def first_import(module: str) -> Iterator[None]:
    """Around code that imports ``module``, directly or not: the first time in the process,
    the collector is off meanwhile; once ``module`` is imported, this does nothing."""
    if module in sys.modules or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
