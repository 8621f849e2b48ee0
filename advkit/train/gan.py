"""The GAN trainer (Goodfellow et al. 2014, Algorithm 1): k discriminator updates, then a generator update.

One trainer covers the source's MLP GAN, DCGAN and the variants, all chosen by config values: ``--loss``
(minimax | ns | wgan | wgan-gp | hinge, see :mod:`advkit.gan.losses`), ``--d-steps k`` / ``--g-steps``,
``--spectral-norm``, ``--num-classes`` (CGAN), ``--pack`` (PacGAN), ``--ema`` (an exponential moving average
of G's weights, used for samples and evaluation). The base :class:`~advkit.train.base.Trainer` owns the
loop, checkpoints, exact resume, logging and Ctrl-C; this file writes only the step.

Speed: the whole training set is one tensor on the device (a batch is an index), noise is drawn from the
trainer's CPU generator (resumable, device-independent) and copied through pinned memory without blocking,
G runs once per step (its last D-phase sample is reused for the G phase) and D scores real and fake in one
call when it has no batch norm. MNIST-sized nets are launch-bound on a GPU, so the step never waits for the
device unless it logs: the logged scalars stay tensors until a log step, and the NaN guard reads a running
sum of the losses only on the steps the base acts on (:meth:`deferred_non_finite`). On CUDA: bf16 autocast,
channels_last convolutions (dcgan), fused Adam; ``--compile`` adds torch.compile of G and D.

    >>> config = GANConfig(arch="mlp", loss="ns", dataset="mnist", steps=10_000)
    >>> run_trainer(GANTrainer, config, start_session("gan-train", options))
"""

from __future__ import annotations

import contextlib
import copy
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch

from advkit.errors import AdvkitError
from advkit.gan.losses import LOSSES, WASSERSTEIN, clip_weights, d_loss, d_probability, g_loss, gradient_penalty
from advkit.gan.diffaugment import diff_augment, parse_policy
from advkit.gan.ema import ema_decay, ema_pairs, ema_update, recalibrate_batch_norm
from advkit.gan.models import has_batch_norm
from advkit.models.registry import build_model
from advkit.runtime.amp import channels_last, place_dataset, to_device, training_bf16
from advkit.runtime.modules import eval_mode
from advkit.train.base import Trainer, TrainerConfig

ARCHS = ("mlp", "dcgan")
IMAGE_DATASETS = ("mnist", "fashion-mnist", "stl10", "stacked-mnist", "fake")
TOY_DATASETS = ("ring", "gaussian1d")


@dataclass
class GANConfig(TrainerConfig):
    """``advkit gan train`` options; defaults are the source's MNIST GAN (mlp, ns, 10k iterations, batch 128)."""
    steps: int = field(default=10_000, metadata={"help": "Generator updates (iterations of Algorithm 1)."})
    arch: str = field(default="mlp", metadata={"help": "mlp (the source's GAN) or dcgan.", "choices": ARCHS})
    loss: str = field(default="ns", metadata={"help": "GAN objective (see advkit/gan/losses.py).", "choices": LOSSES})
    dataset: str = field(default="mnist", metadata={
        "help": "mnist | fashion-mnist | stl10 | stacked-mnist | fake | ring | gaussian1d | an image folder path."})
    data_source: str = field(default="auto", metadata={"help": "MNIST files: auto | offline (5k subset) | full.",
                                                       "choices": ("auto", "offline", "full")})
    image_size: int = field(default=0, metadata={"help": "Image size: 28, 32 or 64 (0 = the data's own, 64 for "
                                                         "stl10 and folders)."})
    z_dim: int = field(default=100, metadata={"help": "Noise dimension (z ~ U[-1, 1])."})
    hidden: int = field(default=128, metadata={"help": "mlp: hidden units per layer."})
    layers: int = field(default=0, metadata={"help": "mlp: hidden layers (0 = 1 for images as the source, 2 for toy data)."})
    base_channels: int = field(default=64, metadata={"help": "dcgan: channels of D's first / G's last conv layer."})
    num_classes: int = field(default=0, metadata={"help": "Conditional GAN with N classes (0 = unconditional)."})
    spectral_norm: bool = field(default=False, metadata={"help": "Spectral normalization on every D layer."})
    d_norm: str = field(default="auto", metadata={"help": "dcgan D normalization (auto: batch; layer for wgan-gp; "
                                                          "none with spectral norm).",
                                                  "choices": ("auto", "batch", "layer", "none")})
    pack: int = field(default=1, metadata={"help": "PacGAN: D judges this many samples jointly (1 = off)."})
    diffaugment: str = field(default="", metadata={
        "help": "DiffAugment policy for small datasets: a comma list of color, translation, cutout applied to "
                "everything D sees, real and fake (Zhao et al. 2020; '' = off)."})
    d_steps: int = field(default=0, metadata={"help": "D updates per G update (0 = 5 for wgan/wgan-gp, else 1)."})
    g_steps: int = field(default=1, metadata={"help": "G updates per iteration (carpedm20's DCGAN used 2)."})
    lr: float = field(default=0.0, metadata={"help": "Learning rate (0 = default: Adam 1e-3 mlp, 2e-4 dcgan, "
                                                     "1e-4 wgan-gp; RMSProp 5e-5 wgan)."})
    beta1: float = field(default=-1.0, metadata={"help": "Adam beta1 (-1 = default: 0.9 mlp, 0.5 dcgan/wgan-gp)."})
    beta2: float = field(default=-1.0, metadata={"help": "Adam beta2 (-1 = default: 0.999; 0.9 for wgan-gp)."})
    clip: float = field(default=0.01, metadata={"help": "wgan: clip D's weights to [-clip, clip]."})
    gp_weight: float = field(default=10.0, metadata={"help": "wgan-gp: gradient-penalty weight lambda."})
    ema: float = field(default=0.0, metadata={"help": "EMA decay of G's weights for samples/eval (0 = off; e.g. 0.999), warmed up as min(ema, (1+n)/(10+n)) after n G updates."})
    bf16: bool = field(default=True, metadata={"help": "bf16 autocast on CUDA (on the CPU see --cpu-bf16)."})
    cpu_bf16: bool = field(default=False, metadata={"help": "bf16 autocast on the CPU too, where it is native (AVX512-BF16/AMX; about 2x faster steps here, bench/bench_dcgan.py); refused where emulated."})
    compile: bool = field(default=False, metadata={
        "help": "torch.compile G and D (the first steps compile for a while; wgan-gp compiles G only: its "
                "gradient penalty differentiates D twice, which compiled graphs do not support)."})
    grid: int = field(default=16, metadata={"help": "Samples in each fixed-noise grid (the source: 16 = 4x4)."})
    eval_samples: int = field(default=2000, metadata={"help": "Samples per periodic evaluation (domain FID/IS, modes)."})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.arch not in ARCHS:
            raise AdvkitError(f"--arch must be one of {', '.join(ARCHS)}; got {self.arch!r}")
        if self.loss not in LOSSES:
            raise AdvkitError(f"--loss must be one of {', '.join(LOSSES)}; got {self.loss!r}")
        for name in ("z_dim", "hidden", "base_channels", "g_steps", "grid", "eval_samples", "pack"):
            if getattr(self, name) <= 0:
                raise AdvkitError(f"--{name.replace('_', '-')} must be a positive integer; got {getattr(self, name)}")
        for name in ("d_steps", "num_classes", "layers", "image_size", "lr", "clip", "gp_weight"):
            if getattr(self, name) < 0:
                raise AdvkitError(f"--{name.replace('_', '-')} must be >= 0; got {getattr(self, name)}")
        if not 0 <= self.ema < 1:
            raise AdvkitError(f"--ema must be in [0, 1) (0 = off, 0.999 typical); got {self.ema}")
        if self.batch_size % self.pack:
            raise AdvkitError(f"--batch-size {self.batch_size} must be a multiple of --pack {self.pack}")
        if self.dataset in TOY_DATASETS and self.arch != "mlp":
            raise AdvkitError(f"--dataset {self.dataset} is vector data: use --arch mlp")
        self.diffaugment = ",".join(parse_policy(self.diffaugment))  # checked and canonical before any data loads
        if self.dataset in TOY_DATASETS and self.diffaugment:
            raise AdvkitError(f"--dataset {self.dataset} is vector data: --diffaugment augments images; drop it")
        if self.dataset in TOY_DATASETS and self.num_classes:
            raise AdvkitError(f"--dataset {self.dataset} has no labels: drop --num-classes")
        # Resolve the "per loss / per arch" defaults so config.json and checkpoints hold the values used.
        wgan = self.loss in WASSERSTEIN
        self.d_steps = self.d_steps or (5 if wgan else 1)
        self.layers = self.layers or (2 if self.dataset in TOY_DATASETS else 1)
        if self.d_norm == "auto":
            self.d_norm = "none" if self.spectral_norm else "layer" if self.loss == "wgan-gp" else "batch"
        if self.loss == "wgan-gp" and self.d_norm == "batch":
            raise AdvkitError("wgan-gp penalizes per-sample gradients, which batch norm in D mixes: use --d-norm layer or none")
        default_lr = {"wgan": 5e-5, "wgan-gp": 1e-4}.get(self.loss, 1e-3 if self.arch == "mlp" else 2e-4)
        self.lr = self.lr or default_lr
        if self.beta1 < 0:
            self.beta1 = 0.9 if self.arch == "mlp" and self.loss != "wgan-gp" else 0.5
        if self.beta2 < 0:
            self.beta2 = 0.9 if self.loss == "wgan-gp" else 0.999


def optimizer_for(config: GANConfig, params, fused: bool = False) -> torch.optim.Optimizer:
    """``fused=True`` (CUDA): the whole Adam update in one kernel instead of several multi-tensor ones."""
    if config.loss == "wgan":
        # Arjovsky et al.: momentum-based optimizers destabilize the clipped critic; they use RMSProp.
        return torch.optim.RMSprop(params, lr=config.lr)
    # fused=None keeps torch's default (foreach), so CPU runs and their checkpoints are unchanged.
    return torch.optim.Adam(params, lr=config.lr, betas=(config.beta1, config.beta2), fused=fused or None)


class GANTrainer(Trainer):
    config: GANConfig

    # ------------------------------------------------------------------ build
    def build(self) -> None:
        c = self.config
        self.data, self.eval_reference = self._load_data()
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
        self.optimizers["D"] = optimizer_for(c, self.models["D"].parameters(), fused=cuda)
        if c.compile:
            # nn.Module.compile compiles forward in place: the same module, state_dict keys and G.noise. The EMA
            # copy (taken above) stays eager: it only samples.
            self.G.compile()
            if c.loss != "wgan-gp":
                self.D.compile()
        # Fixed noise for the sample grids: the same z every time, so the grids show training progress.
        fixed = torch.Generator().manual_seed(int(self.session.options.get("seed", 0)) + 1)
        self.fixed_z = self.G.noise(c.grid, fixed)
        self.fixed_y = (torch.arange(c.grid) % c.num_classes).to(self.device) if c.num_classes else None
        self.d_updates = self.g_updates = 0
        self.best: dict = {}
        self.alarms: list[str] = []
        self._d_alarm_window = -1
        self._augment_policy = parse_policy(c.diffaugment)
        self._concat_d = not has_batch_norm(self.models["D"])  # one D call on [real; fake] (no BN to mix)
        self._bf16 = training_bf16(self.device, c.bf16, c.cpu_bf16)  # asked once, not per step
        self._domain = None  # lazily built DomainMetric (None when the data has no domain classifier)
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

    def _load_data(self):
        c = self.config
        self._rescale = False
        if c.dataset in TOY_DATASETS:
            from advkit.data.toy import TOY_DATASETS as toys

            return toys[c.dataset](), None
        if c.dataset == "stacked-mnist":
            from advkit.data import load_dataset
            from advkit.data.stacked_mnist import stacked_mnist

            data = stacked_mnist(load_dataset("mnist", "train", c.data_source), image_size=c.image_size or None)
        elif c.dataset in IMAGE_DATASETS:
            from advkit.data import load_dataset

            size = c.image_size or (64 if c.dataset == "stl10" else None)
            data = load_dataset(c.dataset, "unlabeled" if c.dataset == "stl10" and not c.num_classes else "train",
                                c.data_source, image_size=size)
        elif Path(c.dataset).is_dir():
            from advkit.data.folders import ImageCrops

            self._rescale = c.arch == "dcgan"  # crops come in [0, 1]; a tanh generator trains on [-1, 1]
            # Mirror images only: a GAN must not learn upside-down photos. Held on the device when there is one.
            crops = ImageCrops.from_folder(c.dataset, crop=c.image_size or 64, device=self.device, symmetries="hflip")
            reference = crops.sample(500, torch.Generator().manual_seed(0)).cpu()  # fixed real crops: the diversity reference
            return crops, reference
        else:
            raise AdvkitError(f"--dataset {c.dataset!r} is neither a known dataset ({', '.join(IMAGE_DATASETS + TOY_DATASETS)}) "
                              "nor an image folder")
        if c.num_classes and c.num_classes != data.num_classes:
            raise AdvkitError(f"--num-classes {c.num_classes}: {data.name} has {data.num_classes} classes")
        # Up to 10k [0, 1] images for evaluation (before any rescaling for tanh), a random subset: files may be
        # sorted by class.
        reference = data.images[torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[:10_000]]
        if c.arch == "dcgan":  # tanh generator: train on [-1, 1]
            data = type(data)(data.images * 2 - 1, data.labels, data.name, data.source, data.num_classes)
        return place_dataset(data, self.device), reference  # on the GPU when it fits: a batch is an index

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
                     num_classes=c.num_classes)
            d = dict(in_shape=shape, hidden=c.hidden, layers=c.layers, num_classes=c.num_classes,
                     spectral_norm=c.spectral_norm, pack=c.pack)
            return g, d
        common = dict(channels=shape[0], image_size=shape[-1], base_channels=c.base_channels, num_classes=c.num_classes)
        return dict(z_dim=c.z_dim, **common), dict(spectral_norm=c.spectral_norm, norm=c.d_norm, pack=c.pack, **common)

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

        # --- Discriminator phase, k = --d-steps times (Algorithm 1's inner loop). Objective (ascend):
        #     max_D E_x[log D(x)] + E_z[log(1 - D(G(z)))]   (minimax / ns; the loss minimized is its negative)
        #     wgan/wgan-gp: max_D E[D(x)] - E[D(G(z))] (- lambda GP);  hinge: min E[relu(1-D(x))] + E[relu(1+D(G(z)))]
        for k in range(c.d_steps):
            real, y_real = self._real(n)
            z, y_fake = G.noise(n, self.generator), self._fake_labels(n)
            last = k == c.d_steps - 1
            with self._autocast():
                # The last D step keeps G's graph: the G phase below reuses this sample (one G call per step).
                with contextlib.nullcontext() if last else torch.no_grad():
                    fake = G(z, y_fake)
                # With --diffaugment D judges T(x) and T(G(z)); the penalty below is taken on those too.
                seen_real, seen_fake = self._augment(real), self._augment(fake.detach())
                r_logits, f_logits = self._score(seen_real, seen_fake, y_real, y_fake)
                loss_d = d_loss(c.loss, r_logits, f_logits)
                if c.loss == "wgan-gp":
                    gp = gradient_penalty(D, seen_real, seen_fake, y_real, self.generator)
                    loss_d = loss_d + c.gp_weight * gp
            self.optimizers["D"].zero_grad(set_to_none=True)
            loss_d.backward()
            self.optimizers["D"].step()
            if c.loss == "wgan":
                clip_weights(D, c.clip)  # Lipschitz constraint by weight clipping
            self.d_updates += 1

        # --- Generator phase, --g-steps times. Objective (descend):
        #     minimax: min_G E_z[log(1 - D(G(z)))];  ns: max_G E_z[log D(G(z))];  wgan/wgan-gp/hinge: max_G E_z[D(G(z))]
        D.requires_grad_(False)  # D is fixed here: no gradients into its weights (D's .grad keeps the D phase's)
        for k in range(c.g_steps):
            if k > 0:
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

        stats = {"gp": gp.detach()} if c.loss == "wgan-gp" else {}
        stats |= {"d_loss": loss_d.detach(), "d_grad_norm": _grad_norm(D),
                  "d_real": d_probability(c.loss, r_logits.detach()).mean(),
                  "d_fake": d_probability(c.loss, f_logits.detach()).mean()}
        if c.loss in WASSERSTEIN:
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
        if not self.quiet:
            from advkit.runtime.progress import console

            console.print(f"[yellow]warning[/] step {step}: {message}")

    def _check_discriminator(self, step: int, figures: dict) -> None:
        # D's loss ~ 0 means D separates real from fake perfectly: G gets no useful gradient (minimax) or
        # is about to collapse. Warn once per --sample-every window.
        window = (step - 1) // self.config.sample_every
        if self.config.loss in ("minimax", "ns", "hinge") and figures["d_loss"] < 1e-3 and window != self._d_alarm_window:
            self._d_alarm_window = window
            self._alarm(step, f"D's loss is {figures['d_loss']:.2g} (~0): D wins outright, G's gradients vanish "
                              "(try --loss ns or wgan-gp, --spectral-norm, a lower D learning rate)")

    # ------------------------------------------------------------------ samples and evaluation
    @torch.no_grad()
    def _generate(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None) -> torch.Tensor:
        """n samples in data space ([0, 1] images or toy vectors) from the sampling generator, in eval mode."""
        G, out = self.sampler, []
        with eval_mode(G):
            for start in range(0, n, 1000):
                m = min(1000, n - start)
                y = labels[start:start + m] if labels is not None else (
                    torch.randint(self.config.num_classes, (m,), generator=generator).to(self.device)
                    if self.config.num_classes else None)
                z = G.noise(m, generator)
                out.append((G(z, y).float() if self.toy else G.images(z, y)).cpu())
        return torch.cat(out)

    @torch.no_grad()
    def sample(self, step: int) -> None:
        from torchvision.utils import make_grid, save_image

        G = self.sampler
        with eval_mode(G):
            samples = (G(self.fixed_z, self.fixed_y) if self.toy else G.images(self.fixed_z, self.fixed_y)).float().cpu()
        if self.toy:
            self._toy_figure(step)
        else:
            nrow = max(1, int(math.sqrt(samples.shape[0])))
            save_image(samples, self.run.images / f"step-{step:08d}.png", nrow=nrow, padding=2)
            self.run.writer.add_image("samples", make_grid(samples.clamp(0, 1), nrow=nrow), step)
        # Weight histograms, as the source's tf.summary.histogram on every variable.
        for role in ("G", "D"):
            for name, p in self.models[role].named_parameters():
                self.run.writer.add_histogram(f"{role}/{name}", p.detach().float().cpu(), step)

    def _toy_figure(self, step: int) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        g = torch.Generator().manual_seed(7)
        fake = self._generate(2000, g)
        real, _ = self.data.sample(2000, torch.Generator().manual_seed(8))
        fig, ax = plt.subplots(figsize=(4, 4))
        if fake.shape[1] == 2:
            ax.scatter(real[:, 0], real[:, 1], s=2, c="tab:blue", label="data")
            ax.scatter(fake[:, 0], fake[:, 1], s=2, c="tab:red", alpha=0.5, label="G(z)")
            ax.set_xlim(-3, 3), ax.set_ylim(-3, 3), ax.set_aspect("equal")
        else:
            ax.hist(real[:, 0].numpy(), bins=60, density=True, alpha=0.5, label="data")
            ax.hist(fake[:, 0].numpy(), bins=60, density=True, alpha=0.5, label="G(z)")
        c = self.config
        variant = (f", pack {c.pack}" if c.pack > 1 else "") + (f", EMA {c.ema}" if c.ema else "") + (
            ", SN" if c.spectral_norm else "")
        ax.set_title(f"{c.loss}{variant}, step {step}")
        ax.legend(loc="upper right", fontsize=7)
        fig.savefig(self.run.images / f"step-{step:08d}.png", dpi=80, bbox_inches="tight")
        plt.close(fig)

    def _domain_metric(self):
        if self._domain is None:
            from advkit.gan.metrics.domain import DOMAIN_DATASETS, DomainMetric

            base = "mnist" if self.config.dataset == "stacked-mnist" else self.config.dataset
            if base not in DOMAIN_DATASETS or self.eval_reference is None:
                self._domain = False
            else:
                try:
                    self._domain = DomainMetric.for_dataset(self.config.dataset, self.eval_reference[:5000], self.device)
                except AdvkitError as e:  # no shipped classifier: train on, without the domain metric
                    self.alarms.append(f"no domain metric: {e.message}")
                    self._domain = False
        return self._domain

    def evaluate(self, step: int) -> dict[str, float]:
        c = self.config
        g = torch.Generator().manual_seed(12345)  # the same evaluation noise every time; training RNG untouched
        figures: dict = {}
        if self.toy:
            if c.dataset == "ring":
                from advkit.gan.metrics.modes import ring_modes

                ring = ring_modes(self._generate(c.eval_samples, g), self.data.centers, self.data.std)
                figures = {"modes": ring["modes"], "high_quality": ring["high_quality"]}
                score = ring["modes"] + ring["high_quality"]
            else:
                fake = self._generate(c.eval_samples, g)
                figures = {"g_mean": float(fake.mean()), "g_std": float(fake.std())}
                score = None
        else:
            metric = self._domain_metric()
            # A conditional G is asked for every class in turn, so its samples can be checked against their labels.
            labels = (torch.arange(c.eval_samples) % c.num_classes).to(self.device) if c.num_classes else None
            fake = self._generate(c.eval_samples, g, labels)
            figures["diversity"] = _diversity(fake) / max(_diversity(self.eval_reference[:c.eval_samples]), 1e-12)
            if figures["diversity"] < 0.5:
                self._alarm(step, f"sample diversity fell to {figures['diversity']:.2f} of the data's: mode collapse")
            score = None
            if metric:
                found = metric.evaluate(fake)
                found.pop("class_histogram", None)
                if labels is not None and "domain_is" in found:
                    # CGAN check: the share of samples the domain classifier puts in their requested class.
                    found["label_accuracy"] = float((metric.predict(fake) == labels.cpu()).float().mean())
                figures.update(found)
                score = -found["domain_fid"]
        if score is not None and (not self.best or score > self.best["score"]):
            # Keep the best checkpoint by the domain metric (FID; modes + quality for the ring).
            self.best = {"score": score, "step": step, **figures}
            self.save(self.run.checkpoints / "best.pt")
        if step == c.steps:
            self._write_results(step, figures)
        return figures

    def _write_results(self, step: int, figures: dict) -> None:
        src = getattr(self.data, "source", self.config.dataset)
        self.run.save_json("results.json", {
            "command": "gan train", "arch": self.config.arch, "loss": self.config.loss, "dataset": self.config.dataset,
            "data": src, "device": str(self.device), "steps": step, "d_updates": self.d_updates,
            "g_updates": self.g_updates, "final": figures,
            "best": {k: v for k, v in self.best.items() if k != "score"}, "alarms": self.alarms,
            "metric_note": "domain FID/IS: LeNet-style classifier trained by advkit, not Inception" if self._domain else "",
        })

    # ------------------------------------------------------------------ checkpointed extras
    def extra_state(self) -> dict:
        return {"fixed_z": self.fixed_z.cpu(), "d_updates": self.d_updates, "g_updates": self.g_updates,
                "best": {k: v for k, v in self.best.items() if isinstance(v, (int, float))}, "alarms": list(self.alarms)}

    def load_extra_state(self, state: dict) -> None:
        self.fixed_z = state["fixed_z"].to(self.device)
        self.d_updates, self.g_updates = int(state["d_updates"]), int(state["g_updates"])
        self.best, self.alarms = dict(state["best"]), list(state["alarms"])


def _grad_norm(model: torch.nn.Module) -> torch.Tensor:
    grads = [p.grad.detach().float().norm() for p in model.parameters() if p.grad is not None]
    return torch.stack(grads).norm() if grads else torch.zeros(())


def _diversity(samples: torch.Tensor, n: int = 500) -> float:
    """Mean pairwise L2 distance of the first n samples (a collapsed generator scores ~0)."""
    flat = samples[:n].reshape(min(n, samples.shape[0]), -1).float()
    return float(torch.pdist(flat).mean()) if flat.shape[0] > 1 else 0.0
