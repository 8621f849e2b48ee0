"""Where data lives: one data root for everything advkit reads or fetches, and the package's own assets.

The data root is ``$ADVKIT_DATA`` when set; else the ``data/`` folder of a source checkout (it holds the
vendored offline MNIST in ``data/mnist``); else ``$XDG_CACHE_HOME/advkit/data`` (``~/.cache/advkit/data``),
where a pip-installed advkit keeps what ``advkit data fetch`` downloads. Under it::

    mnist/                 vendored offline MNIST (10k test + 5k train subset)
    MNIST/ FashionMNIST/   torchvision's full sets          (advkit data fetch mnist | fashion-mnist)
    stl10_binary/          STL-10                           (advkit data fetch stl10)
    denoise/CBSD68/ ...    denoising sets, one folder each  (advkit data fetch CBSD68)

To use denoising sets that already sit elsewhere, point ``ADVKIT_DATA`` at a folder holding ``denoise/``
(symbolic links will do), with a link to the checkout's ``data/mnist`` beside it for offline MNIST::

    mkdir -p ~/advkit-data && ln -s /data/denoise ~/advkit-data/denoise && ln -s $PWD/data/mnist ~/advkit-data/mnist
    export ADVKIT_DATA=~/advkit-data

    >>> denoise_set("CBSD68")          # Path(.../denoise/CBSD68), or an error saying how to get it
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from advkit.errors import AdvkitError

_CHECKOUT_DATA = Path(__file__).resolve().parents[2] / "data"
DENOISE_SETS = ("CBSD432", "CBSD68", "Kodak24", "McMaster", "BSD68", "Set12", "Train400")


def data_root() -> Path:
    """``$ADVKIT_DATA``, else a source checkout's ``data/``, else the per-user cache (see the module docstring)."""
    if os.environ.get("ADVKIT_DATA"):
        return Path(os.environ["ADVKIT_DATA"]).expanduser()
    if (_CHECKOUT_DATA / "mnist").is_dir():
        return _CHECKOUT_DATA
    return user_cache_root()


def user_cache_root() -> Path:
    """Where a pip-installed advkit keeps fetched data: ``$XDG_CACHE_HOME/advkit/data``."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "advkit" / "data"


def data_root_origin() -> str:
    """Why :func:`data_root` is what it is, for ``advkit data list``."""
    if os.environ.get("ADVKIT_DATA"):
        return "ADVKIT_DATA"
    return "the checkout's data/" if (_CHECKOUT_DATA / "mnist").is_dir() else "the user cache (set ADVKIT_DATA to move it)"


def denoise_set(name: str) -> Path:
    """The folder of the denoising set ``name`` (e.g. "CBSD68"), which must hold images."""
    canonical = {s.lower(): s for s in DENOISE_SETS}.get(name.lower())
    if canonical is None:
        raise AdvkitError(f"unknown denoising set {name!r}; choose one of {', '.join(DENOISE_SETS)}, or pass a folder path")
    folder = data_root() / "denoise" / canonical
    if not folder.is_dir() or not any(folder.iterdir()):
        raise AdvkitError(f"denoising set {canonical} is not in {folder.parent}; run `advkit data fetch {canonical}`, "
                          f"or set ADVKIT_DATA to a folder holding denoise/{canonical}")
    return folder


def image_folder(name_or_path: str | Path) -> Path:
    """A denoising set's folder when given its name (CBSD68, Kodak24, ...), else the path as given.

    A name wins only when no such path exists, so a local folder called ``Set12`` is still used as is."""
    path = Path(name_or_path)
    if not path.exists() and str(name_or_path).lower() in {s.lower() for s in DENOISE_SETS}:
        return denoise_set(str(name_or_path))
    return path


def assets_root() -> Path:
    """Files shipped inside the package (default models, sample images)."""
    return Path(__file__).resolve().parents[1] / "assets"


def portable_path(path: str | os.PathLike, base: str | os.PathLike | None = None, strict: bool = False) -> str:
    """``path`` as a record (report, results.json, docs) can carry to another machine: ``$ADVKIT_DATA/...`` under
    the data root, relative to ``base`` (default: the working directory) under it, ``~/...`` under the home folder.
    Another absolute path stays whole (it is where the file is), unless ``strict`` (a record that goes into the
    repository or a shipped file): then it keeps its part from a ``runs`` folder on (``runs/...``), else its name.

        >>> portable_path(data_root() / "denoise" / "CBSD68")                # '$ADVKIT_DATA/denoise/CBSD68'
        >>> portable_path("/elsewhere/runs/gan1/config.json", strict=True)   # 'runs/gan1/config.json'
    """
    text = os.fspath(path)
    given = Path(text).expanduser()
    if not given.is_absolute() and not text.startswith(".."):
        return text  # already relative to where the command ran (runs/..., a data set's name)
    full = Path(os.path.abspath(Path(base or os.getcwd()) / given))
    anchors = [(Path(os.path.abspath(root)), name) for root, name in
               [(data_root(), "$ADVKIT_DATA"), (Path(base or os.getcwd()), ""), (Path.home(), "~")]]
    matching = [(root, name) for root, name in anchors if full == root or root in full.parents]
    if matching:  # the innermost folder that holds it
        root, name = max(matching, key=lambda a: len(a[0].parts))
        rel = full.relative_to(root).as_posix()
        return (rel if not name else name if rel == "." else f"{name}/{rel}")
    if not strict:
        return text
    parts = full.parts
    if "runs" in parts:
        return Path(*parts[len(parts) - 1 - parts[::-1].index("runs"):]).as_posix()
    return full.name


# A path inside a word: at its start or after "=", ":" or "," (--out=PATH, denoiser:PATH, comma lists), up to a comma.
_PATH_IN_WORD = re.compile(r"(?:^|(?<=[=:,]))(?:/(?!/)|~/|\.\./)[^,]*")


def portable(value, strict: bool = False):
    """``value`` (a report, results, a command line's words) with every path in it made portable
    (:func:`portable_path`): plain paths, ``--opt=PATH``, ``kind:PATH`` and comma lists, in dicts and lists."""
    if isinstance(value, dict):
        return {k: portable(v, strict) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(portable(v, strict) for v in value)
    if isinstance(value, os.PathLike):
        return portable_path(value, strict=strict)
    if not isinstance(value, str) or "/" not in value:
        return value
    return " ".join(_PATH_IN_WORD.sub(lambda m: portable_path(m.group(0), strict=strict), word)
                    for word in value.split(" "))
