"""``advkit fgsm`` (library: :mod:`advkit.commands.fgsm`)."""

from advkit.cli.common import library_command

command = library_command("fgsm", "FGSM adversarial examples: the panda figure, or error vs eps on a dataset.")
