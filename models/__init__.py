"""Estimators, and the packaged model with its explainer."""
