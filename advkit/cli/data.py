"""``advkit data list|verify|fetch``: what data is here, is it intact, get what is missing."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from advkit.errors import AdvkitError


@click.group("data")
def command() -> None:
    """List, verify and fetch datasets (offline MNIST is vendored in data/)."""


@command.command("list")
def list_() -> None:
    """Known datasets, whether each is present, and what provides it."""
    from advkit.data.catalog import catalog, check

    table = Table(title="advkit datasets")
    for col in ("name", "what", "present", "provided by"):
        table.add_column(col)
    for entry in catalog():
        status = check(entry)
        present = sum(s == "ok" for _, s in status)
        table.add_row(entry.name, entry.what, f"{present}/{len(status)}", entry.provided_by)
    Console().print(table)


@command.command()
def verify() -> None:
    """Check every present file against its checksum; exit 2 on any mismatch or missing vendored file."""
    from advkit.data.catalog import catalog, check

    console, failures = Console(), []
    for entry in catalog():
        for rel, status in check(entry):
            if status == "missing" and entry.name != "mnist-offline":
                continue  # optional data that is simply not installed
            console.print(f"{'ok ' if status == 'ok' else 'BAD'} {entry.name}: {rel} ({status})")
            if status != "ok":
                failures.append(f"{rel}: {status}")
    if failures:
        raise AdvkitError(f"{len(failures)} data file(s) failed verification ({failures[0]}); restore them with "
                          "`git checkout data/` or re-fetch")
    console.print("all present data files verified")


@command.command()
@click.argument("name", type=click.Choice(["mnist", "fashion-mnist", "stl10"]))
def fetch(name: str) -> None:
    """Download a dataset with torchvision (needs a network; this is the only command that downloads)."""
    from advkit.data.paths import data_root

    root = str(data_root())
    try:
        if name == "mnist":
            from torchvision.datasets import MNIST

            for train in (True, False):
                MNIST(root, train=train, download=True)
        elif name == "fashion-mnist":
            from torchvision.datasets import FashionMNIST

            for train in (True, False):
                FashionMNIST(root, train=train, download=True)
        else:
            from torchvision.datasets import STL10

            STL10(root, split="train", download=True)
    except (OSError, RuntimeError) as e:
        hint = "; offline, install Debian's dataset-fashion-mnist instead" if name == "fashion-mnist" else ""
        raise AdvkitError(f"could not download {name} ({str(e).splitlines()[0][:100]}): no network?{hint}") from None
    Console().print(f"{name} is in {root}")
