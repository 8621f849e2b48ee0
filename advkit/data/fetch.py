"""Fetching datasets: every file checked against a pinned md5, written atomically, a rerun resumes.

A denoising set is described by a manifest shipped with the package (``advkit/data/manifests/<SET>.json``):
its files with their md5 sums, and where to get them, either

* ``base_urls``: each file is downloaded from the first base URL that serves it with the pinned md5
  (the project's own repository first, a copy pinned to a commit as the fallback), or
* ``archive``: one archive is downloaded and the set is taken out of it. CBSD432 is the 500 BSDS500
  images (``folders``: train, val and test) minus the 68 of CBSD68 (``exclude``); the derived list of
  names must equal the manifest's before anything is written.

A file is written to a temporary name beside its destination and renamed only once its md5 is right,
so an interrupted or corrupt download leaves nothing behind, and a rerun skips every file already
verified. MNIST, Fashion-MNIST, STL-10, CIFAR-10 and CIFAR-100 come through torchvision's own downloaders (which check md5s).

    >>> fetch_denoise_set("CBSD68")                       # Path(<data root>/denoise/CBSD68), 68 verified PNGs
    >>> fetch_set(load_manifest("Kodak24"), tmp / "K")   # any folder; a test points base_urls at a local server
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import ssl
import tarfile
import urllib.error
import urllib.request
import zlib
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterator

from advkit.data.paths import DENOISE_SETS, data_root
from advkit.errors import AdvkitError
from advkit.runtime.atomic import atomic_file

MANIFESTS = Path(__file__).with_name("manifests")
TORCHVISION_SETS = ("mnist", "fashion-mnist", "stl10", "cifar10", "cifar100")
TIMEOUT_S = 30
_CHUNK = 1 << 16


class FetchProgress:
    """Hooks for a progress display (the CLI draws rich bars with them); each default does nothing."""

    def start(self, name: str, total_files: int) -> None:
        """A set of ``total_files`` files is about to be checked and fetched."""

    def file_done(self, name: str, downloaded: bool) -> None:
        """One file is in place and verified (``downloaded`` False: it was already there)."""

    def transfer(self, url: str, done: int, total: int | None) -> None:
        """``done`` bytes of ``url`` have arrived (``total``: its size when the server says)."""


class _Mismatch(Exception):
    """A download whose md5 differs from the pinned one (it has already been deleted)."""


def file_md5(path: str | Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_manifest(name: str) -> dict:
    """The shipped manifest of a denoising set (case-insensitive name)."""
    canonical = {s.lower(): s for s in DENOISE_SETS}.get(name.lower())
    if canonical is None:
        raise AdvkitError(f"no manifest for {name!r}; the denoising sets are {', '.join(DENOISE_SETS)}")
    return json.loads((MANIFESTS / f"{canonical}.json").read_text())


def fetchable(name: str) -> str:
    """The canonical spelling of a dataset ``advkit data fetch`` knows (any case), or an error naming them all."""
    known = {s.lower(): s for s in TORCHVISION_SETS + DENOISE_SETS}
    if name.lower() not in known:
        raise AdvkitError(f"unknown dataset {name!r}; advkit data fetch knows {', '.join(known.values())}")
    return known[name.lower()]


def fetch_dataset(name: str, progress: FetchProgress | None = None) -> Path:
    """``advkit data fetch NAME``: a denoising set or one of torchvision's sets, into the data root."""
    name = fetchable(name)
    if name in TORCHVISION_SETS:
        return fetch_torchvision(name)
    return fetch_denoise_set(name, progress)


def fetch_denoise_set(name: str, progress: FetchProgress | None = None) -> Path:
    manifest = load_manifest(name)
    folder = data_root() / "denoise" / manifest["name"]
    fetch_set(manifest, folder, progress)
    return folder


def fetch_set(manifest: dict, folder: Path, progress: FetchProgress | None = None) -> dict:
    """Make ``folder`` hold every file of ``manifest`` with its md5; returns how many were downloaded or kept."""
    with _tidy_on_failure(folder):
        return _fetch_set(manifest, folder, progress or FetchProgress())


def _fetch_set(manifest: dict, folder: Path, progress: FetchProgress) -> dict:
    files: dict[str, str] = manifest["files"]
    _writable_folder(folder)
    progress.start(manifest["name"], len(files))
    missing = {}
    for rel, md5 in files.items():
        if (folder / rel).is_file() and file_md5(folder / rel) == md5:
            progress.file_done(rel, downloaded=False)
        else:
            missing[rel] = md5
    if missing and "archive" in manifest:
        _from_archive(manifest, folder, missing, progress)
    elif missing:
        for rel, md5 in missing.items():
            _download_verified([base + rel for base in manifest["base_urls"]], folder / rel, md5, progress)
            progress.file_done(rel, downloaded=True)
    return {"folder": str(folder), "downloaded": len(missing), "kept": len(files) - len(missing)}


@contextmanager
def _tidy_on_failure(folder: Path) -> Iterator[None]:
    """If the fetch fails, remove the folders it made and left empty (``folder`` and missing parents, and new
    empty folders inside ``folder``), so a failed fetch leaves nothing behind; files already verified stay."""
    top = folder
    while not top.parent.exists() and top.parent != top:
        top = top.parent
    made = not top.exists()
    before = set(folder.iterdir()) if folder.is_dir() else set()
    try:
        yield
    except BaseException:
        for path in (set(folder.iterdir()) - before if folder.is_dir() else set()):
            _remove_empty_folders(path)
        if made:
            _remove_empty_folders(top)
        raise


def _remove_empty_folders(path: Path) -> None:
    """Remove ``path`` and the folders under it that hold no file (bottom-up)."""
    if not path.is_dir() or path.is_symlink():
        return
    for child in path.iterdir():
        _remove_empty_folders(child)
    if not any(path.iterdir()):
        path.rmdir()


def _writable_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise AdvkitError(f"cannot create {folder} ({e.strerror}); set ADVKIT_DATA to a writable folder") from None


def _download_verified(urls: list[str], target: Path, md5: str | None, progress: FetchProgress) -> None:
    """Download ``target`` from the first of ``urls`` that serves it (with the right md5, when pinned)."""
    failures = []  # (kind, message): unreachable | moved | changed
    for url in urls:
        try:
            _download(url, target, md5, progress)
            return
        except _Mismatch as e:
            failures.append(("changed", f"{url} does not match its pinned md5 (got {e}, expected {md5})"))
        except urllib.error.HTTPError as e:  # the server answered: the file is not (or no longer) there
            failures.append(("moved", f"could not download {url} (HTTP {e.code} {e.reason})"))
        except (urllib.error.URLError, ConnectionError, TimeoutError, ssl.SSLError, http.client.HTTPException,
                ValueError) as e:  # DNS, refused, reset, timeout, a cut transfer
            reason = str(getattr(e, "reason", None) or e).splitlines()[0][:100]
            failures.append(("unreachable", f"could not download {url} ({reason})"))
        except OSError as e:  # ours, not the network's: a full disk, a read-only folder
            raise AdvkitError(f"cannot write {target} ({e.strerror or e}); free some space or set ADVKIT_DATA to "
                              "a writable folder") from None
    kinds = {kind for kind, _ in failures}
    hint = ("no network? fetch on a machine with one, or set ADVKIT_DATA to a folder that already holds the data"
            if kinds == {"unreachable"} else "nothing was kept; the upstream copy changed, so please report it"
            if "changed" in kinds else "the file moved upstream, so please report it")
    also = f" (and {len(urls) - 1} mirror{'s' if len(urls) > 2 else ''})" if len(urls) > 1 else ""
    raise AdvkitError(f"{failures[0][1]}{also}; {hint}")


def _download(url: str, target: Path, md5: str | None, progress: FetchProgress) -> None:
    """Stream ``url`` into a temporary file beside ``target``; rename it only when complete and verified."""
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length else None
        _write_verified(response, target, md5, lambda done: progress.transfer(url, done, total))


def _write_verified(source: BinaryIO, target: Path, md5: str | None, on_bytes=None) -> None:
    # atomic: the target is whole and verified, or absent (a mismatch raised inside leaves no file behind)
    with atomic_file(target) as out:
        digest, done = hashlib.md5(), 0
        for chunk in iter(lambda: source.read(_CHUNK), b""):
            out.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            if on_bytes:
                on_bytes(done)
        if md5 and digest.hexdigest() != md5:
            raise _Mismatch(digest.hexdigest())


def derive_from_archive(names: list[str], spec: dict) -> dict[str, str]:
    """basename -> archive member name: the images directly inside ``spec["folders"]`` whose stem is not in
    ``spec["exclude"]`` (CBSD432 = BSDS500's train, val and test images minus CBSD68)."""
    folders = {PurePosixPath(f) for f in spec["folders"]}
    exclude = set(spec.get("exclude", ()))
    suffixes = {s.lower() for s in spec.get("suffixes", [".jpg"])}
    derived = {}
    for member in names:
        path = PurePosixPath(member)
        if path.parent in folders and path.suffix.lower() in suffixes and path.stem not in exclude:
            derived[path.name] = member
    return derived


def _from_archive(manifest: dict, folder: Path, missing: dict[str, str], progress: FetchProgress) -> None:
    """Download the archive, check that it yields exactly the manifest's files, extract the missing ones.
    The archive is deleted afterwards, whatever happened: it is only kept while its set is taken out."""
    spec = manifest["archive"]
    archive = folder.parent / ".downloads" / PurePosixPath(spec["urls"][0]).name
    _download_verified(spec["urls"], archive, spec.get("md5"), progress)
    try:
        with tarfile.open(archive) as tar:
            members = {m.name: m for m in tar.getmembers() if m.isfile()}
            derived = derive_from_archive(list(members), spec)
            _check_derivation(manifest, archive, derived)
            in_order = [(name, member) for name, member in derived.items() if name in missing]
            in_order.sort(key=lambda item: members[item[1]].offset)  # forward through the gzip stream, no rewinds
            for name, member in in_order:
                md5 = missing[name]
                try:  # read through tarfile, written under our own name: no path from the archive is used
                    _write_verified(tar.extractfile(members[member]), folder / name, md5)
                except _Mismatch as e:
                    raise AdvkitError(f"{name} in {spec['urls'][0]} does not match its pinned md5 (got {e}, "
                                      f"expected {md5}); nothing was kept; the upstream copy changed, so please "
                                      "report it") from None
                progress.file_done(name, downloaded=True)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as e:  # truncated or not an archive
        raise AdvkitError(f"{spec['urls'][0]} is not a readable archive ({str(e)[:80]}); run the fetch again") from None
    finally:
        archive.unlink(missing_ok=True)


def _check_derivation(manifest: dict, archive: Path, derived: dict[str, str]) -> None:
    expected, got = set(manifest["files"]), set(derived)
    if got != expected:
        lost, extra = sorted(expected - got), sorted(got - expected)
        raise AdvkitError(f"{archive.name} does not yield exactly the {len(expected)} images of {manifest['name']}: "
                          f"{len(lost)} missing{' (e.g. ' + lost[0] + ')' if lost else ''}, {len(extra)} unexpected"
                          f"{' (e.g. ' + extra[0] + ')' if extra else ''}; the archive's layout changed upstream")


def fetch_torchvision(name: str, root: Path | None = None) -> Path:
    """MNIST, Fashion-MNIST, STL-10 or CIFAR with torchvision's downloader (it checks its own md5s) into the data
    root; CIFAR is then checked against advkit's manifest too."""
    root = root or data_root()
    with _tidy_on_failure(root):
        return _fetch_torchvision(name, root)


def _fetch_torchvision(name: str, root: Path) -> Path:
    from torchvision.datasets import CIFAR10, CIFAR100, MNIST, STL10, FashionMNIST

    _writable_folder(root)
    url = {"mnist": MNIST.mirrors[0], "fashion-mnist": FashionMNIST.mirrors[0], "stl10": STL10.url,
           "cifar10": CIFAR10.url, "cifar100": CIFAR100.url}[name]
    try:
        if name in ("cifar10", "cifar100"):
            (CIFAR10 if name == "cifar10" else CIFAR100)(str(root), train=False, download=True)
        elif name == "stl10":
            STL10(str(root), split="train", download=True)
        else:
            for train in (True, False):
                (MNIST if name == "mnist" else FashionMNIST)(str(root), train=train, download=True)
    except (OSError, RuntimeError, urllib.error.URLError) as e:
        hint = "; offline, install Debian's dataset-fashion-mnist instead" if name == "fashion-mnist" else ""
        lines = [line for line in str(e).splitlines() if line.strip()] or [type(e).__name__]
        raise AdvkitError(f"could not download {name} from {url} ({lines[-1][:100]}): no network?{hint}") from None
    if name in ("cifar10", "cifar100"):
        from advkit.data.cifar import cifar_manifest, verify_cifar

        verify_cifar(name, root, cifar_manifest(name))
    return root
