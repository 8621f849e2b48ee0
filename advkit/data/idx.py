"""The IDX format of MNIST and Fashion-MNIST (LeCun et al.), optionally gzip-compressed.

Header: two zero bytes, a type code (0x08 = uint8), the number of dimensions, then one big-endian
uint32 per dimension; the data follows in row-major order.

    >>> images = read_idx("t10k-images-idx3-ubyte.gz")    # uint8 array [10000, 28, 28]
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from advkit.errors import AdvkitError


def read_idx(path: str | Path) -> np.ndarray:
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise AdvkitError(f"{path} is not a readable IDX file ({e}); run `advkit data verify` and re-fetch it") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise AdvkitError(f"{path} is not an IDX uint8 file (bad magic number); run `advkit data verify`")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise AdvkitError(f"{path} has a corrupt IDX header; run `advkit data verify`")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise AdvkitError(f"{path} is truncated or corrupt: header promises {expected} bytes of data, file has "
                          f"{len(raw) - header}; run `advkit data verify` and re-fetch it")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)
