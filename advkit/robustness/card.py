"""An evaluation's figures in the shape of a RobustBench model card (``model_info/<dataset>/<threat>/<NAME>.json``
in github.com/RobustBench/robustbench), so they sit beside the leaderboard's: accuracies as percent strings with
two decimals, eps as a fraction of 255 where it is one (``"8/255"``).

    >>> model_card(results, "robustbench:Standard", "cifar10", "the first 1000 test points")
    {"name": "robustbench:Standard", "dataset": "cifar10", "threat_model": "Linf", "eps": "8/255",
     "clean_acc": "94.78", "autoattack_acc": "0.00", "n_examples": 1000, "subset": "...", ...}

``autoattack_acc`` is the worst case per point over every attack run at the largest eps (AutoAttack's own number
when it was the only attack; None when AutoAttack did not run, with ``note`` saying so).
"""

from __future__ import annotations

from fractions import Fraction


def eps_text(eps: float) -> str:
    """8/255 for 0.03137..., the number itself otherwise."""
    fraction = Fraction(eps * 255).limit_denominator(1)
    return f"{int(fraction)}/255" if fraction and abs(float(fraction) - eps * 255) < 1e-6 else f"{eps:g}"


def model_card(results: dict, model: str, data: str, subset: str) -> dict:
    eps = max(results["eps"])
    key = f"{eps:g}"
    ran_autoattack = "autoattack" in results["attacks"]
    card = {"name": model, "dataset": data.split(":", 1)[0], "threat_model": {"linf": "Linf", "l2": "L2"}[results["norm"]],
            "eps": eps_text(eps) if results["norm"] == "linf" else f"{eps:g}",
            "clean_acc": f"{100 * results['clean_accuracy']:.2f}",
            "autoattack_acc": f"{100 * results['robust_accuracy'][key]['worst_case']:.2f}" if ran_autoattack else None,
            "n_examples": results["n"], "subset": subset, "attacks": list(results["attacks"])}
    if not ran_autoattack:
        quick = " (autoattack-quick is a reduced budget, not RobustBench's)" if "autoattack-quick" in results["attacks"] else ""
        card["note"] = f"AutoAttack (standard) was not among the attacks{quick}: no autoattack_acc (add --attacks autoattack)"
    return card
