"""``advkit eval gan|domain-classifier|robustness|defense`` (library: advkit.commands.eval_*)."""

import click

from advkit.cli.common import library_command


@click.group("eval")
def command() -> None:
    """Evaluate trained models: GANs (FID, KID, precision/recall, IS, modes), robustness to attacks, defences."""


command.add_command(library_command("eval gan", "FID and IS (domain, and Inception when available) beside the "
                                                "real-data floor, plus mode coverage."))
command.add_command(library_command("eval domain-classifier", "Train the LeNet-style classifier behind domain FID/IS "
                                                              "on the training split (never the test set)."))
command.add_command(library_command("eval robustness", "Robust accuracy of any model on any data per eps and attack "
                                                       "(FGSM, PGD, APGD, Square, AutoAttack; L-inf or L2), the "
                                                       "worst case per point, and gradient-masking warnings."))
command.add_command(library_command("eval defense", "Is a purification defence (bit depth, JPEG, median, TV, a "
                                                    "denoiser, Defense-GAN) robust? Accuracy under the oblivious "
                                                    "attack, white-box PGD, BPDA, EOT and AutoAttack."))
