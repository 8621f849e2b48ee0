"""Precision / recall (Kynkaanniemi et al. 2019) and density / coverage (Naeem et al. 2020): fidelity and
diversity of generated samples measured apart, from k-nearest-neighbour balls in a feature space.

Every real feature r_i gets the ball B(r_i, NND_k(r_i)), its radius the Euclidean distance to its k-th
nearest *other* real feature; likewise every fake feature f_j gets B(f_j, NND_k(f_j)) among the fakes.

    precision = 1/M sum_j 1[ f_j in some real ball ]                      fidelity: fakes look real
    recall    = 1/N sum_i 1[ r_i in some fake ball ]                      diversity: reals are reproduced
    density   = 1/(kM) sum_j #{ i : f_j in B(r_i, NND_k(r_i)) }             fidelity, robust to real outliers
    coverage  = 1/N sum_i 1[ some f_j in B(r_i, NND_k(r_i)) ]             diversity, robust to fake outliers

"In a ball" is the strict ``d < radius``, as in the authors' ``prdc`` package. For two samples of one
distribution density is ~1 and coverage ~1 - 2^-k (Naeem et al., sec. 4); a mode-collapsed generator keeps
high precision but loses recall and coverage. k = 5 is the default of both papers.

No N x M distance matrix is ever held: distances come from ``torch.cdist`` in blocks of ``chunk_size`` rows
(about chunk_size x N numbers at once), so 26k x 26k feature sets fit; results do not depend on the chunk size.
Distances are float64: cdist's matrix-product form |x|^2 + |y|^2 - 2 x.y loses about 1e-2 to cancellation
in float32 on 128-d features (a point's distance to itself came out 0.01), enough to blur ties between
duplicated samples. Tensors stay on the features' device.

Shapes: ``features_real`` ``[N, D]``, ``features_fake`` ``[M, D]`` (N, M > k).

    >>> precision_recall_density_coverage(features_real, features_fake, k=5)
    {'precision': 0.81, 'recall': 0.62, 'density': 0.94, 'coverage': 0.88}
"""

from __future__ import annotations

import torch

from advkit.errors import AdvkitError


def _blocks(rows: torch.Tensor, chunk_size: int):
    for start in range(0, rows.shape[0], chunk_size):
        yield rows[start:start + chunk_size]


def kth_neighbour_distances(features: torch.Tensor, k: int = 5, chunk_size: int = 512) -> torch.Tensor:
    """Distance from each row of ``features`` ``[N, D]`` to its k-th nearest other row -> ``[N]``."""
    radii = []
    for block in _blocks(features, chunk_size):
        # The (k + 1)-th smallest distance: the smallest is the point itself (0).
        nearest = torch.cdist(block, features).topk(k + 1, dim=1, largest=False).values
        radii.append(nearest[:, k])
    return torch.cat(radii)


def precision_recall_density_coverage(features_real: torch.Tensor, features_fake: torch.Tensor, k: int = 5,
                                      chunk_size: int = 512, real_radii: torch.Tensor | None = None
                                      ) -> dict[str, float]:
    """Precision, recall, density and coverage of ``features_fake`` against ``features_real`` (k-NN balls).

    ``real_radii``: ``kth_neighbour_distances(features_real, k)`` when already computed (several fake sets
    scored against one real set)."""
    real = features_real.detach().reshape(features_real.shape[0], -1).double()
    fake = features_fake.detach().reshape(features_fake.shape[0], -1).double().to(real.device)
    if real.shape[1] != fake.shape[1]:
        raise AdvkitError(f"real and generated features differ in dimension ({real.shape[1]} vs {fake.shape[1]}): "
                          "both sides must use the same feature extractor")
    if k < 1 or min(len(real), len(fake)) <= k:
        raise AdvkitError(f"k-nearest-neighbour metrics need k >= 1 and more than k samples per side; got k={k}, "
                          f"{len(real)} real and {len(fake)} generated")
    if chunk_size < 1:
        raise AdvkitError(f"chunk_size must be positive; got {chunk_size}")
    if real_radii is None:
        real_radii = kth_neighbour_distances(real, k, chunk_size)
    real_radii = real_radii.to(device=real.device, dtype=real.dtype)
    if real_radii.shape != (len(real),):
        raise AdvkitError(f"real_radii must hold one radius per real feature ({len(real)}); "
                          f"got {tuple(real_radii.shape)}")
    fake_radii = kth_neighbour_distances(fake, k, chunk_size)

    in_real_balls = torch.zeros(len(fake), dtype=torch.long, device=real.device)  # per fake: real balls holding it
    reproduced = torch.zeros(len(real), dtype=torch.bool, device=real.device)     # per real: inside a fake ball
    nearest_fake = torch.full_like(real_radii, float("inf"))                       # per real: closest fake
    start = 0
    for block, block_radii in zip(_blocks(fake, chunk_size), fake_radii.split(chunk_size)):
        d = torch.cdist(block, real)                                   # [chunk, N]
        in_real_balls[start:start + len(block)] = (d < real_radii).sum(1)
        reproduced |= (d < block_radii[:, None]).any(0)
        nearest_fake = torch.minimum(nearest_fake, d.min(0).values)
        start += len(block)
    return {"precision": float((in_real_balls > 0).double().mean()),
            "recall": float(reproduced.double().mean()),
            "density": float(in_real_balls.double().sum() / (k * len(fake))),
            "coverage": float((nearest_fake < real_radii).double().mean())}
