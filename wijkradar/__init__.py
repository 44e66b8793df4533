"""wijkradar: early warning of declining livability in Dutch neighbourhoods.

The import packages follow the data flow: ``features`` (sources -> panel and labels),
``ml`` (temporal validation, training, registry), ``models`` (estimators and the packaged
model), ``serving`` (scoring, outputs, report). This package holds what they share:
typed configuration, the workspace catalog, the error hierarchy and the CLI.
"""

__version__ = "0.1.0"
