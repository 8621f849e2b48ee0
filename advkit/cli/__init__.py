"""The ``advkit`` command line (click + rich). Entry point: :func:`advkit.cli.main.cli`."""
