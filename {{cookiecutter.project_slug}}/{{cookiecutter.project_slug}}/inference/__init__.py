"""Inference: a trained model rebuilt from a checkpoint or an exported file, the
predictor predict.py uses, and the exporters. Nothing here imports ``trainer``."""

from .loading import Trained, load_trained

__all__ = ["Trained", "load_trained"]
