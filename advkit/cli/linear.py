"""``advkit linear`` (library: :mod:`advkit.commands.linear`)."""

from advkit.cli.common import library_command

command = library_command("linear", "The linearity demo: logistic regression, and breaking a linear MNIST classifier.")
