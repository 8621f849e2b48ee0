"""Models: the registry (``advkit.models.registry``: every model built from a registered name and a dataclass
config), the classifiers, batch-norm folding, and ``names`` (the architecture names a config may choose, readable
without torch)."""
