"""wijkradar: early warning of declining livability in Dutch neighbourhoods.

The import packages are layers, top to bottom: ``wijkradar.app`` (CLI, pipeline, demo),
``serving`` (scoring job, outputs, report, API, page), ``ml`` (temporal validation, training,
evaluation, registry), ``models`` (estimators, explainer, packaged model) and ``features``
(sources, readers, panel, labels). This package's own modules ``config``, ``errors`` and
``catalog`` are the ground floor they all share; ``pyproject.toml`` holds the import-linter
contract that keeps the arrows pointing down.
"""

__version__ = "0.1.0"
