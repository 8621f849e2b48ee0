"""Robustness evaluation: load a model and data from one-string specs, attack them at several budgets, take the
worst case per point, check for gradient masking, and write a plot and a report.

    >>> from advkit.robustness import evaluate_robustness, load_data, load_model, write_report
    >>> model = load_model("default", "cpu"); x, y = load_data("mnist", n=500)
    >>> results = evaluate_robustness(model, x, y, [0.1, 0.2, 0.3], attacks=["fgsm", "pgd"])
    >>> write_report(results, "out/")
"""

from advkit.robustness.evaluate import evaluate_robustness, strongest_attack_error
from advkit.robustness.report import write_report
from advkit.models.loader import load_model
from advkit.robustness.specs import check_pair, load_data

__all__ = ["check_pair", "evaluate_robustness", "load_data", "load_model", "strongest_attack_error", "write_report"]
