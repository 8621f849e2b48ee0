"""The classifier architectures a config may name (``--arch``), readable without importing torch (fast ``--help``);
advkit/models/classifiers.py registers one model per name."""

CLASSIFIER_ARCHS = ("softmax", "mlp", "maxout", "cnn", "madry")
