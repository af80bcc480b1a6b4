"""Inference: a trained model rebuilt from a checkpoint, and the predictor predict.py
uses. Nothing here imports ``trainer``."""

from .loading import Trained, load_trained

__all__ = ["Trained", "load_trained"]
