"""Goodfellow et al. 2014, figure 1, made live: a GAN learning a 1-D Gaussian.

Data x ~ N(4, 0.5^2) (black); G maps z ~ U[-1, 1] through a small MLP (its density, green, is a histogram
of G(z)); D (blue) is drawn over x. For a fixed G the best discriminator is
D*(x) = p_data(x) / (p_data(x) + p_g(x)); as p_g -> p_data it tends to 1/2 everywhere, the equilibrium
of the paper's Theorem 1. The run writes a 4-panel PNG strip (start, 1/3, 2/3, end) and an animated GIF.

Reported (results.json): at the end, ``d_gap`` = E_{x ~ p_data} |D(x) - 1/2| and ``d_star_gap`` =
E_{x ~ p_data} |D(x) - D*(x)| (p_g estimated by a histogram of 100k samples), and G's mean and std.
The learning rate decays linearly to 0, so the last steps settle instead of oscillating around the optimum.

    advkit gan toy1d --steps 3000       # ~15 s on one CPU core
"""

from __future__ import annotations

import io

import torch
from torch import nn

from advkit.data.toy import Gaussian1D
from advkit.gan.losses import d_loss, g_loss
from advkit.gan.toy1d_config import Toy1DConfig


def _mlp(hidden: int) -> nn.Module:
    return nn.Sequential(nn.Linear(1, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                         nn.Linear(hidden, 1))


def _snapshot(G, D, data: Gaussian1D, xs: torch.Tensor, step: int) -> dict:
    with torch.no_grad():
        gz = G(torch.rand(100_000, 1) * 2 - 1).view(-1)
        d = torch.sigmoid(D(xs[:, None])).view(-1)
        width = float(xs[1] - xs[0])
        edges = torch.cat([xs - width / 2, xs[-1:] + width / 2])
        p_g = torch.histogram(gz.clamp(edges[0], edges[-1]), bins=edges).hist / (gz.numel() * width)
    p_data = data.density(xs)
    d_star = p_data / (p_data + p_g).clamp_min(1e-12)
    weight = p_data / p_data.sum()
    return {"step": step, "d": d, "p_g": p_g, "p_data": p_data, "d_star": d_star,
            "d_gap": float((weight * (d - 0.5).abs()).sum()),
            "d_star_gap": float((weight * (d - d_star).abs()).sum()),
            "g_mean": float(gz.mean()), "g_std": float(gz.std())}


def _draw(ax, snap: dict, xs: torch.Tensor) -> None:
    ax.plot(xs, snap["p_data"], "k:", label="p_data")
    ax.plot(xs, snap["p_g"], "g-", label="p_g (G)")
    ax.plot(xs, snap["d"], "b--", label="D(x)")
    ax.axhline(0.5, color="0.7", lw=0.8)
    ax.set_ylim(0, max(1.05, float(snap["p_data"].max()) * 1.05))
    ax.set_title(f"step {snap['step']}  |D-1/2| {snap['d_gap']:.3f}", fontsize=8)


def run_toy1d(config: Toy1DConfig, session) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    data = Gaussian1D(config.data_mean, config.data_std)
    G, D = _mlp(config.hidden), _mlp(config.hidden)  # tiny: the CPU is fastest here, whatever --device says
    opt_g = torch.optim.Adam(G.parameters(), lr=config.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=config.lr, betas=(0.5, 0.999))
    decay = lambda step: 1 - step / config.steps  # noqa: E731 - linear decay to 0
    schedules = [torch.optim.lr_scheduler.LambdaLR(o, decay) for o in (opt_g, opt_d)]
    gen = torch.Generator().manual_seed(session.seed)
    xs = torch.linspace(config.data_mean - 5 * config.data_std - 2, config.data_mean + 5 * config.data_std + 2, 120)
    frame_steps = sorted({round(i * config.steps / (config.frames - 1)) for i in range(config.frames)} | {0})
    strip_steps = [0, config.steps // 3, 2 * config.steps // 3, config.steps]
    snaps, frames = {}, []

    def record(step: int) -> None:
        snap = _snapshot(G, D, data, xs, step)
        session.run.log(step, d_gap=snap["d_gap"], d_star_gap=snap["d_star_gap"], g_mean=snap["g_mean"], g_std=snap["g_std"])
        if step in strip_steps:
            snaps[step] = snap
        fig, ax = plt.subplots(figsize=(4, 3))
        _draw(ax, snap, xs)
        ax.legend(fontsize=6, loc="upper left")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=70)
        plt.close(fig)
        frames.append(Image.open(io.BytesIO(buf.getvalue())).convert("P", palette=Image.ADAPTIVE))

    record(0)
    with session.progress(config.steps, "toy1d") as bar:
        for step in range(1, config.steps + 1):
            # D phase, k times: max_D E_x[log D(x)] + E_z[log(1 - D(G(z)))]
            for _ in range(config.d_steps):
                x, _ = data.sample(config.batch_size, gen)
                z = torch.rand((config.batch_size, 1), generator=gen) * 2 - 1
                fake = G(z)
                loss_d = d_loss(config.loss, D(x).view(-1), D(fake.detach()).view(-1))
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                opt_d.step()
            # G phase: minimax min_G E_z[log(1 - D(G(z)))]; ns max_G E_z[log D(G(z))]
            loss_g = g_loss(config.loss, D(fake).view(-1))
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            for s in schedules:
                s.step()
            if step in frame_steps or step in strip_steps:
                record(step)
                bar.update(step, d_loss=loss_d.item(), g_loss=loss_g.item(), d_gap=snaps.get(step, {}).get("d_gap", 0.0))

    fig, axes = plt.subplots(1, 4, figsize=(14, 3), sharey=True)
    for ax, step in zip(axes, strip_steps):
        _draw(ax, snaps[step], xs)
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Goodfellow et al. 2014, fig. 1: data (black), G (green), D (blue) converging to 1/2", fontsize=9)
    strip = session.run.images / "toy1d-strip.png"
    fig.savefig(strip, dpi=90, bbox_inches="tight")
    plt.close(fig)
    gif = session.run.images / "toy1d.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=120, loop=0)
    final = snaps[config.steps]
    return {"command": "gan toy1d", "data": data.source, "loss": config.loss, "steps": config.steps,
            "start": {k: snaps[0][k] for k in ("d_gap", "d_star_gap", "g_mean", "g_std")},
            "final": {k: final[k] for k in ("d_gap", "d_star_gap", "g_mean", "g_std")},
            "strip": str(strip), "gif": str(gif)}
