"""Adversarial examples in practice: the linearity demo, the adversarial-training objective, robustness metrics.

    >>> from advkit.adversarial.linear import logistic_demo
    >>> from advkit.adversarial.objective import adversarial_objective
    >>> from advkit.adversarial.evaluate import robustness
"""
