"""GPU fast paths, tested on the CPU through the same decision logic and the same tensor operations."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from advkit.data.tensors import TensorData, place_dataset
from advkit.runtime.amp import amp_dtype, autocast, channels_last, choose_amp_dtype, choose_placement, grad_scaler
from advkit.runtime.device import to_device

# Float results compared with a reference or a closed form (tolerances justified where asserted); CI also runs
# them under ATEN_CPU_CAPABILITY=default (.ci/run).
pytestmark = pytest.mark.numerics


@pytest.mark.parametrize("device_type, enabled, cpu, bf16, expected", [
    ("cuda", True, False, True, torch.bfloat16),   # --amp on an Ampere+ GPU
    ("cuda", True, False, False, torch.float16),   # --amp on an older GPU: fp16 (with a grad scaler)
    ("cuda", False, False, True, None),            # no --amp: float32
    ("cpu", True, False, True, None),              # --amp on the CPU is a no-op unless asked
    ("cpu", True, True, True, torch.bfloat16),     # ... and asked
    ("mps", True, True, True, None),               # unknown devices keep float32
])
def test_amp_dtype_decision(device_type, enabled, cpu, bf16, expected):
    assert choose_amp_dtype(device_type, enabled, cpu, bf16) == expected


def test_autocast_on_cpu_only_when_asked():
    layer, x = nn.Linear(8, 4), torch.randn(3, 8)
    with autocast("cpu", enabled=True):
        assert layer(x).dtype == torch.float32
    with autocast("cpu", enabled=True, cpu=True):
        low = layer(x)
    assert low.dtype == torch.bfloat16
    # bf16 keeps ~3 significant digits: close to float32, not equal (the cast really happened).
    full = layer(x)
    # bf16 keeps 8 mantissa bits (unit roundoff 2^-9 = 2e-3): inputs and weights rounded to it give a relative
    # error of a few 2e-3 on each product, ~1e-2 on a sum of them; 0.02 / 0.05 bound that, float32 gives ~1e-7.
    torch.testing.assert_close(low.float(), full, atol=0.05, rtol=0.02)
    assert not torch.equal(low.float(), full)
    assert amp_dtype("cpu", enabled=True) is None


def test_grad_scaler_only_for_float16():
    assert not grad_scaler("cpu", torch.bfloat16).is_enabled()
    assert not grad_scaler("cpu", None).is_enabled()
    # A disabled scaler is a pass-through, so trainers can call it unconditionally.
    scaler, loss = grad_scaler("cpu", None), torch.tensor(2.0)
    assert scaler.scale(loss) is loss


def test_channels_last_changes_layout_not_values():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 36, 2))
    net.eval()
    x = torch.randn(2, 3, 6, 6)
    expected = net(x)
    net = channels_last(net)
    x_cl = channels_last(x)
    assert net[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert x_cl.is_contiguous(memory_format=torch.channels_last)
    assert not x.is_contiguous(memory_format=torch.channels_last)
    # NHWC convolutions sum the same products in another order (a 3x3xC window: ~10^2 terms, ~1e-6 relative)
    torch.testing.assert_close(net(x_cl), expected, atol=1e-5, rtol=1e-5)
    flat = torch.randn(4, 5)
    assert channels_last(flat) is flat and channels_last(x, enabled=False) is x


def test_to_device_on_cpu_copies_nothing():
    x = torch.randn(4, 3)
    assert to_device(x, "cpu") is x  # no pinning attempted without CUDA


@pytest.mark.parametrize("nbytes, device_type, free, expected", [
    (31_000_000, "cuda", 70_000_000_000, "device"),   # MNIST on an 80 GB GPU: held on the device
    (30_000_000_000, "cuda", 70_000_000_000, "pinned"),  # too big for a quarter of free memory: pinned host
    (10, "cuda", None, "pinned"),
    (31_000_000, "cpu", None, "host"),
])
def test_dataset_placement_decision(nbytes, device_type, free, expected):
    assert choose_placement(nbytes, device_type, free) == expected


def test_place_dataset_on_cpu_keeps_the_one_copy():
    data = TensorData(torch.rand(10, 1, 4, 4), torch.arange(10), "toy/train", "random")
    placed = place_dataset(data, "cpu")
    assert placed.images.data_ptr() == data.images.data_ptr()  # no second copy of the dataset
    assert placed.to("cpu").images.data_ptr() == data.images.data_ptr()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (the logic is covered above)")
def test_cuda_paths():
    data = place_dataset(TensorData(torch.rand(10, 1, 4, 4), torch.arange(10), "toy/train", "random"), "cuda")
    assert data.images.is_cuda
    assert to_device(torch.randn(3), "cuda").is_cuda
    with autocast("cuda", enabled=True):
        assert nn.Linear(4, 4).cuda()(torch.randn(2, 4, device="cuda")).dtype in (torch.bfloat16, torch.float16)
