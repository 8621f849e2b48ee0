"""advkit: adversarial examples, GANs and denoising GANs, made real, fast and reproducible.

    >>> import advkit
    >>> advkit.__version__
    '0.1.0'
"""

__version__ = "0.1.0"
