"""Temporal validation, training, evaluation and the model registry."""
