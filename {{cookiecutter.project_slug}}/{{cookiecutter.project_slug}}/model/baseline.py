"""Plain baselines on the run's own splits, to read the model's accuracy against: the
majority class (always the most frequent training class) and a linear model, a
multinomial logistic regression on the inputs as the model gets them (image folders: as
evaluation prepares them, see run/baseline.py), flattened (large images averaged down to
at most MAX_FEATURES values).

The linear model is written in torch rather than taken from scikit-learn, so every
project has it without a new dependency: ``nn.Linear`` on standardized features, trained
full-batch by L-BFGS with the L2 penalty of scikit-learn's ``LogisticRegression()``
default (C=1). The problem is convex: L-BFGS needs no learning rate and converges in
tens of iterations, deterministically (zero start, no random draws).

Bounded so it never costs more than a few seconds: at most MAX_CELLS input values
(training samples beyond them are a fixed random subset, said so), inputs read within
READ_SECONDS, and skipped with one line saying why when it cannot fit (inputs that are
not numbers, a time budget)."""

import math
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from .metric import batch_accuracy

MAX_FEATURES = 3072  # e.g. 3 x 32 x 32: larger images are averaged down to this
MAX_CELLS = 10_000_000  # training samples x features (40 MB of float32): ~1-3 s to fit
READ_SECONDS = 10.0  # reading every split's inputs (image files are decoded again)
ITERATIONS = 100  # L-BFGS iterations: enough for tens of classes
CHUNK = 256  # samples read at a time


class Skipped(Exception):
    """The linear baseline cannot be fitted here; the message says why."""


@dataclass
class Baselines:
    """``scores``: {"majority": {"val_accuracy": ...}, "linear": {...}}; ``sizes``: the
    samples of each scored split; ``notes``: how each was fitted, or why it was skipped
    (one line each)."""

    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def fit_baselines(splits: dict, num_classes: int, seed: int = 0) -> Baselines:
    """Fit on ``splits["train"]`` and score every other split (``{"val": dataset, ...}``;
    a dataset yields (input tensor, class index)): ``<split>_accuracy``. Accuracy only:
    counted here, without torchmetrics, which loads at the first validation (~1 s the
    first training step need not wait for)."""
    result, started = Baselines(), time.monotonic()
    try:
        read, subset = read_splits(splits, seed, started + READ_SECONDS)
    except Skipped as why:
        read, subset = {}, None
        result.notes.append(f"linear baseline skipped: {why}")
    labels = {name: known_targets(dataset) for name, dataset in splits.items()}
    labels = {name: t for name, t in labels.items() if t is not None}
    labels = {name: read[name][1] for name in read} | labels  # all the training labels
    if "train" in labels:
        prior = class_prior(labels["train"], num_classes).log()
        result.scores["majority"] = {}
        for name in sorted(set(labels) - {"train"}, key=list(splits).index):
            result.sizes[name] = len(labels[name])
            logits = prior.expand(len(labels[name]), -1)
            result.scores["majority"] |= score(logits, labels[name], name)
    if not read:
        return result
    features, targets = read.pop("train")
    mean, std = features.mean(0), features.std(0).nan_to_num(1.0).clamp_min(1e-6)
    linear, setup = fit_linear((features - mean) / std, targets, num_classes)
    result.scores["linear"] = {}
    with torch.no_grad():
        for name, (inputs, targets) in read.items():
            logits = linear((inputs - mean) / std)
            result.scores["linear"] |= score(logits, targets, name)
    used = "" if subset is None else f" ({subset})"
    result.notes.append(
        f"linear baseline: logistic regression on {features.shape[1]} input values, "
        f"fitted on {len(features)} training samples{used} in "
        f"{time.monotonic() - started - setup:.1f} s"
    )
    return result


def known_targets(dataset) -> torch.Tensor | None:
    """Every label of ``dataset`` when it lists them (``targets``), without reading inputs."""
    targets = getattr(dataset, "targets", None)
    return None if targets is None else torch.as_tensor(targets).long()


def read_splits(splits: dict, seed: int, deadline: float):
    """({split: (inputs (N, F), targets (N,))}, note on the training subset or None)."""
    read = {"train": read_training_split(splits["train"], seed, deadline)}
    note = read["train"][2]
    read["train"] = read["train"][:2]
    for name, dataset in splits.items():
        if name != "train":
            read[name] = read_split(dataset, torch.arange(len(dataset)), deadline)
    return read, note


def class_prior(targets: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Training share of each class (never exactly 0, so its log is finite)."""
    counts = torch.bincount(targets, minlength=num_classes).float()
    return (counts / counts.sum()).clamp_min(1e-12)


def score(logits: torch.Tensor, targets: torch.Tensor, split: str) -> dict[str, float]:
    """The accuracy of these predictions, named as the model's: ``test_accuracy``."""
    return {f"{split}_accuracy": batch_accuracy(logits, targets).item()}


def read_training_split(dataset, seed: int, deadline: float):
    """(features, targets, note): the training inputs, or a fixed random subset of them
    when all would exceed MAX_CELLS (note: how many of how many)."""
    first = dataset[0][0]
    if not isinstance(first, torch.Tensor) or not first.is_floating_point():
        raise Skipped("the inputs are not tensors of numbers")
    features = flat_size(first.shape)
    limit = max(1, MAX_CELLS // features)
    indices = torch.arange(len(dataset))
    note = None
    if len(dataset) > limit:
        generator = torch.Generator().manual_seed(seed)
        indices = torch.randperm(len(dataset), generator=generator)[:limit].sort().values
        note = f"a random {limit} of {len(dataset)}, to fit in a few seconds"
    inputs, targets = read_split(dataset, indices, deadline)
    return inputs, targets, note


def flat_size(shape) -> int:
    return math.prod(shrunk_shape(shape))


def shrunk_shape(shape) -> tuple[int, ...]:
    """(C, H, W) images averaged down to at most MAX_FEATURES values; other inputs as is."""
    if len(shape) != 3 or math.prod(shape) <= MAX_FEATURES:
        return tuple(shape)
    channels, height, width = shape
    factor = math.sqrt(MAX_FEATURES / math.prod(shape))
    return channels, max(1, int(height * factor)), max(1, int(width * factor))


def read_split(dataset, indices: torch.Tensor, deadline: float):
    """(inputs flattened to (N, F) float32, targets (N,)) of ``dataset[indices]``."""
    inputs, targets = [], []
    batched = hasattr(dataset, "__getitems__")
    for start in range(0, len(indices), CHUNK):
        chunk = indices[start : start + CHUNK].tolist()
        if batched:
            x, y = dataset.__getitems__(chunk)
        else:
            items = [dataset[i] for i in chunk]
            x = torch.stack([item[0] for item in items])
            y = torch.as_tensor([int(item[1]) for item in items])
        inputs.append(flatten(x))
        targets.append(torch.as_tensor(y).long())
        if time.monotonic() > deadline:
            raise Skipped(
                f"reading the inputs took more than {READ_SECONDS:.0f} s "
                f"({start + len(chunk)} of {len(indices)} samples read)"
            )
    return torch.cat(inputs), torch.cat(targets)


def flatten(inputs: torch.Tensor) -> torch.Tensor:
    """(N, ...) -> (N, F) float32; images averaged down to shrunk_shape first."""
    inputs = inputs.detach().float().cpu()
    shape = shrunk_shape(inputs.shape[1:])
    if tuple(shape) != tuple(inputs.shape[1:]):
        inputs = nn.functional.adaptive_avg_pool2d(inputs, shape[1:])
    features = inputs.reshape(len(inputs), -1)
    if features.shape[1] > MAX_FEATURES:
        raise Skipped(f"{features.shape[1]} input values per sample (more than {MAX_FEATURES})")
    return features


def fit_linear(features: torch.Tensor, targets: torch.Tensor, num_classes: int):
    """Multinomial logistic regression: mean cross-entropy + ||W||^2 / (2 N), as
    scikit-learn's ``LogisticRegression(C=1)`` (its sum form, divided by N). Returns the
    model and the seconds its optimizer took to build: the process's first optimizer
    imports torch._dynamo (~1-6 s), which training would wait for anyway, so it is not
    counted as the baseline's time."""
    linear = nn.Linear(features.shape[1], num_classes)
    nn.init.zeros_(linear.weight)
    nn.init.zeros_(linear.bias)
    started = time.monotonic()
    optimizer = torch.optim.LBFGS(
        linear.parameters(), max_iter=ITERATIONS, line_search_fn="strong_wolfe"
    )
    setup = time.monotonic() - started
    penalty = 1.0 / (2 * len(features))

    def closure():
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(linear(features), targets)
        loss = loss + penalty * linear.weight.square().sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    return linear, setup
