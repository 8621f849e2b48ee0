"""The one trainer base: device, seeding, checkpoints, exact resume, logging, sample grids, Ctrl-C, NaN guard.

A trainer subclass writes only what is specific to it::

    class ClassifierTrainer(Trainer):
        def build(self):                       # models and optimizers, registered by role
            self.models["net"] = build_model(...).to(self.device)
            self.optimizers["net"] = torch.optim.Adam(self.models["net"].parameters())

        def train_step(self, step):            # one optimizer step; returns scalars to log
            x, y = self.data.sample(self.config.batch_size, self.generator)
            ...
            return {"loss": loss.item()}

    with open_session("advtrain", config) as session:     # advkit.runtime.session
        ClassifierTrainer(config, session).fit()

A training command opens its run, builds its trainer and continues a stopped run in one line::

    with ClassifierTrainer.opened("advtrain", config, session, resume=resume, **session_options) as trainer:
        trainer.fit()

Exact resume: a checkpoint holds every model, optimizer, the global RNG states, the trainer's data
generator and whatever :meth:`extra_state` returns (EMA weights, schedulers), so a resumed run draws the
same batches and noise as an uninterrupted one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import math
import signal
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import torch
from torch import nn

from advkit.errors import AdvkitError, NonFiniteLoss, TrainingInterrupted
from advkit.runtime import distributed
from advkit.runtime.checkpoint import (checkpoint_path, load_checkpoint, prune_checkpoints,
                                       resolve_checkpoint, save_checkpoint)
from advkit.runtime.seeding import rng_state, set_rng_state
from advkit.runtime.session import config_dict, session_for
from advkit.train.config import RUN_LENGTH_OPTIONS, upgrade_options

class Trainer(ABC):
    """Subclasses implement :meth:`build` and :meth:`train_step`; optionally :meth:`sample`, :meth:`evaluate`,
    :meth:`extra_state` / :meth:`load_extra_state`."""

    def __init__(self, config: Any, session: Any):
        self.config = config
        self.session = session
        self.device: torch.device = session.device
        self.run = session.run
        self.step = 0
        self.models: dict[str, nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        # Under torchrun: rank, world size, gradient averaging (advkit.runtime.distributed); a no-op alone.
        self.dist: distributed.DistContext = getattr(session, "dist", None) or distributed.SINGLE
        self.seed = int(config.seed)
        # Data order and noise come from this generator (CPU, so they are device-independent); it is checkpointed.
        # Each rank gets its own stream (rank 0 keeps --seed), so ranks train on different batches.
        self.generator = torch.Generator().manual_seed(distributed.rank_seed(self.seed, self.dist.rank))
        self._stop_requested = False
        self.changed_options: dict[str, tuple] = {}  # run-length options a resume changed ({name: (old, new)})
        self.build()
        self._choose_threads()
        self.dist.prepare(self.models, self.optimizers, self.seed)

    @classmethod
    @contextmanager
    def opened(cls, command: str, config: Any, session: Any = None, resume: str | Path | None = None,
               **session_options) -> Iterator["Trainer"]:
        """The trainer, built in the command's session (``session``, or one opened from ``session_options``: out,
        quiet, ...) and continued from ``resume`` when given; the session closes when the block ends. What every
        training command (advtrain, gan train, denoise train, defense train-hgd) shares; ``trainer.session``."""
        with session_for(command, config, session, resume=resume, **session_options) as opened_session:
            with opened_session.status(f"{command}: loading data, building the models"):
                trainer = cls(config, opened_session)
            if resume:
                trainer.resume(resume)
            yield trainer

    @property
    def changed_on_resume(self) -> dict[str, list]:
        """``{option: [stored, new]}`` for the run-length options a resume changed (for results.json)."""
        return {name: list(values) for name, values in self.changed_options.items()}

    SMALL_MODEL = 1_000_000  # parameters: below this a CPU step is too short to split across threads

    def _choose_threads(self) -> None:
        """--threads 0 on the CPU: one thread for small models, unless OMP_NUM_THREADS says otherwise. The source's
        MLP GAN, 600 steps on this project's 2-core machine: 7.9 s on one thread vs 26.4 s on two with the other
        core busy; 8.6-8.9 s vs 7.6 s with both cores free. One thread never stalls behind a busy core."""
        import os

        if self.device.type != "cpu" or getattr(self.config, "threads", 0) or "OMP_NUM_THREADS" in os.environ:
            return
        if sum(p.numel() for m in self.models.values() for p in m.parameters()) < self.SMALL_MODEL:
            torch.set_num_threads(1)

    # ------------------------------------------------------------------ to implement
    @abstractmethod
    def build(self) -> None:
        """Create models and optimizers and register them in ``self.models`` / ``self.optimizers``."""

    @abstractmethod
    def train_step(self, step: int) -> dict[str, float]:
        """One training step (all its optimizer phases); return the scalars to log (``{}`` is allowed on steps
        that are not logged, to spare a host sync: see :meth:`deferred_non_finite`)."""

    def sample(self, step: int) -> None:
        """Write sample grids / figures into ``self.run.images`` (default: nothing)."""

    def evaluate(self, step: int) -> dict[str, float]:
        """Validation figures logged every ``sample_every`` steps (default: none)."""
        return {}

    def extra_state(self) -> dict:
        """Extra tensors/values to checkpoint (EMA weights, schedulers, counters)."""
        return {}

    def load_extra_state(self, state: dict) -> None:
        """Restore what :meth:`extra_state` returned."""

    def deferred_non_finite(self) -> dict[str, float]:
        """Non-finite losses a trainer kept on the device instead of returning them every step.

        A host sync per step (``loss.item()``) stalls a launch-bound GPU loop, so a trainer may return ``{}``
        from :meth:`train_step` on steps it does not log and keep a running non-finite flag as a tensor; the
        base calls this before every step it acts on (log, sample, checkpoint, the last step, Ctrl-C), so no
        checkpoint or log is written after a non-finite loss. Return ``{name: value}`` of what went bad since
        the last call (default: nothing deferred)."""
        return {}

    def acts_after(self, done: int) -> bool:
        """True when the base logs, samples, evaluates or checkpoints after step ``done`` (1-based)."""
        c = self.config
        return done % c.log_every == 0 or done % c.sample_every == 0 or done % c.checkpoint_every == 0 or done == c.steps

    def checkpoint_models(self) -> dict[str, nn.Module]:
        """Models written to checkpoints (default: all of ``self.models``)."""
        return self.models

    # ------------------------------------------------------------------ checkpoints
    def config_dict(self) -> dict:
        return config_dict(self.config)

    def save(self, path: Path | None = None) -> Path | None:
        if not self.run.main_process:
            return None
        path = path or checkpoint_path(self.run.checkpoints, self.step)
        save_checkpoint(path, step=self.step, config=self.config_dict(), models=self.checkpoint_models(),
                        optimizers=self.optimizers, rng={**rng_state(), "trainer": self.generator.get_state()},
                        extra=self.extra_state())
        if path.parent == self.run.checkpoints and path.name.startswith("step-"):
            prune_checkpoints(self.run.checkpoints, self.config.keep_checkpoints)
        return path

    def resume(self, source: str | Path) -> None:
        """Continue from a checkpoint file or the latest checkpoint of a run directory."""
        try:
            path = resolve_checkpoint(source)
        except AdvkitError as e:
            raise AdvkitError(f"--resume: {e.message} (or start without --resume)") from None
        payload = load_checkpoint(path)
        self.changed_options = compare_configs(upgrade_options(payload["config"]), self.config_dict(), path)
        missing = set(self.checkpoint_models()) - set(payload["state"])
        if missing:
            raise AdvkitError(f"--resume {path}: checkpoint lacks model(s) {', '.join(sorted(missing))}: it was written "
                              "by another command or architecture")
        for role, model in self.checkpoint_models().items():
            spec = payload["models"][role]
            if spec["name"] != model.registered_name:
                raise AdvkitError(f"--resume {path}: checkpoint holds a {spec['name']} for {role!r}, this run builds a "
                                  f"{model.registered_name}; pass the same --arch as the original run")
            try:
                model.load_state_dict(payload["state"][role])
            except RuntimeError as e:
                raise AdvkitError(f"--resume {path}: weights do not fit this model ({str(e).splitlines()[0][:100]}); "
                                  "use the original run's options") from None
        for role, opt in self.optimizers.items():
            if role in payload["optim"]:
                opt.load_state_dict(payload["optim"][role])
        rng = payload["rng"]
        if rng:
            set_rng_state(rng)
            self.generator.set_state(rng["trainer"])
        self.load_extra_state(payload["extra"])
        self.step = int(payload["step"])
        self.dist.reseed_after_resume(self.generator, self.seed, self.step)

    # ------------------------------------------------------------------ the loop
    def _on_stop_signal(self, signum, frame) -> None:
        if self._stop_requested:  # a second Ctrl-C: stop at once
            raise KeyboardInterrupt
        self._stop_requested = True

    def fit(self) -> dict[str, float]:
        """Train to ``config.steps``; returns the last logged figures."""
        total = self.config.steps
        last: dict[str, float] = {}
        # Ctrl-C and SIGTERM (a timeout, SLURM preemption) both stop after the current step with a checkpoint.
        previous = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                previous[sig] = signal.signal(sig, self._on_stop_signal)
            except ValueError:  # not the main thread (e.g. inside some test runners): no signal handling
                pass
        try:
            with self.session.progress(total, type(self).__name__, completed=self.step) as bar:
                while self.step < total:
                    figures = self.train_step(self.step)
                    # Ctrl-C is read once, so the checks and the save below agree (a later one waits a step).
                    stop = self._stop_requested
                    bad = {k: v for k, v in figures.items() if isinstance(v, float) and not math.isfinite(v)}
                    # Under torchrun a stop may come from another rank, so check each step there (it syncs anyway).
                    if stop or self.dist.enabled or self.acts_after(self.step + 1):
                        bad = {**self.deferred_non_finite(), **bad}
                    bad, stop = self.dist.end_step(self.models, bad, stop)
                    if bad:
                        name, value = next(iter(bad.items()))
                        raise NonFiniteLoss(f"training stopped at step {self.step + 1}: {name} is {value}; the last good "
                                            f"checkpoint in {self.run.checkpoints} is kept (lower the learning rate?)")
                    self.step += 1
                    last = figures
                    if self.step % self.config.log_every == 0 or self.step == total:
                        self.run.log(self.step, **figures)
                        bar.update(self.step, **figures)
                    else:
                        bar.update(self.step)  # the bar and its ETA move every step; the figures on log steps
                    if (self.step % self.config.sample_every == 0 or self.step == total) and self.run.main_process:
                        self.sample(self.step)  # grids and evaluation on rank 0 only
                        evaluated = self.evaluate(self.step)
                        if evaluated:
                            self.run.log(self.step, **evaluated)
                            last = {**last, **evaluated}
                    if self.step % self.config.checkpoint_every == 0 or self.step == total:
                        self.save()
                    if stop:
                        self.save()
                        raise TrainingInterrupted(f"checkpoint saved at step {self.step}; continue with "
                                                  f"--resume {self.run.path}")
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return last


def compare_configs(stored: dict, new: dict, source) -> dict[str, tuple]:
    """The run-length options that differ between a checkpoint's config and this run's ({name: (old, new)});
    any other difference is refused in one line naming the options."""
    differing = {k: (stored[k], v) for k, v in new.items() if k in stored and stored[k] != v}
    refused = {k: pair for k, pair in differing.items() if k not in RUN_LENGTH_OPTIONS}
    if refused:
        named = ", ".join(f"--{k.replace('_', '-')} {old!r} -> {new!r}" for k, (old, new) in refused.items())
        raise AdvkitError(f"--resume {source}: options differ from the stored run ({named}); resume with the "
                          "original options, or start a new run with another --out")
    return {k: pair for k, pair in differing.items() if k in RUN_LENGTH_OPTIONS}
