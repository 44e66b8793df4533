"""Batch scoring, published outputs and the report."""
