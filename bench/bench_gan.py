"""Benchmark: advkit's GAN step vs the source's loop written the plain way (the MLP GAN, MNIST, batch 128).

Reference (the TF source translated line by line): a DataLoader over PIL images with ToTensor, numpy
uniform noise per phase, G called once in the D phase and again in the G phase, D called separately on
real and fake. advkit: the data is one tensor on the device, noise from a torch generator, one G call per
step, one D call on [real; fake]. Same models (mlp-g / mlp-d), same losses (ns), same optimizers.

    OMP_NUM_THREADS=1 python bench/bench_gan.py --steps 200 --repeats 5 --device cpu
Times both loops in interleaved chunks (median), prints it/s and the ratio, appends a table to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def reference_stepper(G, D, images: torch.Tensor, batch_size: int, device):
    """The source's loop, plainly: PIL images through a DataLoader, separate G calls per phase."""
    from torch.utils.data import DataLoader, Dataset

    from _common import endless
    from torchvision.transforms import ToTensor

    class PILMNIST(Dataset):
        def __init__(self, images):
            self.pil = [Image.fromarray((im[0].numpy() * 255).astype(np.uint8), mode="L") for im in images]
            self.to_tensor = ToTensor()

        def __len__(self):
            return len(self.pil)

        def __getitem__(self, i):
            return self.to_tensor(self.pil[i]).view(-1)

    loader = DataLoader(PILMNIST(images), batch_size=batch_size, shuffle=True, drop_last=True)
    opt_d, opt_g = torch.optim.Adam(D.parameters()), torch.optim.Adam(G.parameters())
    batches = endless(loader)

    def step() -> None:
        x = next(batches)
        x = x.to(device)
        z = torch.from_numpy(np.random.uniform(-1, 1, size=[batch_size, 100]).astype(np.float32)).to(device)
        d_real, d_fake = D(x), D(G(z))
        d_loss = (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                  + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        z = torch.from_numpy(np.random.uniform(-1, 1, size=[batch_size, 100]).astype(np.float32)).to(device)
        d_fake = D(G(z))
        g_loss = F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        d_loss.item(), g_loss.item()  # the source fetches both losses every iteration

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="Iterations per timed chunk.")
    parser.add_argument("--repeats", type=int, default=5, help="Interleaved chunks per loop (median reported).")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-record", action="store_true", help="Do not append to bench/RESULTS.md.")
    args = parser.parse_args()

    from _common import Bench, trainer_vs_reference

    from advkit.runtime.session import RunConfig, open_session
    from advkit.data import load_dataset
    from advkit.models.registry import build_model
    from advkit.train.gan import GANTrainer
    from advkit.train.gan_config import GANConfig

    with tempfile.TemporaryDirectory() as tmp:
        with open_session("bench-gan", RunConfig(device=args.device), out=tmp, quiet=True, overwrite=True) as session:
            device = session.device
            total = args.steps * (args.repeats + 1)
            trainer = GANTrainer(GANConfig(steps=total, batch_size=args.batch_size, data_source="offline",
                                           device=args.device), session)
            data = load_dataset("mnist", "train", "offline")
            torch.manual_seed(0)
            G, D = build_model("mlp-g", {}).to(device), build_model("mlp-d", {}).to(device)
            ref_step = reference_stepper(G, D, data.images, args.batch_size, device)
            times = trainer_vs_reference(trainer, ref_step, args.steps, args.repeats)
    ours, ref = args.steps / times["advkit"], args.steps / times["reference"]
    print(f"reference (DataLoader of PIL images, separate G calls): {ref:.1f} it/s")
    print(f"advkit GANTrainer.train_step:                            {ours:.1f} it/s")
    bench = Bench("gan (bench_gan.py)", data=f"offline 5k MNIST training subset, batch {args.batch_size}, "
                                            f"device {device}, {torch.get_num_threads()} thread(s)")
    bench.row("advkit it/s", ours, unit="", note=f"median of {args.repeats} chunks of {args.steps} iterations")
    bench.row("reference it/s (PIL DataLoader, separate G calls)", ref, unit="")
    bench.row("speed-up advkit / reference", ours / ref, target="> 1")
    if not args.no_record:
        bench.finish()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
