"""``advkit certify``: certified L2 robustness of any classifier by randomized smoothing (Cohen, Rosenfeld & Kolter
2019), optionally behind a denoiser (denoised smoothing, Salman et al. 2020), with the SmoothAdv attack's empirical
robust accuracy beside the certificate (:mod:`advkit.certify`).

    advkit certify --model runs/advtrain-gaussian/checkpoints/final.pt --data mnist --sigma 0.25 --n 500 --samples 10000
    advkit certify --model default --denoiser blind-grey --sigma 0.25 --n 100        # the shipped CNN, denoised
    torchrun --nproc_per_node=2 -m advkit.cli.main certify --model ... --device cpu  # points sharded over processes

Each point's result is written to RUN/points/<index>.json as it finishes; ``advkit certify --resume RUN``
continues an interrupted run (same options) and certifies only the points not there yet.

``--model`` / ``--data`` / ``--n`` / ``--subset`` are ``eval robustness``'s (:mod:`advkit.commands.evaluated`:
the same points for the same options); ``--samples`` is Cohen et al.'s n. Writes results.json (per point: index,
label, prediction or -1, radius, correct; certified accuracy per radius), certified_accuracy.png and report.md.

    >>> from advkit.commands.certify import CertifyConfig, run
    >>> run(CertifyConfig(model="default", sigma=0.25, n=10, samples=1000))["certified_accuracy"]["0.25"]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from advkit.commands.evaluated import EvaluatedConfig
from advkit.errors import AdvkitError
from advkit.runtime.session import Session, session_for

RUN_DIR = True


@dataclass
class CertifyConfig(EvaluatedConfig):
    sigma: float = field(default=0.25, metadata={"help": "Noise std of the smoothed classifier (pixels in [0, 1])."})
    denoiser: str = field(default="", metadata={
        "help": "A denoiser in front of the classifier (denoised smoothing): blind-grey, blind, fast, quality (shipped), "
                "a `denoise train` / `certify train-denoiser` checkpoint or a TorchScript file."})
    n: int = field(default=500, metadata={"help": "Points certified (0: all), chosen by --subset."})
    n0: int = field(default=100, metadata={"help": "Noise draws to select the top class (Cohen et al.'s n0)."})
    samples: int = field(default=100000, metadata={"help": "Noise draws to bound its probability (Cohen et al.'s n)."})
    alpha: float = field(default=0.001, metadata={"help": "Failure probability of each certificate."})
    batch_size: int = field(default=1000, metadata={"help": "Noisy images per forward pass."})
    radius_step: float = field(default=0.25, metadata={"help": "Report certified accuracy at radii 0, step, 2 step, ..."})
    attack_n: int = field(default=0, metadata={
        "help": "Also attack the first N points with SmoothAdv PGD (Salman et al. 2019) at each radius (0: off)."})
    attack_steps: int = field(default=20, metadata={"help": "SmoothAdv PGD steps."})
    attack_noise: int = field(default=16, metadata={"help": "Noise draws per SmoothAdv gradient (Monte Carlo)."})
    attack_samples: int = field(default=1000, metadata={"help": "Noise draws to classify each attacked point."})

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 < self.sigma < float("inf"):
            raise AdvkitError(f"--sigma must be positive (pixels in [0, 1], e.g. 0.25); got {self.sigma}")
        if not 0 < self.alpha < 0.5:
            raise AdvkitError(f"--alpha must be in (0, 0.5) (e.g. 0.001); got {self.alpha}")
        if self.n0 < 1 or self.samples < 1 or self.batch_size < 1 or self.radius_step <= 0:
            raise AdvkitError("--n0, --samples, --batch-size and --radius-step must be positive")
        if self.attack_n < 0 or self.attack_steps < 1 or self.attack_noise < 1 or self.attack_samples < 1:
            raise AdvkitError("--attack-n must be >= 0; --attack-steps, --attack-noise and --attack-samples positive")


CONFIG = CertifyConfig
RESUMABLE = True  # --resume RUN: the points certified in RUN/points are kept, the rest certified


def run(config: CertifyConfig, session: Session | None = None, resume: str | None = None, **session_options) -> dict:
    from advkit.certify.runner import certify_run

    with session_for("certify", config, session, resume=resume, **session_options) as session:
        return certify_run(config, session, *config.normalization())
