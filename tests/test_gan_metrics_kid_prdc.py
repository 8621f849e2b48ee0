"""KID against torch-fidelity, precision / recall / density / coverage on constructed feature sets (and
against the authors' ``prdc`` package when installed), the Inception Score's independence of sample order,
and the combined report catching a degenerate generator that repeats 10 real samples."""

from __future__ import annotations

import math

import pytest
import torch

from advkit.errors import AdvkitError
from advkit.gan.metrics import inception_score
from advkit.gan.metrics.kid import kernel_inception_distance, mmd2_polynomial
from advkit.gan.metrics.prdc import kth_neighbour_distances, precision_recall_density_coverage
from advkit.gan.metrics.report import gan_metric_report

# Float results compared with a reference or a closed form (tolerances justified where asserted); CI also runs
# them under ATEN_CPU_CAPABILITY=default (.ci/run).
pytestmark = pytest.mark.numerics


def gaussian(n: int, dim: int, seed: int, shift: float = 0.0) -> torch.Tensor:
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) + shift


CENTRES = torch.randn(10, 16, generator=torch.Generator().manual_seed(1234)) * 4  # 10 "classes" in 16-D


def posterior(features: torch.Tensor) -> torch.Tensor:
    """The Bayes class probabilities of unit-variance clusters around CENTRES (a perfect "classifier")."""
    return torch.softmax(-torch.cdist(features, CENTRES) ** 2 / 2, dim=1)


def clusters(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(features, labels, class probabilities) of n samples of the mixture of 10 well-separated clusters."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(len(CENTRES), (n,), generator=g)
    features = CENTRES[labels] + torch.randn(n, CENTRES.shape[1], generator=g)
    return features, labels, posterior(features)


# ---------------------------------------------------------------- KID

@pytest.fixture(scope="module")
def metric_kid():
    return pytest.importorskip("torch_fidelity.metric_kid", reason="torch-fidelity (test extra): the KID reference")

TF_KID = dict(kid_kernel="poly", kid_kernel_poly_degree=3, kid_kernel_poly_gamma=None, kid_kernel_poly_coef0=1,
              verbose=False)


@pytest.mark.parametrize("dim,shift", [(8, 0.0), (64, 0.5)])
def test_mmd2_matches_torch_fidelity_on_identical_subsets(metric_kid, dim, shift):
    x, y = gaussian(300, dim, 0), gaussian(300, dim, 1, shift)
    reference = metric_kid.kernel_mmd(x.numpy(), y.numpy(), **TF_KID)
    # the same float64 unbiased MMD^2 as torch-fidelity: kernel sums of 300^2 terms in another order (~300^2 *
    # 2.2e-16 ~ 2e-11 relative): 1e-9
    assert mmd2_polynomial(x, y) == pytest.approx(float(reference), rel=1e-9, abs=1e-12)


def test_kid_matches_torch_fidelity(metric_kid):
    x, y = gaussian(400, 32, 0), gaussian(400, 32, 1, 0.3)
    # Subsets as large as the sets: every subset is the whole set reordered, so both means are exact.
    ours = kernel_inception_distance(x, y, subsets=3, subset_size=400)
    theirs = metric_kid.kid_features_to_metric(x, y, kid_subsets=3, kid_subset_size=400, **TF_KID)
    # as above (the same subsets in float64)
    assert ours[0] == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-9)
    # three identical subsets: their std is float64 rounding only
    assert ours[1] < 1e-9 * abs(ours[0])
    # Smaller subsets: different random subsets, the same expectation (4 standard errors apart at most).
    ours = kernel_inception_distance(x, y, subsets=60, subset_size=100, seed=3)
    theirs = metric_kid.kid_features_to_metric(x, y, kid_subsets=60, kid_subset_size=100, rng_seed=3, **TF_KID)
    t_mean, t_std = theirs["kernel_inception_distance_mean"], theirs["kernel_inception_distance_std"]
    assert abs(ours[0] - t_mean) < 4 * math.sqrt((ours[1] ** 2 + t_std ** 2) / 60)
    # two independent 60-subset estimates of one std: relative sampling error ~1/sqrt(2 * 60) ~ 9% each; 50% is a
    # 4-sigma bound
    assert ours[1] == pytest.approx(t_std, rel=0.5)


def test_kid_is_unbiased_for_one_distribution_and_positive_for_shifted_ones():
    real, same = gaussian(2000, 16, 0), gaussian(2000, 16, 1)
    mean, std = kernel_inception_distance(real, same, subsets=50, subset_size=200)
    assert abs(mean) < 0.5 * std  # expectation 0: single estimates scatter around it, some negative
    shifted_mean, shifted_std = kernel_inception_distance(real, gaussian(2000, 16, 2, 0.5), subsets=50, subset_size=200)
    assert shifted_mean > 10 * shifted_std and shifted_mean > 50 * abs(mean)
    # Seeded: repeatable, and another seed picks other subsets.
    assert kernel_inception_distance(real, same, subsets=5, subset_size=200, seed=7) == \
        kernel_inception_distance(real, same, subsets=5, subset_size=200, seed=7)
    assert kernel_inception_distance(real, same, subsets=5, subset_size=200, seed=8)[0] != \
        kernel_inception_distance(real, same, subsets=5, subset_size=200, seed=7)[0]


def test_kid_rejects_bad_input():
    with pytest.raises(AdvkitError, match="subset"):
        kernel_inception_distance(gaussian(50, 4, 0), gaussian(500, 4, 1))  # 50 < the default 1000
    with pytest.raises(AdvkitError, match="dimension"):
        kernel_inception_distance(gaussian(50, 4, 0), gaussian(50, 5, 1), subset_size=10)


# ---------------------------------------------------------------- precision / recall / density / coverage

def test_kth_neighbour_distances_match_a_full_sort():
    x = gaussian(300, 8, 0)
    brute = torch.cdist(x, x).sort(dim=1).values[:, 5]  # column 0 is the point itself
    # chunked vs whole float64 cdist of the same pairs: identical up to rounding (~1e-15)
    assert torch.allclose(kth_neighbour_distances(x, 5, chunk_size=64), brute, atol=1e-10)


def test_identical_sets_are_perfect_and_far_apart_sets_score_zero():
    real = gaussian(800, 16, 0)
    same = precision_recall_density_coverage(real, real.clone())
    assert same["precision"] == 1 and same["recall"] == 1 and same["coverage"] == 1
    far = precision_recall_density_coverage(real, gaussian(800, 16, 1, shift=100.0))
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_collapse_onto_ten_real_points_keeps_precision_and_loses_recall_and_coverage():
    real = gaussian(2000, 16, 0)
    collapsed = real[:10].repeat(100, 1)  # 1000 fakes, copies of 10 real points
    m = precision_recall_density_coverage(real, collapsed)
    assert m["precision"] == 1.0
    assert m["recall"] < 0.1 and m["coverage"] < 0.1


def test_two_samples_of_one_gaussian_match_naeem_et_al_expectations():
    k = 5
    m = precision_recall_density_coverage(gaussian(2000, 16, 0), gaussian(2000, 16, 1), k=k)
    # identical distributions: density's expectation is 1 and coverage's 1 - 2^-k; sampling error at n = 2000 is
    # ~0.01-0.02: 0.05 (seeded, so fixed here)
    assert m["density"] == pytest.approx(1.0, abs=0.05)
    assert m["coverage"] == pytest.approx(1 - 2 ** -k, abs=0.05)
    assert m["precision"] > 0.6 and m["recall"] > 0.6  # k-NN manifolds of one distribution overlap widely


def test_results_do_not_depend_on_chunk_size():
    real, fake = gaussian(700, 8, 0), gaussian(500, 8, 1, shift=0.3)
    results = [precision_recall_density_coverage(real, fake, chunk_size=c) for c in (7, 64, 333, 10_000)]
    assert all(r == results[0] for r in results[1:])
    # Precomputed real radii (shared by several fake sets) give the same numbers.
    radii = kth_neighbour_distances(real, 5)
    assert precision_recall_density_coverage(real, fake, real_radii=radii) == results[0]


def test_prdc_matches_the_authors_package():
    prdc = pytest.importorskip("prdc", reason="the authors' prdc package (pip install prdc) is the reference")
    real, fake = gaussian(600, 8, 0), gaussian(400, 8, 1, shift=0.4) * 1.2
    theirs = prdc.compute_prdc(real_features=real.numpy(), fake_features=fake.numpy(), nearest_k=5)
    ours = precision_recall_density_coverage(real, fake, k=5)
    for key in ("precision", "recall", "density", "coverage"):
        # the same float64 neighbourhood counts as the reference code: fractions of integers, exact
        assert ours[key] == pytest.approx(float(theirs[key]), abs=1e-12), key


def test_prdc_rejects_bad_input():
    with pytest.raises(AdvkitError, match="more than k"):
        precision_recall_density_coverage(gaussian(5, 4, 0), gaussian(50, 4, 1), k=5)
    with pytest.raises(AdvkitError, match="dimension"):
        precision_recall_density_coverage(gaussian(50, 4, 0), gaussian(50, 3, 1))


# ---------------------------------------------------------------- Inception Score

def test_inception_score_does_not_depend_on_sample_order():
    _, labels, probs = clusters(3000)
    by_class = probs[labels.argsort(stable=True)]  # a conditional generator sampled label by label
    shuffled = probs[torch.randperm(3000, generator=torch.Generator().manual_seed(5))]
    # the score of the same 3000 probabilities split differently: splits of 300 vary it by ~0.3%; 1% bounds it, a
    # per-class split would change it by > 10%
    assert inception_score(by_class)[0] == pytest.approx(inception_score(shuffled)[0], rel=0.01)
    assert inception_score(by_class)[0] == pytest.approx(inception_score(probs)[0], rel=0.01)
    # Without the shuffle each split holds one class, and the score collapses towards 1.
    assert inception_score(by_class, seed=None)[0] < 0.5 * inception_score(by_class)[0]


@pytest.mark.parametrize("n", [1000, 1003])
def test_inception_score_matches_torch_fidelity(n):
    metric_isc = pytest.importorskip("torch_fidelity.metric_isc")
    features, _, _ = clusters(n, seed=n)
    logits = -torch.cdist(features, CENTRES).double() ** 2 / 2  # torch-fidelity takes logits, advkit probabilities
    theirs = metric_isc.isc_features_to_metric(logits, splits=10, shuffle=True, rng_seed=2020)
    mean, std = inception_score(logits.softmax(dim=1))
    # torch-fidelity's float64 formula on the same splits
    assert mean == pytest.approx(theirs["inception_score_mean"], rel=1e-9)
    # the std of 10 split scores equal to 1e-9: a difference of close numbers, 1e-6 relative
    assert std == pytest.approx(theirs["inception_score_std"], rel=1e-6)


# ---------------------------------------------------------------- the combined report

def test_report_catches_a_generator_repeating_ten_real_samples():
    reference, ref_labels, _ = clusters(2000, seed=0)
    heldout, _, heldout_probs = clusters(1000, seed=1)
    # One real sample of each class, each repeated 100 times: classes balanced, samples sharp and real.
    picks = torch.stack([torch.nonzero(ref_labels == c)[0, 0] for c in range(10)])
    fake = reference[picks].repeat(100, 1)
    fake_probs = posterior(fake)
    report = gan_metric_report(fake, reference, heldout, fake_probs, heldout_probs, kid_subsets=20)
    fake_m, floor = report["fake"], report["real_floor"]
    assert fake_m["precision"] > 0.9 and fake_m["recall"] < 0.1 and fake_m["coverage"] < 0.1
    # Naeem et al.'s expected coverage for M samples against N reference ones: 1 - prod_i (N - i) / (M + N - i).
    expected_coverage = 1 - math.prod((2000 - i) / (3000 - i) for i in range(1, 6))
    assert floor["precision"] > 0.6 and floor["recall"] > 0.6
    # expected coverage of the real floor (closed form); seeded sampling error at n = 2000 ~ 0.01-0.02: 0.05
    assert floor["coverage"] == pytest.approx(expected_coverage, abs=0.05)
    assert abs(floor["density"] - 1) < 0.15 and abs(floor["kid_mean"]) < 3 * floor["kid_std"]
    assert fake_m["fid"] > 5 * floor["fid"] and fake_m["kid_mean"] > 5 * abs(floor["kid_mean"])
    # The Inception Score alone misses it: ten sharp samples of ten balanced classes score like real data.
    assert report["is_ratio"] > 0.9
    assert report["n"] == 1000 and report["n_reference"] == 2000 and report["kid_subset_size"] == 1000


def test_report_rejects_a_floor_of_another_size_and_half_the_probabilities():
    reference, _, probs = clusters(300)
    with pytest.raises(AdvkitError, match="held-out"):
        gan_metric_report(reference[:100], reference, reference[100:150])
    with pytest.raises(AdvkitError, match="both"):
        gan_metric_report(reference[:100], reference, reference[100:200], probs[:100], None)


def test_report_on_real_mnist_features_with_the_shipped_classifier():
    from advkit.data import load_dataset
    from advkit.gan.metrics.domain import features_and_probs, load_domain_classifier

    try:
        test = load_dataset("mnist", "test", "offline")
    except AdvkitError as e:
        pytest.skip(f"offline MNIST absent: {e}")
    feats, probs = features_and_probs(load_domain_classifier("mnist"), test.images[:3000])
    # Fake: the first test image of each digit, repeated; reference and floor: disjoint test images.
    picks = torch.stack([torch.nonzero(test.labels[2000:3000] == c)[0, 0] + 2000 for c in range(10)])
    fake = picks.repeat(100)
    report = gan_metric_report(feats[fake], feats[:2000], feats[2000:3000], probs[fake], probs[2000:3000],
                               kid_subsets=10, kid_subset_size=500)
    assert report["fake"]["recall"] < 0.1 and report["fake"]["coverage"] < 0.1 and report["fake"]["precision"] > 0.7
    assert report["real_floor"]["coverage"] > 0.8 and report["real_floor"]["recall"] > 0.6
    assert report["fake"]["fid"] > 5 * report["real_floor"]["fid"]
