"""GANs: objectives (losses.py), generators/discriminators (models.py), evaluation (metrics/), toy1d."""
