"""Inference: a trained model rebuilt from a checkpoint{% if cookiecutter.profile == "full" %} or an exported file{% endif %}, the
predictor predict.py uses{% if cookiecutter.profile == "full" %}, and the exporters{% endif %}. Nothing here imports ``trainer``."""

from .loading import Trained, load_trained

__all__ = ["Trained", "load_trained"]
