"""The GAN trainer (Goodfellow et al. 2014, Algorithm 1): k discriminator updates, then a generator update.

One trainer covers the source's MLP GAN, DCGAN and the variants, all chosen by config values: ``--loss``
(minimax | ns | wgan | wgan-gp | hinge, see :mod:`advkit.gan.losses`), ``--d-steps k`` / ``--g-steps``,
``--spectral-norm``, ``--num-classes`` (CGAN), ``--pack`` (PacGAN), ``--ema`` (an exponential moving average
of G's weights, used for samples and evaluation), ``--d-lr`` (TTUR), ``--lr-decay linear``, ``--prior``. The G
step draws fresh noise, as Algorithm 1 (``--share-fake`` reuses the D phase's last fake batch instead). The base :class:`~advkit.train.base.Trainer` owns the
loop, checkpoints, exact resume, logging and Ctrl-C; this file writes only the step.

Speed: the whole training set is one tensor on the device (a batch is an index), noise is drawn from the
trainer's CPU generator (resumable, device-independent) and copied through pinned memory without blocking,
and D scores real and fake in one
call when it has no batch norm. MNIST-sized nets are launch-bound on a GPU, so the step never waits for the
device unless it logs: the logged scalars stay tensors until a log step, and the NaN guard reads a running
sum of the losses only on the steps the base acts on (:meth:`deferred_non_finite`). On CUDA: bf16 autocast,
channels_last convolutions (dcgan), fused Adam; ``--compile`` adds torch.compile of G and D.

    >>> config = GANConfig(arch="mlp", loss="ns", dataset="mnist", steps=10_000)
    >>> with open_session("gan-train", config) as session:
    ...     figures = GANTrainer(config, session).fit()

The configuration (:class:`~advkit.train.gan_config.GANConfig`), the data pipeline (:mod:`advkit.gan.data`) and
the periodic evaluation (:mod:`advkit.gan.evaluation`) live in their own files.
"""

from __future__ import annotations

import contextlib
import copy
import math

import torch

from advkit.gan.data import TOY_DATASETS, training_data
from advkit.gan.diffaugment import diff_augment
from advkit.gan.ema import ema_decay, ema_pairs, ema_update, recalibrate_batch_norm
from advkit.gan.evaluation import TrainingEvaluation
from advkit.gan.losses import clip_weights, d_loss, d_probability, g_loss, gradient_penalty
from advkit.gan.models import has_batch_norm
from advkit.gan.loss_catalog import gan_loss
from advkit.gan.options import parse_policy
from advkit.gan.sampling import generate
from advkit.models.registry import build_model
from advkit.runtime.amp import channels_last, training_bf16
from advkit.runtime.device import to_device
from advkit.runtime.modules import eval_mode
from advkit.train.base import Trainer
from advkit.train.gan_config import GANConfig, learning_rate

def optimizer_for(config: GANConfig, params, fused: bool = False, lr: float | None = None) -> torch.optim.Optimizer:
    """``fused=True`` (CUDA): the whole Adam update in one kernel instead of several multi-tensor ones."""
    if gan_loss(config.loss).clip:
        # Arjovsky et al.: momentum-based optimizers destabilize the clipped critic; they use RMSProp.
        return torch.optim.RMSprop(params, lr=lr or config.lr)
    # fused=None keeps torch's default (foreach), so CPU runs and their checkpoints are unchanged.
    return torch.optim.Adam(params, lr=lr or config.lr, betas=(config.beta1, config.beta2), fused=fused or None)



class GANTrainer(Trainer):
    config: GANConfig

    # ------------------------------------------------------------------ build
    def build(self) -> None:
        c = self.config
        self.data, self.eval_reference, self._rescale = training_data(c, self.device)
        self.evaluation = TrainingEvaluation(c, self.data, self.eval_reference, self.device)
        self.toy = c.dataset in TOY_DATASETS
        g_args, d_args = self._model_args()
        cuda = self.device.type == "cuda"
        # NHWC: cuDNN's tensor-core convolutions read it natively (values unchanged; set before the optimizers).
        self._channels_last = cuda and c.arch == "dcgan"
        for role, args in (("G", g_args), ("D", d_args)):
            model = build_model(f"{c.arch}-{role.lower()}", args).to(self.device)
            self.models[role] = channels_last(model, self._channels_last)
        if c.ema > 0:
            self.models["G_ema"] = copy.deepcopy(self.models["G"]).requires_grad_(False).eval()
            self._ema_tensors = ema_pairs(self.models["G_ema"], self.models["G"])
        self._calibrated_at = -1  # the G update count the EMA sampler's batch-norm statistics were estimated at
        self.optimizers["G"] = optimizer_for(c, self.models["G"].parameters(), fused=cuda)
        self.optimizers["D"] = optimizer_for(c, self.models["D"].parameters(), fused=cuda, lr=c.d_lr)  # TTUR
        if c.compile:
            # nn.Module.compile compiles forward in place: the same module, state_dict keys and G.noise. The EMA
            # copy (taken above) stays eager: it only samples.
            self.G.compile()
            if not gan_loss(c.loss).gradient_penalty:
                self.D.compile()
        # Fixed noise for the sample grids: the same z every time, so the grids show training progress.
        fixed = torch.Generator().manual_seed(self.seed + 1)
        self.fixed_z = self.G.noise(c.grid, fixed)
        self.fixed_y = (torch.arange(c.grid) % c.num_classes).to(self.device) if c.num_classes else None
        self.d_updates = self.g_updates = 0
        self.best: dict = {}
        self.alarms: list[str] = []
        self._d_alarm_window = -1
        self._augment_policy = parse_policy(c.diffaugment)
        self._concat_d = not has_batch_norm(self.models["D"])  # one D call on [real; fake] (no BN to mix)
        self._bf16 = training_bf16(self.device, c.bf16, c.cpu_bf16, self.session.warn)  # asked once, not per step
        self.final: dict = {}
        # The NaN guard's evidence, kept on the device: running sums of D's and G's losses since the last check
        # (finite exactly when every loss added was) and the 1-based steps they cover.
        self._loss_sums = torch.zeros(2, device=self.device)
        self._unchecked: tuple[int, int] | None = None

    @property
    def G(self):
        return self.models["G"]

    @property
    def D(self):
        return self.models["D"]

    @property
    def sampler(self):
        """The generator used for samples and evaluation: the EMA copy when there is one, its batch-norm
        statistics re-estimated for its own (averaged) weights after each update (copied ones belong to G)."""
        if "G_ema" not in self.models:
            return self.models["G"]
        G_ema = self.models["G_ema"]
        if self._calibrated_at != self.g_updates:
            recalibrate_batch_norm(G_ema)  # a no-op for a G without batch norm
            self._calibrated_at = self.g_updates
        return G_ema

    def _image_shape(self) -> list[int]:
        if self.config.dataset in TOY_DATASETS:
            return [2] if self.config.dataset == "ring" else [1]
        if hasattr(self.data, "images") and isinstance(self.data.images, torch.Tensor):
            return list(self.data.images.shape[1:])
        return [3, self.data.crop, self.data.crop]  # image-folder crops

    def _model_args(self) -> tuple[dict, dict]:
        c, shape = self.config, self._image_shape()
        if c.arch == "mlp":
            output = "linear" if self.config.dataset in TOY_DATASETS else "sigmoid"
            g = dict(z_dim=c.z_dim, hidden=c.hidden, layers=c.layers, out_shape=shape, output=output,
                     num_classes=c.num_classes, prior=c.prior)
            d = dict(in_shape=shape, hidden=c.hidden, layers=c.layers, num_classes=c.num_classes,
                     spectral_norm=c.spectral_norm, pack=c.pack)
            return g, d
        common = dict(channels=shape[0], image_size=shape[-1], base_channels=c.base_channels, num_classes=c.num_classes)
        return (dict(z_dim=c.z_dim, prior=c.prior, **common),
                dict(spectral_norm=c.spectral_norm, norm=c.d_norm, pack=c.pack, **common))

    # ------------------------------------------------------------------ one step
    def _real(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """A real batch (drawn with the trainer's generator) and its labels when the GAN is conditional."""
        drawn = self.data.sample(n, self.generator)
        x, y = drawn if isinstance(drawn, tuple) else (drawn, None)  # image-folder crops carry no labels
        x = channels_last(to_device(x, self.device), self._channels_last)  # no copy when already there (MNIST)
        if self._rescale:
            x = x * 2 - 1
        return x, (to_device(y, self.device) if self.config.num_classes else None)

    def _fake_labels(self, n: int) -> torch.Tensor | None:
        if not self.config.num_classes:
            return None
        return to_device(torch.randint(self.config.num_classes, (n,), generator=self.generator), self.device)

    def _autocast(self):
        # bf16 only: float16 would need loss scaling of two coupled losses; GPUs without bf16 train in float32.
        return torch.autocast(self.device.type, torch.bfloat16) if self._bf16 else contextlib.nullcontext()

    def _augment(self, images: torch.Tensor) -> torch.Tensor:
        """What D sees: ``images`` through the DiffAugment policy (unchanged when there is none)."""
        return diff_augment(images, self._augment_policy, self.generator) if self._augment_policy else images

    def _score(self, real, fake, y_real, y_fake):
        """D's logits on real and on fake samples (one call when D has no batch norm)."""
        if self._concat_d:
            both = self.D(torch.cat([real, fake]), None if y_real is None else torch.cat([y_real, y_fake]))
            return both.split(both.shape[0] // 2)
        return self.D(real, y_real), self.D(fake, y_fake)

    def train_step(self, step: int) -> dict[str, float]:
        c, G, D = self.config, self.G, self.D
        logging = (step + 1) % c.log_every == 0 or step + 1 == c.steps
        n = c.batch_size
        if c.lr_decay != "none":
            for role, base in (("G", c.lr), ("D", c.d_lr)):
                for group in self.optimizers[role].param_groups:
                    group["lr"] = learning_rate(base, step, c)

        # --- Discriminator phase, k = --d-steps times (Algorithm 1's inner loop). Objective (ascend):
        #     max_D E_x[log D(x)] + E_z[log(1 - D(G(z)))]   (minimax / ns; the loss minimized is its negative)
        #     wgan/wgan-gp: max_D E[D(x)] - E[D(G(z))] (- lambda GP);  hinge: min E[relu(1-D(x))] + E[relu(1+D(G(z)))]
        for k in range(c.d_steps):
            real, y_real = self._real(n)
            z, y_fake = G.noise(n, self.generator), self._fake_labels(n)
            keep = c.share_fake and k == c.d_steps - 1
            with self._autocast():
                # With --share-fake the last D step keeps G's graph: the G phase reuses this sample (one G call fewer).
                with contextlib.nullcontext() if keep else torch.no_grad():
                    fake = G(z, y_fake)
                # With --diffaugment D judges T(x) and T(G(z)); the penalty below is taken on those too.
                seen_real, seen_fake = self._augment(real), self._augment(fake.detach())
                r_logits, f_logits = self._score(seen_real, seen_fake, y_real, y_fake)
                loss_d = d_loss(c.loss, r_logits, f_logits)
                if gan_loss(c.loss).gradient_penalty:
                    gp = gradient_penalty(D, seen_real, seen_fake, y_real, self.generator)
                    loss_d = loss_d + c.gp_weight * gp
            self.optimizers["D"].zero_grad(set_to_none=True)
            loss_d.backward()
            self.optimizers["D"].step()
            if gan_loss(c.loss).clip:
                clip_weights(D, c.clip)  # Lipschitz constraint by weight clipping
            self.d_updates += 1

        # --- Generator phase, --g-steps times. Objective (descend):
        #     minimax: min_G E_z[log(1 - D(G(z)))];  ns: max_G E_z[log D(G(z))];  wgan/wgan-gp/hinge: max_G E_z[D(G(z))]
        D.requires_grad_(False)  # D is fixed here: no gradients into its weights (D's .grad keeps the D phase's)
        for k in range(c.g_steps):
            if k > 0 or not c.share_fake:  # Algorithm 1: fresh noise for the G step
                z, y_fake = G.noise(n, self.generator), self._fake_labels(n)
                with self._autocast():
                    fake = G(z, y_fake)
            with self._autocast():
                loss_g = g_loss(c.loss, D(self._augment(fake), y_fake))  # G's gradient flows back through T
            self.optimizers["G"].zero_grad(set_to_none=True)
            loss_g.backward()
            self.optimizers["G"].step()
            self.g_updates += 1
        D.requires_grad_(True)
        if "G_ema" in self.models:
            ema_update(*self._ema_tensors, ema_decay(self.g_updates, c.ema))

        self._loss_sums += torch.stack([loss_d.detach().float(), loss_g.detach().float()])
        self._unchecked = (self._unchecked[0] if self._unchecked else step + 1, step + 1)
        if not logging:
            return {}  # no host sync: the base asks deferred_non_finite() before the next step it acts on

        stats = {"gp": gp.detach()} if gan_loss(c.loss).gradient_penalty else {}
        stats |= {"d_loss": loss_d.detach(), "d_grad_norm": _grad_norm(D),
                  "d_real": d_probability(c.loss, r_logits.detach()).mean(),
                  "d_fake": d_probability(c.loss, f_logits.detach()).mean()}
        if gan_loss(c.loss).wasserstein:
            stats["w_estimate"] = r_logits.detach().float().mean() - f_logits.detach().float().mean()
        stats |= {"g_loss": loss_g.detach(), "g_grad_norm": _grad_norm(G)}
        # One device->host transfer for every scalar of the step.
        figures = dict(zip(stats, torch.stack([v.float() for v in stats.values()]).tolist()))
        self._check_discriminator(step + 1, figures)
        return figures

    def deferred_non_finite(self) -> dict[str, float]:
        """The NaN guard on the steps that returned no figures: a loss whose running sum is not finite."""
        if self._unchecked is None:
            return {}
        sums, (first, last) = self._loss_sums.tolist(), self._unchecked
        self._loss_sums.zero_()
        self._unchecked = None
        return {f"{name} (first non-finite at a step in {first}-{last})": value
                for name, value in zip(("d_loss", "g_loss"), sums) if not math.isfinite(value)}

    # ------------------------------------------------------------------ collapse alarm
    def _alarm(self, step: int, message: str) -> None:
        self.alarms.append(f"step {step}: {message}")
        self.run.log(step, collapse_alarm=1.0)
        self.session.warn(f"step {step}: {message}")

    def _check_discriminator(self, step: int, figures: dict) -> None:
        # D's loss ~ 0 means D separates real from fake perfectly: G gets no useful gradient (minimax) or
        # is about to collapse. Warn once per --sample-every window.
        window = (step - 1) // self.config.sample_every
        if not gan_loss(self.config.loss).wasserstein and figures["d_loss"] < 1e-3 and window != self._d_alarm_window:
            self._d_alarm_window = window
            self._alarm(step, f"D's loss is {figures['d_loss']:.2g} (~0): D wins outright, G's gradients vanish "
                              "(try --loss ns or wgan-gp, --spectral-norm, a lower D learning rate)")

    # ------------------------------------------------------------------ samples and evaluation
    @torch.no_grad()
    def sample(self, step: int) -> None:
        from torchvision.utils import make_grid

        from advkit.runtime.grids import save_grid

        G = self.sampler
        if self.toy:
            from advkit.gan.figures import toy_figure

            real, _ = self.data.sample(2000, torch.Generator().manual_seed(8))
            fake = generate(G, 2000, torch.Generator().manual_seed(7))
            c = self.config
            variant = (f", pack {c.pack}" if c.pack > 1 else "") + (f", EMA {c.ema}" if c.ema else "") + (
                ", SN" if c.spectral_norm else "")
            toy_figure(real, fake, f"{c.loss}{variant}, step {step}", self.run.images / f"step-{step:08d}.png")
        else:
            with eval_mode(G):
                samples = G.images(self.fixed_z, self.fixed_y).float().cpu()
            nrow = max(1, int(math.sqrt(samples.shape[0])))
            save_grid(samples, self.run.images / f"step-{step:08d}.png", nrow=nrow)
            self.run.writer.add_image("samples", make_grid(samples.clamp(0, 1), nrow=nrow), step)
        # Weight histograms, as the source's tf.summary.histogram on every variable.
        for role in ("G", "D"):
            for name, p in self.models[role].named_parameters():
                self.run.writer.add_histogram(f"{role}/{name}", p.detach().float().cpu(), step)

    def evaluate(self, step: int) -> dict[str, float]:
        figures, score, warnings = self.evaluation.measure(self.sampler)
        for message in warnings:
            self._alarm(step, message)
        if score is not None and (not self.best or score > self.best["score"]):
            # Keep the best checkpoint by the domain metric (FID; modes + quality for the ring).
            self.best = {"score": score, "step": step, **figures}
            self.save(self.run.checkpoints / "best.pt")
        if step == self.config.steps:
            self.final = figures
        return figures

    def results(self) -> dict:
        """The run's headline figures: the last evaluation, the best checkpoint's, the alarms."""
        c = self.config
        return {"command": "gan train", "arch": c.arch, "loss": c.loss, "dataset": c.dataset,
                "data": getattr(self.data, "source", c.dataset), "device": str(self.device), "steps": self.step,
                "d_updates": self.d_updates, "g_updates": self.g_updates, "final": self.final,
                "best": {k: v for k, v in self.best.items() if k != "score"},
                "alarms": self.alarms + self.evaluation.notes,
                "metric_note": "domain FID/IS: LeNet-style classifier trained by advkit, not Inception"
                if self.evaluation.domain_metric() else ""}

    # ------------------------------------------------------------------ checkpointed extras
    def extra_state(self) -> dict:
        return {"fixed_z": self.fixed_z.cpu(), "d_updates": self.d_updates, "g_updates": self.g_updates,
                "best": {k: v for k, v in self.best.items() if isinstance(v, (int, float))}, "alarms": list(self.alarms),
                # the last step's figures, so a run resumed after its end still reports them
                "final": {k: v for k, v in self.final.items() if isinstance(v, (int, float))}}

    def load_extra_state(self, state: dict) -> None:
        self.fixed_z = state["fixed_z"].to(self.device)
        self.d_updates, self.g_updates = int(state["d_updates"]), int(state["g_updates"])
        self.best, self.alarms = dict(state["best"]), list(state["alarms"])
        self.final = dict(state.get("final", {}))  # checkpoints before 0.2 lack it


def _grad_norm(model: torch.nn.Module) -> torch.Tensor:
    grads = [p.grad.detach().float().norm() for p in model.parameters() if p.grad is not None]
    return torch.stack(grads).norm() if grads else torch.zeros(())

