"""A script as the whole process: what train.py's ``main`` runs inside when it is the
program (a test calling ``main()`` keeps its own collector as it was).

Python's collector walks, on each full pass, every tracked object it has not been told
to skip. torch, torchmetrics and matplotlib make about a million objects at import, all
kept until exit; freezing them (``gc.freeze()``: a generation no pass walks; reference
counting still frees them) took ~0.4 s off a 3-epoch MNIST run. Freezing again before
the exit spares the interpreter's last collection (~0.5 s), which would walk every object
torch made only to free memory the OS takes back anyway. What exists mid-run is not
frozen: that raised the run's peak memory by ~140 MB. (The big libraries imported later,
on first use, are imported with the collector off: utils/lasting.py.)"""

import gc
import sys
from collections.abc import Callable
from typing import NoReturn


def run_as_process(main: Callable[[], int], end: Callable[[int], NoReturn] = sys.exit) -> NoReturn:
    """``end(main())``, with what the imports made frozen before and everything frozen
    after (every output is written and closed by then; atexit handlers, the log
    handlers' flush and stdout's flush still run)."""
    gc.freeze()
    exit_code = main()
    gc.freeze()
    end(exit_code)
