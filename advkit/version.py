"""The package version (one home: ``advkit.__version__``, ``advkit --version``, reports)."""

__version__ = "0.1.0"
