"""Demos that reproduce a paper's figure: FGSM's panda-style figure and error vs eps (``advkit fgsm``,
Goodfellow et al. 2015) and the linearity argument (``advkit linear``, section 3).

    >>> from advkit.demos.linear import logistic_demo
    >>> round(logistic_demo()["p_adv"], 4)
    0.8808
"""
