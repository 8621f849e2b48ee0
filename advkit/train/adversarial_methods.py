"""The adversarial-training methods a config may name (``advtrain --method``), readable without torch (fast
``--help``); :mod:`advkit.train.adversarial_objective` implements them."""

METHODS = ("fgsm", "fgsm-rs", "pgd", "trades", "gaussian", "consistency")
# Training for randomized smoothing (advkit.certify.noise_training): noise, not adversarial examples.
NOISE_METHODS = ("gaussian", "consistency")
