"""``advkit data list|verify|fetch``: what data is here, is it intact, get what is missing."""

from __future__ import annotations

import click

from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from advkit.cli.common import AdvkitGroup, verbose_option
from advkit.data.fetch import FetchProgress
from advkit.errors import AdvkitError


@click.group("data", cls=AdvkitGroup)
def command() -> None:
    """List, verify and fetch datasets. They live under ADVKIT_DATA (default: the checkout's data/, or
    ~/.cache/advkit/data for an installed package); denoising sets in its denoise/<SET>."""


@command.command("list")
@verbose_option
def list_(verbose: bool) -> None:
    """Known datasets: what each is and whether it is here (--verbose: where it comes from, its licence, how to
    get it)."""
    import textwrap

    from advkit.cli.output import room_left, shorten
    from advkit.data.catalog import catalog, present
    from advkit.data.paths import data_root, data_root_origin

    console = Console()
    entries = [(entry, *present(entry)) for entry in catalog()]
    if verbose:  # one block per dataset, wrapped to the terminal (URLs are not squeezed into a cell)
        for entry, have, listed in entries:
            console.print(f"[bold]{entry.name}[/] ({have}/{listed} files present): {entry.what}", highlight=False)
            for label, text in (("source", entry.source), ("origin", entry.origin), ("licence", entry.licence),
                                ("get", entry.get)):
                if text:
                    console.print("\n".join(textwrap.wrap(f"{label} {text}", console.width - 1, initial_indent="  ",
                                                          subsequent_indent="    ", break_on_hyphens=False)),
                                  highlight=False, soft_wrap=True)
    else:
        table = Table(title="advkit datasets (--verbose: sources, licences, how to get each)", title_justify="left",
                      box=box.SIMPLE_HEAD, show_edge=False)
        files = [f"{have}/{listed}" for _, have, listed in entries]
        what_w = room_left(console.width, max(len(e.name) for e, _, _ in entries), max(map(len, files)))
        table.add_column("dataset", no_wrap=True)
        table.add_column("files", justify="right", no_wrap=True)
        table.add_column("what", no_wrap=True)
        for (entry, _, _), present_files in zip(entries, files):
            table.add_row(entry.name, present_files, shorten(entry.what, what_w))
        console.print(table)
        console.print("Get one with `advkit data fetch NAME`.")
    console.print(f"data root: {data_root()} (from {data_root_origin()}); denoising sets in its denoise/<SET>. "
                  "Set ADVKIT_DATA to use another folder.", highlight=False)


@command.command()
def verify() -> None:
    """Check every present file against its checksum; exit 2 on any mismatch or missing vendored file."""
    from advkit.data.catalog import catalog, check

    console, failures = Console(), []
    for entry in catalog():
        for rel, status in check(entry):
            if status == "missing" and not entry.vendored:
                continue  # optional data that is simply not fetched
            console.print(f"{'ok ' if status == 'ok' else 'BAD'} {entry.name}: {rel} ({status})")
            if status != "ok":
                failures.append(f"{rel}: {status}")
    if failures:
        raise AdvkitError(f"{len(failures)} data file(s) failed verification ({failures[0]}); restore them with "
                          "`git checkout data/` or re-fetch")
    console.print("all present data files verified")


class _RichProgress(FetchProgress):
    """Two bars: files of the set verified, and bytes of the file being downloaded."""

    def __init__(self, progress: Progress):
        self.progress, self.files, self.bytes, self.done, self.total = progress, None, None, 0, 0

    def start(self, name: str, total_files: int) -> None:
        self.total = total_files
        self.files = self.progress.add_task(name, total=total_files, detail=f"0/{total_files} files")

    def file_done(self, name: str, downloaded: bool) -> None:
        self.done += 1
        self.progress.update(self.files, completed=self.done, detail=f"{self.done}/{self.total} files")

    def transfer(self, url: str, done: int, total: int | None) -> None:
        if self.bytes is None:
            self.bytes = self.progress.add_task("", total=None, detail="")
        size = f"/{total / 1e6:.1f}" if total else ""
        self.progress.update(self.bytes, completed=done, total=total, description=url.rsplit("/", 1)[-1][:30],
                             detail=f"{done / 1e6:.1f}{size} MB")


@command.command()
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
def fetch(names: tuple[str, ...]) -> None:
    """Download datasets: mnist, fashion-mnist, stl10, and the denoising sets CBSD432 (colour training),
    CBSD68, Kodak24, McMaster (colour tests), Train400 (grey training), BSD68, Set12 (grey tests). The only
    command that uses the network; every file's md5 is checked and a rerun skips what is already verified."""
    from advkit.data.fetch import fetch_dataset, fetchable

    console = Console()
    for name in [fetchable(n) for n in names]:  # every name checked before the first download
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[detail]}"),
                      console=Console(stderr=True), transient=True) as progress:
            folder = fetch_dataset(name, _RichProgress(progress))
        console.print(f"{name} is in {folder}")
