"""Benchmark: advkit's GAN step vs a fair plain-PyTorch loop, and the price of ``--share-fake``.

Four loops over the same networks (copies of the trainer's G and D: same architecture, same initial weights),
same batch, same loss (non-saturating BCE), same Adam settings, same precision (bf16 autocast only where the
trainer uses it), timed round-robin in one run (median of interleaved chunks):

* **advkit** -- ``GANTrainer.train_step`` with the defaults: Algorithm 1 of Goodfellow et al. (2014), fresh
  noise for the G step;
* **advkit --share-fake** -- the G step reuses the D phase's fake batch (one G forward fewer; not Algorithm 1);
* **plain, in memory** (the fair reference) -- the loop a PyTorch user writes with the data already one tensor
  on the device: a random index per batch, ``torch.rand`` noise, D called on real and on fake.detach(), fresh
  noise for the G step (Algorithm 1), losses read back every ``--log-every`` steps as the trainer does;
* **plain, PIL DataLoader** (second row; the source translated line by line) -- a DataLoader of PIL images
  through ToTensor, numpy noise, D on real and fake separately, both losses read back every step.

    OMP_NUM_THREADS=1 python bench/bench_gan.py --steps 200 --repeats 5 --device cpu            # the MLP GAN
    OMP_NUM_THREADS=1 python bench/bench_gan.py --arch dcgan --steps 20 --repeats 3 --device cpu
Prints it/s of each and the ratios advkit / plain in memory, advkit / DataLoader, share-fake / fresh; appends a
table to bench/RESULTS.md. The quality side of ``--share-fake`` (ring of 8 Gaussians, seeds 0, 1, 2) is in
docs/results/gan.md.
"""

from __future__ import annotations

import argparse
import copy
import contextlib
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits.float(), torch.full_like(logits.float(), target))


def adam_like(trainer, role: str, model) -> torch.optim.Adam:
    """An Adam over ``model`` with the trainer's learning rate and betas for ``role`` (G or D)."""
    group = trainer.optimizers[role].param_groups[0]
    return torch.optim.Adam(model.parameters(), lr=group["lr"], betas=group["betas"])


def in_memory_stepper(trainer, images: torch.Tensor, batch_size: int, log_every: int, bf16: bool):
    """The fair plain loop: data one tensor on the device, fresh noise for the G step (Algorithm 1)."""
    G, D = copy.deepcopy(trainer.G), copy.deepcopy(trainer.D)
    device = images.device
    opt_d, opt_g = adam_like(trainer, "D", D), adam_like(trainer, "G", G)
    z_dim = G.config.z_dim
    autocast = (lambda: torch.autocast(device.type, torch.bfloat16)) if bf16 else contextlib.nullcontext
    count = {"step": 0}

    def step() -> None:
        real = images[torch.randint(len(images), (batch_size,), device=device)]
        with autocast():
            fake = G(torch.rand(batch_size, z_dim, device=device) * 2 - 1)
            d_loss = bce(D(real), 1.0) + bce(D(fake.detach()), 0.0)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        with autocast():
            g_loss = bce(D(G(torch.rand(batch_size, z_dim, device=device) * 2 - 1)), 1.0)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        count["step"] += 1
        if count["step"] % log_every == 0:
            d_loss.item(), g_loss.item()

    return step


def dataloader_stepper(trainer, images: torch.Tensor, batch_size: int, tanh: bool):
    """The source's loop, plainly: PIL images through a DataLoader, numpy noise, separate G calls per phase."""
    from torch.utils.data import DataLoader, Dataset
    from torchvision import transforms

    from _common import endless

    G, D = copy.deepcopy(trainer.G), copy.deepcopy(trainer.D)
    device = next(G.parameters()).device

    class PILImages(Dataset):
        def __init__(self, images):
            self.pil = [Image.fromarray((im[0].numpy() * 255).astype(np.uint8), mode="L") for im in images]
            steps = [transforms.ToTensor()] + ([transforms.Normalize((0.5,), (0.5,))] if tanh else [])
            self.transform = transforms.Compose(steps)

        def __len__(self):
            return len(self.pil)

        def __getitem__(self, i):
            return self.transform(self.pil[i])

    batches = endless(DataLoader(PILImages(images), batch_size=batch_size, shuffle=True, drop_last=True))
    opt_d, opt_g = adam_like(trainer, "D", D), adam_like(trainer, "G", G)
    z_dim = G.config.z_dim

    def noise() -> torch.Tensor:
        return torch.from_numpy(np.random.uniform(-1, 1, size=[batch_size, z_dim]).astype(np.float32)).to(device)

    def step() -> None:
        x = next(batches).to(device)
        d_loss = bce(D(x), 1.0) + bce(D(G(noise())), 0.0)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = bce(D(G(noise())), 1.0)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        d_loss.item(), g_loss.item()  # the source fetches both losses every iteration

    return step


def trainer_stepper(trainer):
    count = {"step": 0}

    def step() -> None:
        trainer.train_step(count["step"])
        count["step"] += 1

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="mlp", choices=["mlp", "dcgan"],
                        help="mlp: the source's MNIST GAN (default); dcgan: Radford et al. at 28 px.")
    parser.add_argument("--steps", type=int, default=200, help="Iterations per timed chunk.")
    parser.add_argument("--repeats", type=int, default=5, help="Interleaved chunks per loop (median reported).")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-record", action="store_true", help="Do not append to bench/RESULTS.md.")
    args = parser.parse_args()

    from _common import Bench, interleaved

    from advkit.data import load_dataset
    from advkit.runtime.amp import training_bf16
    from advkit.runtime.session import RunConfig, open_session
    from advkit.train.gan import GANTrainer
    from advkit.train.gan_config import GANConfig

    log_every = 50
    with tempfile.TemporaryDirectory() as tmp:
        with open_session("bench-gan", RunConfig(device=args.device), out=tmp, quiet=True, overwrite=True) as session:
            device = session.device
            trainers = {}
            for share in (False, True):
                config = GANConfig(arch=args.arch, steps=args.steps * (args.repeats + 2), batch_size=args.batch_size,
                                   data_source="offline", share_fake=share, log_every=log_every,
                                   sample_every=10**9, checkpoint_every=10**9, device=args.device, seed=0)
                trainers[share] = GANTrainer(config, session)
            fresh = trainers[False]
            bf16 = training_bf16(device, config.bf16, config.cpu_bf16)
            tanh = getattr(fresh.G.config, "output", "sigmoid") == "tanh"
            images = load_dataset("mnist", "train", "offline").images
            in_memory = images.to(device) * 2 - 1 if tanh else images.to(device)
            steppers = {"advkit": trainer_stepper(fresh), "advkit --share-fake": trainer_stepper(trainers[True]),
                        "plain, in memory": in_memory_stepper(fresh, in_memory, args.batch_size, log_every, bf16),
                        "plain, PIL DataLoader": dataloader_stepper(fresh, images, args.batch_size, tanh)}

            def chunk(step):
                return lambda: [step() for _ in range(args.steps)]

            times = interleaved({name: chunk(step) for name, step in steppers.items()}, repeats=args.repeats)
    its = {name: args.steps / seconds for name, seconds in times.items()}
    precision = "bf16 autocast" if bf16 else "float32"
    bench = Bench("gan (bench_gan.py)", data=f"offline 5k MNIST training subset, {args.arch} G/D, batch "
                                            f"{args.batch_size}, {precision}, device {device}, "
                                            f"{torch.get_num_threads()} thread(s)")
    notes = {"advkit": "Algorithm 1: fresh noise for the G step (the default)",
             "advkit --share-fake": "G step reuses the D phase's fake batch",
             "plain, in memory": "the fair reference: data one tensor on the device, fresh noise for G",
             "plain, PIL DataLoader": "the source translated: PIL DataLoader, losses read every step"}
    for name, value in its.items():
        bench.row(f"{name}: it/s", value, unit="",
                  note=f"{notes[name]}; median of {args.repeats} chunks of {args.steps}")
    bench.row("advkit / plain in memory", its["advkit"] / its["plain, in memory"], target=">= 1")
    bench.row("advkit / plain PIL DataLoader", its["advkit"] / its["plain, PIL DataLoader"], target="> 1")
    bench.row("advkit --share-fake / advkit (fresh noise)", its["advkit --share-fake"] / its["advkit"],
              note="the speed side of --share-fake; its quality: docs/results/gan.md")
    bench.row("advkit --share-fake / plain in memory", its["advkit --share-fake"] / its["plain, in memory"])
    if not args.no_record:
        bench.finish()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
