"""``advkit eval robustness``: robust accuracy of any model on any data, per budget and attack, the worst case per
point over every attack, and the diagnostics that catch gradient masking (:mod:`advkit.robustness`).

    advkit eval robustness --model runs/advtrain-.../checkpoints/final.pt --data mnist --eps 0.1,0.2,0.3
    advkit eval robustness --model torchvision:resnet18 --data photos/ --norm l2 --eps 0.5,1 --n 100
    advkit eval robustness --model mypkg.nets:build --mean 0.5 --std 0.5 --data points.npz --attacks pgd,autoattack

``--model``: an advkit checkpoint, a TorchScript file, ``torchvision:NAME`` (cached weights) or
``package.module:callable`` returning an nn.Module (``--mean/--std`` wrap it in ``Normalized``). ``--data``:
mnist, fashion-mnist, cifar10, cifar100 (test splits), imagenet:PATH (an ImageNet val folder), an ImageFolder-layout folder, or a .pt/.npz file with ``x`` [N, C, H, W] in
[0, 1] and ``y``.

    >>> from advkit.commands.eval_robustness import RobustnessConfig, run
    >>> run(RobustnessConfig(model="default", data="mnist", eps="0.1,8/255", n=200))["robust_accuracy"]["0.1"]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from advkit.attacks.catalog import attack_names, attacks_help
from advkit.commands.evaluated import EvaluatedConfig
from advkit.errors import AdvkitError
from advkit.runtime.session import Session, session_for
from advkit.values import parse_eps, parse_norm

RUN_DIR = True


@dataclass
class RobustnessConfig(EvaluatedConfig):
    norm: str = field(default="linf", metadata={"help": "Threat model.", "choices": ("linf", "l2")})
    eps: tuple[float, ...] = field(default=(0.1, 0.2, 0.3), metadata={
        "help": "Budgets in [0, 1] pixel units: a comma list, fractions allowed (0.1,0.2 or 8/255).", "parsed": True})
    attacks: tuple[str, ...] = field(default=(), metadata={"help": attacks_help, "parsed": True})
    batch_size: int = field(default=500, metadata={"help": "Attack batch size."})
    pgd_steps: int = field(default=40, metadata={"help": "PGD steps."})
    restarts: int = field(default=1, metadata={"help": "Random restarts of PGD and APGD."})
    channels_last: bool = field(default=True, metadata={
        "help": "Run conv nets in channels-last (NHWC) layout: the same model, faster kernels (2x on a CPU for "
                "max-pooling nets); --no-channels-last runs the model as given."})

    def __post_init__(self) -> None:
        self.norm = parse_norm(self.norm)
        self.eps = parse_eps(self.eps, self.norm)
        self.attacks = tuple(attack_names(self.attacks, self.norm)) if self.attacks else ()
        super().__post_init__()
        if self.batch_size < 1 or self.pgd_steps < 1 or self.restarts < 1:
            raise AdvkitError("--batch-size, --pgd-steps and --restarts must be positive")


CONFIG = RobustnessConfig
RESUMABLE = True  # --resume RUN: per-point results stored in RUN/points are kept, the rest attacked


def run(config: RobustnessConfig, session: Session | None = None, resume: str | None = None, **session_options) -> dict:
    from advkit.robustness.card import model_card
    from advkit.robustness.evaluate import evaluate_robustness
    from advkit.robustness.report import write_report
    from advkit.models.loader import load_model
    from advkit.runtime.amp import ChannelsLastInputs, has_conv2d
    from advkit.robustness.shards import BlockRunner, PointStore, is_out_of_memory
    from advkit.robustness.specs import load_points, subset_description

    with session_for("eval-robustness", config, session, resume=resume, **session_options) as session:
        model = load_model(config.model, session.device, *config.normalization())
        if config.channels_last and has_conv2d(model):
            model = ChannelsLastInputs(model).eval()
        x, y, indices = load_points(config.data, config.n or None, config.seed, config.subset)
        subset = subset_description(config.data, config.n, config.seed, config.subset, x.shape[0])
        store = PointStore(session.run.path if session.run is not None else None, writer=session.is_main)
        batch_size, halved = config.batch_size, []
        while True:
            # One progress bar per (eps, attack) pair, moving per block: "eps=0.3 apgd-ce ━━━ 2/4 50% 0.2 it/s eta .."
            runner = BlockRunner(store, session.dist, batch_size, config.seed, track=session.track)
            try:
                results = evaluate_robustness(model, x, y, config.eps, config.attacks or None, config.norm, batch_size,
                                              config.seed, config.pgd_steps, config.restarts, runner=runner,
                                              indices=indices)
                break
            except Exception as e:  # noqa: BLE001 - only out-of-memory is retried, at half the batch
                if not is_out_of_memory(e) or batch_size == 1 or runner.world > 1:
                    raise
                halved.append(batch_size)
                batch_size //= 2
                session.warn(f"out of memory at batch size {halved[-1]}; retrying at {batch_size}")
        if halved:
            results["warnings"].insert(0, f"out of memory at batch size {', '.join(map(str, halved))}: evaluated "
                                          f"at batch size {batch_size} (results equal a run with --batch-size {batch_size})")
        for warning in results["warnings"]:
            session.warn(warning)
        from advkit.data.paths import portable

        results["processes"] = runner.world
        results["model_card"] = model_card(results, portable(config.model), config.data, subset)
        title = portable(f"{config.model} on {config.data} ({config.norm})")
        # rank 0 writes the report (every rank holds the same gathered results)
        png, md = write_report(results, session.run.path, title, subset) if session.is_main else ("", "")
        return {**results, "model": config.model, "data": config.data, "subset": subset, "figure": str(png),
                "report": str(md)}
