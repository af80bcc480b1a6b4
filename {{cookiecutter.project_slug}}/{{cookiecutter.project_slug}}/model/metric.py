"""Metrics chosen in config (key ``metrics``), computed by torchmetrics.

Each entry is a name (``accuracy``) or a name with options (``{name: f1, average:
micro}``), reported as ``val_<label>``/``test_<label>`` (see config/metric_spec.py).
A metric keeps its state (counts, or the scores for AUROC) on the device and is
computed once per epoch over every sample: exact epoch values, not averages of batch
values, and no host sync per batch. A new metric is one factory registered here:
``@METRICS.register("name")`` on ``f(num_classes, **options)``, which checks its options
(ValueError) and returns a function that builds the metric with ``tm()``. Checking a
config calls the factory only, so torchmetrics loads after the first training step.
"""

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

from ..config import Registry
from ..config.metric_spec import metric_spec
from ..utils.errors import ConfigError
from ..utils.lasting import first_import

if TYPE_CHECKING:
    from torchmetrics import Metric, MetricCollection

METRICS = Registry("metrics")  # name -> factory(num_classes, **options) -> build() -> Metric

# Labels are checked at load time (data/base.py), so the per-batch argument checks,
# each a host sync, are skipped.
FAST = {"validate_args": False}


Builder = Callable[[], "Metric"]


@METRICS.register("accuracy")
def accuracy(num_classes: int, top_k: int = 1) -> Builder:
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= num_classes:
        raise ValueError(
            f"top_k={top_k!r} must be a whole number from 1 to {num_classes}, the number of classes"
        )
    return lambda: tm().MulticlassAccuracy(num_classes, top_k=top_k, average="micro", **FAST)


def top_k_accuracy(k: int):
    def factory(num_classes: int) -> Builder | None:
        # With k or fewer classes every prediction is in the top k: always 1.0, left out.
        return None if k >= num_classes else accuracy(num_classes, top_k=k)

    return factory


for k in (2, 3, 5, 10):
    METRICS.register(f"top{k}_accuracy")(top_k_accuracy(k))


def tm():
    """torchmetrics' classification metrics, imported on first use: the import takes a
    few seconds (it loads matplotlib, torchvision and scipy), which scripts that build no
    metric (predict.py, --help) should not pay."""
    import_torchmetrics()
    from torchmetrics import classification

    return classification


def import_torchmetrics():
    """``import torchmetrics`` without ``scipy.signal`` (0.7-1.1 s of every run's start):
    torchmetrics imports it in three ``__init__`` files only to add
    ``scipy.signal.hamming`` back for SRMRpy, the SRMR audio metric's dependency
    (torchmetrics issue #3457). Each shim first asks whether scipy is installed, so during
    this one import those questions answer no; nothing else asks at import time, and
    every metric that uses scipy still imports it when it runs."""
    if "torchmetrics" in sys.modules:
        return sys.modules["torchmetrics"]
    try:  # torchmetrics' own dependency; a version without it just imports as is
        from lightning_utilities.core import imports
    except ImportError:
        import torchmetrics

        return torchmetrics
    available, cached = imports.package_available, imports.RequirementCache.__bool__
    imports.package_available = lambda name: name != "scipy" and available(name)
    imports.RequirementCache.__bool__ = lambda self: self.requirement != "scipy" and cached(self)
    try:
        with first_import("torchmetrics"):
            import torchmetrics
    finally:
        imports.package_available, imports.RequirementCache.__bool__ = available, cached
    return torchmetrics


def averaged(average: str) -> str:
    """One number per metric: per-class values (average=none) are in the test report."""
    if average not in AVERAGES:
        raise ValueError(f"average={average!r} is not one of {list(AVERAGES)}")
    return average


AVERAGES = ("macro", "micro", "weighted")


@METRICS.register("f1")
def f1(num_classes: int, average: str = "macro") -> Builder:
    average = averaged(average)
    return lambda: tm().MulticlassF1Score(num_classes, average=average, **FAST)


@METRICS.register("precision")
def precision(num_classes: int, average: str = "macro") -> Builder:
    average = averaged(average)
    return lambda: tm().MulticlassPrecision(num_classes, average=average, **FAST)


@METRICS.register("recall")
def recall(num_classes: int, average: str = "macro") -> Builder:
    average = averaged(average)
    return lambda: tm().MulticlassRecall(num_classes, average=average, **FAST)


@METRICS.register("auroc")
def auroc(num_classes: int, average: str = "macro") -> Builder:
    # thresholds=None: exact, from every score of the epoch (kept until compute).
    average = averaged(average)
    if average == "micro":
        raise ValueError("auroc takes average=macro or weighted")
    return lambda: tm().MulticlassAUROC(num_classes, average=average, thresholds=None, **FAST)


def build_metrics(entries, num_classes: int) -> "MetricCollection":
    """The configured metrics, by label (``compute()`` returns ``{label: value}``); a
    factory returns None for a metric that means nothing with ``num_classes`` classes."""
    metrics = {}
    for entry in entries:
        label, name, options = metric_spec(entry)
        build = METRICS.get(name)(num_classes, **options)
        if build is not None:
            metrics[label] = build()
    MetricCollection = import_torchmetrics().MetricCollection  # noqa: N806

    # compute_groups=False: every metric keeps its own state, saved and restored as is.
    return MetricCollection(metrics, compute_groups=False)


def check_metrics(entries, num_classes: int) -> None:
    """Check the metrics' options against the data's real number of classes (config load
    can only check what does not depend on it, e.g. not ``top_k`` against the classes),
    without building them: torchmetrics is imported at the first validation."""
    for entry in entries:
        label, name, options = metric_spec(entry)
        try:
            METRICS.get(name)(num_classes, **options)  # checks; the builder it returns is unused
        except (TypeError, ValueError) as error:
            raise ConfigError(f"metrics: {label}: {error}") from None


def holds_accuracy(entries) -> bool:
    """Whether ``metrics`` holds plain (top-1) ``accuracy`` under its own name."""
    return any(
        metric_spec(entry)[:2] == ("accuracy", "accuracy")
        and metric_spec(entry)[2].get("top_k", 1) == 1
        for entry in entries
    )


def right_answers(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """How many top-1 answers are right, as an integer tensor on the device (no host sync,
    no torchmetrics: training batches' accuracy and the baselines' use it; ``accuracy``
    of torchmetrics, micro-averaged, gives the same share over the same samples)."""
    if targets.ndim > 1:  # class probabilities (mixup...): the most likely class
        targets = targets.argmax(1)
    return torch.eq(logits.detach().argmax(1), targets).sum()


def batch_accuracy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The share of right top-1 answers."""
    return right_answers(logits, targets) / len(targets)


def confusion_matrix(num_classes: int) -> "Metric":
    return tm().MulticlassConfusionMatrix(num_classes, **FAST)


def compute_metrics(metrics: "MetricCollection") -> dict[str, float]:
    """Every single-number metric over all its updates; others, such as a confusion
    matrix, are read from the collection."""
    values = metrics.compute().items()
    return {label: value.item() for label, value in values if value.numel() == 1}
