"""AutoAttack: a fixed ensemble of parameter-free attacks, each run on the points the previous ones left robust
(Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an ensemble of diverse parameter-free
attacks", section 4).

* ``version="standard"``: APGD-CE, APGD-T (9 target classes), FAB-T (9 target classes) and Square (5000
  queries), in that order, 100 iterations each for APGD, APGD-T and FAB-T, as the paper; L-inf or L2
  (``attacks_run`` in :meth:`AutoAttack.evaluate` lists what ran).
* ``version="rand"``: for randomised defences, APGD-CE and APGD-DLR with Expectation over Transformation
  (``eot_iter`` = 20 gradients averaged per step).

A point is robust when the model classifies it correctly after every attack so far (after an attack the model is
run once more on its output to decide). Each attack draws from its own CPU generator seeded with ``seed`` at every
call, so a call is reproducible. With ``generator=PointDraws(...)`` (what ``eval robustness`` passes) each point
draws from streams of its own, one per attack (advkit.attacks.randomness), so a point's result does not depend on
the other points of its batch.

Shapes: ``x`` ``[B, C, H, W]`` in [0, 1], ``y`` ``[B]`` int64 -> ``x_adv`` like ``x``, within ``eps`` of ``x``.

    >>> x_adv = AutoAttack(model, eps=0.3)(x, y)
    >>> report = AutoAttack(model, eps=0.3).evaluate(x, y)
    >>> report["attacks_run"], report["robust_accuracy"]
    (['apgd-ce', 'apgd-t', 'fab-t', 'square'], {'clean': 0.99, 'apgd-ce': 0.91, 'apgd-t': 0.9, 'fab-t': 0.9, ...})
    >>> report["robust"]                      # [B] bool: the worst case over all attacks, per point
"""

from __future__ import annotations

import torch

from advkit.attacks.apgd import APGD, APGDT
from advkit.attacks.base import Attack
from advkit.attacks.fab import FAB
from advkit.attacks.randomness import PointDraws
from advkit.attacks.square import Square
from advkit.errors import AdvkitError

VERSIONS = ("standard", "rand")


class AutoAttack(Attack):
    def __init__(self, model, eps: float, norm: str = "linf", version: str = "standard", n_iter: int = 100,
                 n_target_classes: int = 9, n_queries: int = 5000, eot_iter: int = 20, seed: int = 0,
                 amp: bool = False, generator: torch.Generator | PointDraws | None = None):
        super().__init__(model, eps, amp=amp, norm=norm)
        if version not in VERSIONS:
            raise AdvkitError(f"AutoAttack version must be one of {', '.join(VERSIONS)}; got {version!r}")
        self.version, self.seed = version, seed
        self.generator = generator  # PointDraws: per-point streams; else ``seed`` decides
        common = dict(norm=norm, n_iter=n_iter, amp=amp)
        if version == "standard":
            self.attacks: dict[str, Attack] = {
                "apgd-ce": APGD(model, eps, loss="ce", **common),
                "apgd-t": APGDT(model, eps, n_target_classes=n_target_classes, **common),
            }
            self.attacks["fab-t"] = FAB(model, eps, n_target_classes=n_target_classes, **common)
            self.attacks["square"] = Square(model, eps, norm=norm, n_queries=n_queries, amp=amp)
        else:
            self.attacks = {"apgd-ce": APGD(model, eps, loss="ce", eot_iter=eot_iter, **common),
                            "apgd-dlr": APGD(model, eps, loss="dlr", eot_iter=eot_iter, **common)}

    @property
    def attacks_run(self) -> list[str]:
        return list(self.attacks)

    def perturb(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.cascade(x, y)["x_adv"]

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> dict:
        """The adversarial images and who survived what.

        Returns ``{"x_adv": [B, C, H, W], "clean": [B] bool (correct on x), "robust_after": {attack: [B] bool}
        (correct after that attack and all before it), "robust": [B] bool (after all of them: the worst case per
        point), "fooled_by": [B] list of the first attack that fooled each point ("clean" when already
        misclassified, None when robust), "robust_accuracy": {"clean": float, attack: float, ...},
        "attacks_run": [names in order]}``.
        """
        return self.guarded(self.cascade, x, y)

    def cascade(self, x: torch.Tensor, y: torch.Tensor) -> dict:
        x_adv = x.clone()
        with torch.no_grad():
            clean = self.logits(x).argmax(1) == y if x.shape[0] else torch.zeros_like(y, dtype=torch.bool)
        robust = clean.clone()
        robust_after: dict[str, torch.Tensor] = {}
        if isinstance(self.generator, PointDraws) and len(self.generator) != x.shape[0]:
            raise AdvkitError(f"AutoAttack was given per-point draws for {len(self.generator)} points but called on "
                              f"{x.shape[0]}: make one PointDraws per call, with one seed per point")
        for name, attack in self.attacks.items():
            index = robust.nonzero()[:, 0]
            if isinstance(self.generator, PointDraws):  # each point's own stream for this attack
                attack.generator = self.generator.derive(name).subset(index.cpu())
            else:
                attack.generator = torch.Generator().manual_seed(self.seed)  # the same draws at every call
            if index.numel():
                adv = attack(x[index], y[index])
                with torch.no_grad():
                    fooled = self.logits(adv).argmax(1) != y[index]
                x_adv[index[fooled]] = adv[fooled]
                robust[index[fooled]] = False
            robust_after[name] = robust.clone()
        flags = {"clean": clean, **robust_after}
        as_lists = {name: flag.tolist() for name, flag in flags.items()}
        fooled_by = [next((name for name in flags if not as_lists[name][i]), None) for i in range(x.shape[0])]
        accuracy = {name: flag.float().mean().item() if x.shape[0] else float("nan") for name, flag in flags.items()}
        return {"x_adv": x_adv, "clean": clean, "robust_after": robust_after, "robust": robust, "fooled_by": fooled_by,
                "robust_accuracy": accuracy, "attacks_run": self.attacks_run}
