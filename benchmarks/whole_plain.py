"""The whole-process baseline: a hand-written MNIST script, start to exit.

    BENCH_SPAWN_TIME=<time.time() before spawning> python whole_plain.py DATA_ROOT EPOCHS OUT_DIR

What the course's script does, on the data path the project uses (so the comparison
measures the template's fixed cost and loop, not data loading): read the four IDX files
into tensors, scale and normalise once, hold out 10 % for validation (seed 42), the MLP
784-128-64-10 with Adam (lr 1e-3), batch 64 shuffled, ``EPOCHS`` epochs of the five-line
loop with a validation pass (loss, accuracy) and ``torch.save(model.state_dict())`` after
each, then the test split's accuracy. Prints ``BENCH_WHOLE {json}``: the wall time (since
the parent spawned this process) and the CPU time of the first and of the last training
step (the parent adds the exit time).
"""

import time

STARTED = time.time()  # first line: interpreter start-up is everything before it

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, Dataset  # noqa: E402

SPAWNED = float(os.environ.get("BENCH_SPAWN_TIME", STARTED))


class Tensors(Dataset):
    """In-memory tensors, indexed a batch at a time (as the project's dataset is)."""

    def __init__(self, inputs, targets):
        self.inputs, self.targets = inputs, targets

    def __len__(self):
        return len(self.targets)

    def __getitems__(self, indices):
        index = torch.as_tensor(indices)
        return self.inputs[index], self.targets[index]


def read_idx(path: Path, offset: int) -> torch.Tensor:
    return torch.from_numpy(np.fromfile(path, dtype=np.uint8, offset=offset).copy())


def load(raw: Path, prefix: str):
    images = read_idx(raw / f"{prefix}-images-idx3-ubyte", 16).view(-1, 1, 28, 28)
    labels = read_idx(raw / f"{prefix}-labels-idx1-ubyte", 8).long()
    return (images.float() / 255.0 - 0.1307) / 0.3081, labels


def main() -> None:
    raw, epochs, out = Path(sys.argv[1]) / "MNIST" / "raw", int(sys.argv[2]), Path(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(42)
    images, labels = load(raw, "train")
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(42))
    n_val = len(labels) // 10
    val_idx, train_idx = order[:n_val], order[n_val:]
    batched = {"collate_fn": lambda batch: batch}
    train_loader = DataLoader(
        Tensors(images[train_idx], labels[train_idx]), batch_size=64, shuffle=True, **batched
    )
    val_loader = DataLoader(Tensors(images[val_idx], labels[val_idx]), batch_size=512, **batched)
    test_loader = DataLoader(Tensors(*load(raw, "t10k")), batch_size=512, **batched)
    model = nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 128),
        nn.ReLU(),
        nn.Linear(128, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    marks = {}
    for epoch in range(epochs):
        model.train()
        for step, (x, y) in enumerate(train_loader):
            now, cpu = time.time() - SPAWNED, time.process_time()
            marks.setdefault("first_step", now)
            marks.setdefault("first_step_cpu", cpu)
            marks["last_step"], marks["last_step_cpu"] = now, cpu
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            if step % 50 == 0:
                loss.item()
        val_loss, val_acc = evaluate(model, val_loader, loss_fn)
        print(f"epoch {epoch + 1}: val_loss {val_loss:.4f} val_accuracy {val_acc:.4f}")
        torch.save(model.state_dict(), out / "model.pt")
    print(f"test_accuracy: {evaluate(model, test_loader, loss_fn)[1]:.4f}")
    print("BENCH_WHOLE " + json.dumps(marks), flush=True)


def evaluate(model, loader, loss_fn) -> tuple[float, float]:
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x)
            total_loss += loss_fn(logits, y).item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            count += len(y)
    return total_loss / count, correct / count


if __name__ == "__main__":
    main()
