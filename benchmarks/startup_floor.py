"""The start-up floor: a hand-written script's time to its first training step.

    BENCH_SPAWN_TIME=<time.time() before spawning> python startup_floor.py

Imports torch, builds the default project's MLP (64-128-64-10) and Adam, and runs one
forward pass on a batch of 32, the least any PyTorch training script does before its
first step. Prints ``BENCH_STARTUP {json}`` with the time each phase ended, in seconds
since the parent spawned this process, like ``startup_probe.py``.
"""

import time

STARTED = time.time()  # first line: interpreter start-up is everything before it

import json  # noqa: E402
import os  # noqa: E402

SPAWNED = float(os.environ.get("BENCH_SPAWN_TIME", STARTED))
marks = {"interpreter": STARTED - SPAWNED}

import torch  # noqa: E402
from torch import nn  # noqa: E402

marks["imports"] = time.time() - SPAWNED
model = nn.Sequential(
    nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10)
)
# Building any optimizer imports torch._dynamo (Optimizer methods are wrapped in
# torch._disable_dynamo): every training script pays it, so it belongs to the floor.
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
marks["optimizer"] = time.time() - SPAWNED
inputs, targets = torch.randn(32, 1, 8, 8), torch.randint(0, 10, (32,))
loss = nn.functional.cross_entropy(model(inputs), targets)
marks["first_step"] = time.time() - SPAWNED
print("BENCH_STARTUP " + json.dumps(marks), flush=True)
