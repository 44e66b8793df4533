"""A generated NL-sized panel with known mechanisms and a ground-truth file.

``generate`` is pure: it returns the source files' texts, the truth and the config text; the
CLI writes them into a workspace through the catalog.
"""

from features.synth.generate import SyntheticData, generate

__all__ = ["SyntheticData", "generate"]
