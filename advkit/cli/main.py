"""``advkit``: one command line for adversarial examples, GANs and denoising GANs.

Each command group lives in its own module (``advkit/cli/<name>.py`` exposing ``command``) and is imported
only when used, so ``advkit --help`` stays fast and one group's dependencies never slow another.
"""

from __future__ import annotations

import importlib
import sys

import click

from advkit.version import __version__
from advkit.cli.common import AdvkitGroup

COMMANDS = {
    "fgsm": ("advkit.cli.fgsm", "FGSM adversarial examples: the panda figure, or error vs eps on a dataset."),
    "linear": ("advkit.cli.linear", "The linearity demo: logistic regression, and breaking a linear MNIST classifier."),
    "advtrain": ("advkit.cli.advtrain", "Adversarial training: the paper's objective, FGSM-RS, PGD-AT, TRADES."),
    "gan": ("advkit.cli.gan", "Train GANs (GAN, DCGAN, WGAN, WGAN-GP, SN, CGAN), sample, interpolate, toy1d."),
    "denoise": ("advkit.cli.denoise", "Denoising GAN: train, evaluate against classical denoisers, apply, export."),
    "eval": ("advkit.cli.eval", "Evaluate: GANs (FID, KID, precision/recall, IS, modes), robustness to attacks, "
                                "defences."),
    "defense": ("advkit.cli.defense", "Train defences to evaluate with `eval defense`: the high-level guided denoiser "
                                      "(HGD)."),
    "certify": ("advkit.cli.certify", "Certified L2 robustness by randomized smoothing (Cohen et al. 2019), denoised "
                                      "smoothing of any classifier, and the SmoothAdv attack beside it."),
    "recipe": ("advkit.cli.recipe", "Reproduce published results: list and run recipes, write reports."),
    "data": ("advkit.cli.data", "List, verify and fetch datasets."),
}


class LazyGroup(AdvkitGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module = importlib.import_module(COMMANDS[name][0])
        return module.command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help without importing every module (torch imports are slow).
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_text) for name, (_, help_text) in COMMANDS.items()])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, "--version", prog_name="advkit")
def cli() -> None:
    """advkit: adversarial examples, GANs and denoising GANs, made real, fast and reproducible.

    Every command that computes takes --device auto|cpu|cuda[:N], --seed, --out DIR and --quiet,
    and writes a run directory (config.json, metrics.jsonl, TensorBoard events, images/, checkpoints/).
    """


def main(args: list[str] | None = None) -> None:
    """Console entry point: bad input exits 2 with one line; Ctrl-C exits 130 (after training saved a checkpoint)."""
    from advkit.errors import AdvkitError, TrainingInterrupted

    try:
        code = cli.main(args=args, standalone_mode=False)
    except AdvkitError as e:
        click.echo(f"Error: {e.message}", err=True)
        code = e.exit_code
    except click.UsageError as e:
        # One line, not click's usage block: say what is wrong and where the help is.
        where = e.ctx.command_path if e.ctx else "advkit"
        click.echo(f"Error: {' '.join(e.format_message().split())} (see `{where} --help`)", err=True)
        code = 2
    except click.ClickException as e:
        e.show()
        code = e.exit_code
    except (click.Abort, KeyboardInterrupt, TrainingInterrupted) as e:
        click.echo(f"Interrupted{': ' + str(e) if str(e) else ''}", err=True)
        code = 130
    except click.exceptions.Exit as e:
        code = e.exit_code
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
