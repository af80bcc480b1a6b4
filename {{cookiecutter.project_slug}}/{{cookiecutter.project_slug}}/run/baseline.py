"""The baselines beside a run's results (model/baseline.py fits them): fitted on the run's
own splits when train.py starts and when evaluate.py runs, said in the log, written into
test_metrics.json, and set beside the model's test figures at the end, with one line
when the model ends below the linear model."""

import copy
from pathlib import Path

from ..model.baseline import Baselines, fit_baselines

NAMES = {"majority": "majority class", "linear": "linear (logistic regression)"}


def split_baselines(datamodule, config, splits=("train", "val", "test")) -> Baselines:
    """The baselines fitted on the training split, scored on the others in ``splits``."""
    datasets = {name: getattr(datamodule, f"{name}_set") for name in splits}
    datasets["train"] = unaugmented(datamodule.train_set, datamodule.test_set)
    return fit_baselines(datasets, datamodule.num_classes, config.seed)


def unaugmented(train, evaluation):
    """The training split prepared as evaluation prepares images (no random transforms):
    the linear model then learns from what the data holds, not from one random draw of
    the augmentation. Image folders carry their pipeline; other datasets are as they are."""
    if getattr(train, "pipeline", None) is None or getattr(evaluation, "pipeline", None) is None:
        return train
    view = copy.copy(train)
    view.pipeline, view.seed = evaluation.pipeline, None
    return view


def baseline_lines(baselines: Baselines, split: str | None = None) -> list[str]:
    """``baseline linear (logistic regression): val_accuracy 0.9583 | test_accuracy 0.9610``,
    one line per baseline (``split``: only that split's values)."""
    lines = []
    for kind, scores in baselines.scores.items():
        shown = {n: v for n, v in scores.items() if split is None or n.startswith(f"{split}_")}
        values = " | ".join(f"{name} {value:.4f}" for name, value in shown.items())
        lines.append(f"baseline {NAMES[kind]}: {values}")
    return lines


def below_baseline(
    test_metrics: dict[str, float], baselines: Baselines, config, picture: Path | None = None
) -> str | None:
    """One line when the model's test accuracy is below the linear baseline's, with what
    to try (``picture``: augmentations.png, named when it exists); None otherwise."""
    name = "test_accuracy"
    linear = baselines.scores.get("linear", {}).get(name)
    model = test_metrics.get(name)
    if linear is None or model is None or model >= linear:
        return None
    look = ""
    if picture is not None and picture.exists():
        look = f", and look at {picture} for transforms that change what an image shows"
    samples = baselines.sizes.get("test")
    gap = f" ({round((linear - model) * samples)} fewer of {samples} right)" if samples else ""
    return (
        f"the model is below the linear baseline: {name} {model:.4f} < {linear:.4f}{gap}. "
        f"Try more epochs (trainer.epochs={config.trainer.epochs} now), another learning "
        f"rate (optimizer.lr={config.optimizer.lr} now) or a smaller model{look}"
    )
