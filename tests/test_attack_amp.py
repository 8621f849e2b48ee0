"""Mixed precision stays honest: a bf16-autocast FGSM/PGD matches fp32 adversarial accuracy within 1 point.

The same code path runs on CUDA (``--amp``); here it is exercised on the CPU with bf16 autocast forced on.
"""

from __future__ import annotations

import torch

from advkit.robustness.tables import robustness
from advkit.models.loader import load_victim
from advkit.data import load_dataset


def test_amp_fgsm_and_pgd_match_fp32_within_one_point():
    victim = load_victim("default", torch.device("cpu"))
    test = load_dataset("mnist", "test", source="offline").subset(600)
    kwargs = dict(eps_list=[0.1, 0.25], pgd_steps=5, batch_size=300, seed=0)
    fp32 = robustness(victim.model, test.images, test.labels, **kwargs)
    bf16 = robustness(victim.model, test.images, test.labels, amp=True, **kwargs)
    for a, b in zip(fp32, bf16):
        assert abs(a["fgsm_error"] - b["fgsm_error"]) <= 0.01, (a, b)
        assert abs(a["pgd_error"] - b["pgd_error"]) <= 0.01, (a, b)
    assert fp32[1]["fgsm_error"] > fp32[0]["fgsm_error"] > fp32[0]["clean_error"]  # the attack is doing something
