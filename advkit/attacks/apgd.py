"""APGD: Auto-PGD, PGD whose step size steers itself (Croce & Hein 2020, "Reliable evaluation of adversarial
robustness with an ensemble of diverse parameter-free attacks", Algorithm 1).

    z_{k+1} = P( x_k + eta_k * sign(grad f(x_k)) )                        (L2: grad / ||grad||_2)
    x_{k+1} = P( x_k + alpha (z_{k+1} - x_k) + (1 - alpha) (x_k - x_{k-1}) ),   alpha = 0.75 (1 at k = 0)

``P`` projects onto the eps ball (L-inf or L2) intersected with [0, 1]^d. The step starts at ``eta_0 = 2 eps`` and is
halved, per sample, at checkpoints ``w_j`` after 22%, then 19%, 16%, ... (never less than 6%) of the ``n_iter``
iterations, when either the loss rose in at most ``rho`` = 75% of the steps since the last checkpoint, or the step
was not halved at the last checkpoint and the best loss has not improved since; a halved sample restarts from its
best point. There is nothing to tune but the iteration budget. Losses (all maximised):

* ``"ce"``: cross-entropy; with ``targeted=True`` minus the cross-entropy of the target ``y``.
* ``"dlr"``: difference of logits ratio, ``-(z_y - max_{i != y} z_i) / (z_pi1 - z_pi3)`` (pi: logits sorted in
  decreasing order): invariant to shifting and rescaling the logits, so saturated softmaxes cannot mask it.
* :class:`APGDT` (APGD-T): the targeted DLR loss ``-(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2)``, run once for
  each of the ``n_target_classes`` (9) classes the clean image scores highest after the top one.

Each run attacks only the points not yet fooled, and a point leaves the run at its first misclassification (the
adversarial image returned for it); the others get their highest-loss iterate. Each run (restart) starts at a
random point on the surface of the eps ball (a uniform or Gaussian draw rescaled to norm eps, as the authors' code)
drawn from ``generator`` (on the CPU, so a seed gives the same attack on every device; a PointDraws gives
each point its own stream, advkit.attacks.randomness); ``eot_iter`` > 1 averages that many gradients (Expectation over
Transformation) for randomised models. Checkpoints, step halving and momentum follow the authors' code
(fra31/auto-attack, and torchattacks 3.5), with which the results agree point by point on the same random starts.

Shapes: ``x`` ``[B, C, H, W]`` in [0, 1], ``y`` ``[B]`` int64 -> ``x_adv`` like ``x``, within ``eps`` of ``x``.

    >>> x_adv = APGD(model, eps=0.3)(x, y)                                    # APGD-CE, L-inf, 100 iterations
    >>> x_adv = APGD(model, eps=1.5, norm="L2", loss="dlr", restarts=5)(x, y)
    >>> x_adv = APGDT(model, eps=0.3, generator=torch.Generator().manual_seed(0))(x, y)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from advkit.attacks.base import Attack
from advkit.attacks.randomness import Draws, as_draws
from advkit.errors import AdvkitError


def dlr_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Untargeted difference of logits ratio per sample (higher is better for the attacker)."""
    z_sorted, order = logits.sort(dim=1)
    y_on_top = (order[:, -1] == y).float()
    z_y = logits.gather(1, y[:, None])[:, 0]
    # The largest logit other than y's: the second one when y is on top, else the top one.
    return -(z_y - z_sorted[:, -2] * y_on_top - z_sorted[:, -1] * (1.0 - y_on_top)) / (
        z_sorted[:, -1] - z_sorted[:, -3] + 1e-12)


def dlr_targeted_loss(logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Targeted difference of logits ratio per sample: pushes the target's logit above the true class's."""
    z_sorted, _ = logits.sort(dim=1)
    z_y, z_t = logits.gather(1, y[:, None])[:, 0], logits.gather(1, target[:, None])[:, 0]
    return -(z_y - z_t) / (z_sorted[:, -1] - 0.5 * z_sorted[:, -3] - 0.5 * z_sorted[:, -4] + 1e-12)


class APGD(Attack):
    losses = ("ce", "dlr")

    def __init__(self, model, eps: float, norm: str = "linf", loss: str = "ce", n_iter: int = 100, restarts: int = 1,
                 rho: float = 0.75, momentum: float = 0.75, eot_iter: int = 1, targeted: bool = False,
                 generator: torch.Generator | Draws | None = None, amp: bool = False):
        super().__init__(model, eps, targeted=targeted, clip=True, amp=amp, norm=norm)
        if loss not in self.losses:
            raise AdvkitError(f"{type(self).__name__} loss must be one of {', '.join(self.losses)}; got {loss!r}")
        if targeted and loss != "ce":
            raise AdvkitError("a targeted APGD uses loss='ce'; for the targeted DLR loss use APGDT")
        if n_iter < 1 or restarts < 1 or eot_iter < 1:
            raise AdvkitError(f"APGD needs n_iter, restarts and eot_iter >= 1; got {n_iter}, {restarts}, {eot_iter}")
        self.loss, self.n_iter, self.restarts, self.eot_iter = loss, n_iter, restarts, eot_iter
        self.rho, self.momentum = rho, momentum
        self.generator = generator  # None: the global CPU RNG (as torchattacks draws its starts)

    # ------------------------------------------------------------------ the attack
    def perturb(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.eps == 0:
            return x.clone()
        self.check_classes()
        x_adv = x.clone()
        with torch.no_grad():
            clean_logits = self.logits(x)
        robust = ~self.fooled(clean_logits, y)
        best_loss = torch.full_like(y, -float("inf"), dtype=torch.float32)
        draws = as_draws(self.generator)
        for target_rank in self.schedule():
            index = robust.nonzero()[:, 0]
            if index.numel() == 0:
                break
            target = None if target_rank is None else clean_logits[index].sort(dim=1)[1][:, -target_rank]
            adv, fooled, loss = self.run_once(x[index], y[index], target, draws.subset(index))
            # A success replaces anything; among failures the highest loss is kept.
            take = fooled | (loss > best_loss[index])
            x_adv[index[take]] = adv[take]
            best_loss[index[take]] = torch.where(fooled, float("inf"), loss)[take]
            robust[index[fooled]] = False
        return x_adv

    def schedule(self) -> list[int | None]:
        """One entry per run: the rank of the target class (APGD-T) or None (one run per restart)."""
        return [None] * self.restarts

    def check_classes(self) -> None:
        if self.loss == "dlr" and self.num_classes is not None and self.num_classes < 3:
            raise AdvkitError(f"the DLR loss needs a model with >= 3 classes; this one has {self.num_classes}: "
                              "use loss='ce'")

    def objective(self, logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
        if self.loss == "dlr":
            return dlr_loss(logits, y)
        loss = F.cross_entropy(logits, y, reduction="none")
        return -loss if self.targeted else loss

    def fooled(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        pred = logits.argmax(1)
        return pred == y if self.targeted else pred != y

    def loss_grad_logits(self, x_adv: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None):
        """Per-sample loss, its gradient (averaged over ``eot_iter`` draws of a random model) and the logits."""
        x_adv = x_adv.detach().requires_grad_(True)
        grad = torch.zeros_like(x_adv)
        for _ in range(self.eot_iter):
            logits = self.logits(x_adv)
            loss = self.objective(logits, y, target)
            grad += torch.autograd.grad(loss.sum(), x_adv)[0]
        return loss.detach(), grad / float(self.eot_iter), logits.detach()

    def random_start(self, x: torch.Tensor, draws: Draws) -> torch.Tensor:
        dims = tuple(range(1, x.dim()))
        if self.norm == "linf":
            t = (2 * draws.rand(x.shape) - 1).to(x.device)
            start = x + self.eps * t / t.abs().amax(dim=dims, keepdim=True)
        else:
            t = draws.randn(x.shape).to(x.device)
            start = x + self.eps * t / ((t ** 2).sum(dim=dims, keepdim=True).sqrt() + 1e-12)
        return start.clamp(0.0, 1.0)

    def project(self, x: torch.Tensor, v: torch.Tensor, l2_slack: float = 0.0) -> torch.Tensor:
        """The point of the eps ball around ``x`` (intersected with [0, 1]) nearest to ``v``. ``l2_slack``: the
        authors' code adds 1e-12 to the norm in the second of its two projections; kept for equal results."""
        if self.norm == "linf":
            return torch.min(torch.max(v, x - self.eps), x + self.eps).clamp(0.0, 1.0)
        d = v - x
        norm = (d ** 2).sum(dim=tuple(range(1, x.dim())), keepdim=True).sqrt()
        # Clamping to [0, 1] only moves pixels towards x (which is inside), so it never leaves the ball.
        return (x + d / (norm + 1e-12) * (norm + l2_slack).clamp(max=self.eps)).clamp(0.0, 1.0)

    def ascent(self, x: torch.Tensor, x_adv: torch.Tensor, step: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        if self.norm == "linf":
            return self.project(x, x_adv + step * grad.sign())
        norm = (grad ** 2).sum(dim=tuple(range(1, x.dim())), keepdim=True).sqrt()
        return self.project(x, x_adv + step * grad / (norm + 1e-12))

    def run_once(self, x: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None, draws: Draws | None = None):
        """One APGD run: (adversarial image, fooled, loss) per point; loss is meaningful where not fooled."""
        n, n_iter = x.shape[0], self.n_iter
        # Checkpoint lengths in iterations: 22% of the budget, then 3% shorter each time, at least 6%.
        period, min_period, decrement = (max(int(f * n_iter), 1) for f in (0.22, 0.06, 0.03))
        out_adv, out_fooled = x.clone(), torch.zeros(n, dtype=torch.bool, device=x.device)
        out_loss = torch.zeros(n, device=x.device)

        x_adv = self.random_start(x, draws if draws is not None else as_draws(self.generator))
        loss, grad, logits = self.loss_grad_logits(x_adv, y, target)
        s = {"index": torch.arange(n, device=x.device), "x": x, "y": y, "x_adv": x_adv, "x_old": x_adv.clone(),
             "grad": grad, "x_best": x_adv.clone(), "grad_best": grad.clone(), "loss_best": loss.clone(),
             "step": torch.full((n,) + (1,) * (x.dim() - 1), 2 * self.eps, device=x.device),
             "loss_steps": torch.zeros(n, n_iter, device=x.device), "loss_best_last_check": loss.clone(),
             "reduced_last_check": torch.ones(n, dtype=torch.bool, device=x.device)}
        if target is not None:
            s["target"] = target
        s = self.retire(s, self.fooled(logits, y), out_adv, out_fooled)
        s.pop("kept")
        since_check = 0
        for i in range(n_iter):
            if s["index"].numel() == 0:
                break
            with torch.no_grad():
                alpha = self.momentum if i > 0 else 1.0
                previous_move = s["x_adv"] - s["x_old"]
                s["x_old"] = s["x_adv"]
                z = self.ascent(s["x"], s["x_adv"], s["step"], s["grad"])
                x_adv = self.project(s["x"], s["x_adv"] + (z - s["x_adv"]) * alpha + previous_move * (1 - alpha),
                                     l2_slack=1e-12)
            loss, grad, logits = self.loss_grad_logits(x_adv, s["y"], s.get("target"))
            s["x_adv"], s["grad"] = x_adv, grad
            s = self.retire(s, self.fooled(logits, s["y"]), out_adv, out_fooled)
            loss = loss[s.pop("kept")]
            with torch.no_grad():
                s["loss_steps"][:, i] = loss
                improved = loss > s["loss_best"]
                wide = improved.view(-1, *[1] * (x.dim() - 1))
                s["x_best"] = torch.where(wide, s["x_adv"], s["x_best"])
                s["grad_best"] = torch.where(wide, s["grad"], s["grad_best"])
                s["loss_best"] = torch.where(improved, loss, s["loss_best"])
                since_check += 1
                if since_check == period:
                    self.checkpoint(s, i, period)
                    since_check, period = 0, max(period - decrement, min_period)
        out_adv[s["index"]] = s["x_best"]
        out_loss[s["index"]] = s["loss_best"]
        return out_adv, out_fooled, out_loss

    def checkpoint(self, s: dict, i: int, period: int) -> None:
        """Halve the step of every sample whose loss stalled since the last checkpoint; restart it from its best."""
        # Condition 1: the loss rose in at most rho of the last `period` steps. As in the authors' code, the
        # first window compares its first loss with the zeros not yet written at the end of the history.
        steps = torch.arange(i - period + 1, i + 1, device=s["loss_steps"].device)
        rises = (s["loss_steps"][:, steps] > s["loss_steps"][:, (steps - 1) % self.n_iter]).sum(1)
        reduce = rises <= period * self.rho
        # Condition 2: the step was not halved last time and the best loss has not improved since.
        reduce |= ~s["reduced_last_check"] & (s["loss_best_last_check"] >= s["loss_best"])
        s["reduced_last_check"], s["loss_best_last_check"] = reduce, s["loss_best"].clone()
        wide = reduce.view(-1, *[1] * (s["x"].dim() - 1))
        s["step"] = torch.where(wide, s["step"] / 2.0, s["step"])
        s["x_adv"] = torch.where(wide, s["x_best"], s["x_adv"])
        s["grad"] = torch.where(wide, s["grad_best"], s["grad"])

    @staticmethod
    def retire(s: dict, fooled: torch.Tensor, out_adv: torch.Tensor, out_fooled: torch.Tensor) -> dict:
        """Record the points fooled now and drop them from the run (the rest of the run is per sample, so this
        changes nothing for the others and spares their forward and backward passes)."""
        hits = fooled.nonzero()[:, 0]
        if hits.numel() == 0:
            s["kept"] = slice(None)
            return s
        out_adv[s["index"][hits]] = s["x_adv"][hits]
        out_fooled[s["index"][hits]] = True
        keep = (~fooled).nonzero()[:, 0]
        s = {name: value[keep] for name, value in s.items() if name != "kept"}
        s["kept"] = keep
        return s


class APGDT(APGD):
    """APGD-T: APGD on the targeted DLR loss, once per target among the clean image's top ``n_target_classes``
    runner-up classes (each run only on the points still classified correctly). Untargeted in effect: ``y`` is
    the true class, and any misclassification counts."""

    losses = ("dlr-targeted",)

    def __init__(self, model, eps: float, norm: str = "linf", n_iter: int = 100, restarts: int = 1,
                 n_target_classes: int = 9, rho: float = 0.75, momentum: float = 0.75, eot_iter: int = 1,
                 generator: torch.Generator | Draws | None = None, amp: bool = False):
        super().__init__(model, eps, norm, "dlr-targeted", n_iter, restarts, rho, momentum, eot_iter,
                         targeted=False, generator=generator, amp=amp)
        if n_target_classes < 1:
            raise AdvkitError(f"APGDT needs n_target_classes >= 1; got {n_target_classes}")
        self.n_target_classes = n_target_classes

    def check_classes(self) -> None:
        if self.num_classes is not None and self.num_classes < 4:
            raise AdvkitError(f"the targeted DLR loss needs a model with >= 4 classes; this one has "
                              f"{self.num_classes}: use APGD(loss='ce')")

    def schedule(self) -> list[int | None]:
        # Rank 2 is the runner-up class of the clean image, rank 3 the next, ...
        n_targets = min(self.n_target_classes, (self.num_classes or self.n_target_classes + 1) - 1)
        return [rank for rank in range(2, n_targets + 2) for _ in range(self.restarts)]

    def objective(self, logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
        return dlr_targeted_loss(logits, y, target)
