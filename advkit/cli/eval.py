"""``advkit eval gan|domain-classifier`` (library: advkit.commands.eval_*)."""

import click

from advkit.cli.common import AdvkitGroup, library_command


@click.group("eval", cls=AdvkitGroup)
def command() -> None:
    """Evaluate trained models: GANs (FID, KID, precision/recall, IS, modes) and robustness to attacks."""


command.add_command(library_command("eval gan", "FID and IS (domain, and Inception when available) beside the "
                                                "real-data floor, plus mode coverage."))
command.add_command(library_command("eval domain-classifier", "Train the LeNet-style classifier behind domain FID/IS "
                                                              "on the training split (never the test set)."))
command.add_command(library_command("eval robustness", "Robust accuracy of any model on any data per eps and attack "
                                                       "(FGSM, PGD, APGD, Square, AutoAttack; L-inf or L2), the "
                                                       "worst case per point, and gradient-masking warnings."))
