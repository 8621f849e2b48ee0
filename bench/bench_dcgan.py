"""Benchmark: advkit's DCGAN training step vs a loop written like pytorch/examples' dcgan/main.py.

Same architecture (advkit's dcgan-g / dcgan-d), same batch, same loss (non-saturating BCE), same optimizers.
Reference (pytorch/examples style): a DataLoader over the dataset's PIL images with ToTensor/Normalize
transforms, a host-to-device copy per batch, float32, NCHW. advkit: the dataset held as one tensor on the
device, bf16 autocast on CUDA, channels_last, and optionally torch.compile (``--compile``).

    python bench/bench_dcgan.py --device cuda --image-size 32 --batch-size 128
    OMP_NUM_THREADS=1 python bench/bench_dcgan.py --device cpu --steps 10 --repeats 3 [--cpu-bf16]
Prints images/s for both and the ratio (target: >= 3x on a GPU, >= 1.2x on the CPU); appends to bench/RESULTS.md.
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


def reference_stepper(G, D, images: torch.Tensor, batch_size: int, image_size: int, device, workers: int):
    """pytorch/examples dcgan: DataLoader of PIL images + transforms; D on real, D on fake.detach(), G on fake."""
    from torch.utils.data import DataLoader, Dataset

    from _common import endless
    from torchvision import transforms

    class PILImages(Dataset):
        def __init__(self, images):
            self.pil = [Image.fromarray((im[0].numpy() * 255).astype(np.uint8), mode="L") for im in images]
            self.transform = transforms.Compose([transforms.Resize(image_size), transforms.ToTensor(),
                                                 transforms.Normalize((0.5,), (0.5,))])

        def __len__(self):
            return len(self.pil)

        def __getitem__(self, i):
            return self.transform(self.pil[i])

    loader = DataLoader(PILImages(images), batch_size=batch_size, shuffle=True, drop_last=True, num_workers=workers,
                        persistent_workers=workers > 0)
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    batches = endless(loader)
    z_dim = G.config.z_dim

    def step() -> None:
        x = next(batches)
        real = x.to(device)
        # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
        opt_d.zero_grad()
        out_real = D(real)
        err_real = F.binary_cross_entropy_with_logits(out_real, torch.ones_like(out_real))
        z = torch.rand(batch_size, z_dim, device=device) * 2 - 1
        fake = G(z)
        out_fake = D(fake.detach())
        err_fake = F.binary_cross_entropy_with_logits(out_fake, torch.zeros_like(out_fake))
        (err_real + err_fake).backward()
        opt_d.step()
        # (2) Update G: maximize log(D(G(z)))
        opt_g.zero_grad()
        out = D(fake)
        err_g = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
        err_g.backward()
        opt_g.step()
        err_real.item(), err_g.item()  # pytorch/examples prints both every iteration

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50, help="Iterations per timed chunk.")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="Reference DataLoader workers (pytorch/examples: 2).")
    parser.add_argument("--compile", action="store_true", help="advkit side: torch.compile G and D.")
    parser.add_argument("--cpu-bf16", action="store_true",
                        help="advkit side: bf16 autocast on the CPU (needs AVX512-BF16/AMX; the reference stays float32, "
                             "as on a GPU where advkit autocasts by default).")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()

    from _common import Bench, trainer_vs_reference

    from advkit.runtime.session import RunConfig, open_session
    from advkit.data import load_dataset
    from advkit.models.registry import build_model
    from advkit.train.gan import GANTrainer
    from advkit.train.gan_config import GANConfig

    with tempfile.TemporaryDirectory() as tmp:
        with open_session("bench-dcgan", RunConfig(device=args.device), out=tmp, quiet=True, overwrite=True) as session:
            device = session.device
            total = args.steps * (args.repeats + 2)
            config = GANConfig(steps=total, arch="dcgan", batch_size=args.batch_size, image_size=args.image_size,
                               data_source="offline", sample_every=10**9, checkpoint_every=10**9, log_every=50,
                               compile=args.compile, cpu_bf16=args.cpu_bf16, device=args.device)
            trainer = GANTrainer(config, session)
            data = load_dataset("mnist", "train", "offline")
            torch.manual_seed(0)
            G = build_model("dcgan-g", {"image_size": args.image_size, "output": "tanh"}).to(device)
            D = build_model("dcgan-d", {"image_size": args.image_size}).to(device)
            ref_step = reference_stepper(G, D, data.images, args.batch_size, args.image_size, device, args.workers)
            times = trainer_vs_reference(trainer, ref_step, args.steps, args.repeats)
    ours = args.steps * args.batch_size / times["advkit"]
    ref = args.steps * args.batch_size / times["reference"]
    print(f"reference (pytorch/examples style): {ref:.0f} images/s")
    print(f"advkit GANTrainer.train_step:       {ours:.0f} images/s")
    target = ">= 3 (GPU)" if device.type == "cuda" else ">= 1.2 (CPU)"
    bench = Bench("dcgan (bench_dcgan.py)", data=f"offline 5k MNIST training subset at {args.image_size}px, batch "
                                                 f"{args.batch_size}, device {device}, {torch.get_num_threads()} thread(s)"
                                                 f"{', torch.compile' if args.compile else ''}"
                                                 f"{', advkit with --cpu-bf16' if args.cpu_bf16 else ''}")
    bench.row("advkit images/s", ours, unit="")
    bench.row("reference images/s (pytorch/examples style)", ref, unit="")
    bench.row("speed-up advkit / reference", ours / ref, target=target)
    if not args.no_record:
        bench.finish()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
