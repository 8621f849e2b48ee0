"""Victims for the attack benches that need a model no checkpoint ships: a CIFAR-shaped ResNet-18.

``resnet18_cifar``: the CIFAR variant of ResNet-18 (He et al. 2016; 3x3 stem, no max-pool, four stages of two
BasicBlocks, 32x32x3 inputs, 10 classes) as in RobustBench's and Madry's CIFAR models, built from torchvision's
BasicBlock at ``width`` channels in the first stage (64 in the paper; the bench uses 16 so a 2-core CPU finishes:
the same 18 layers and operations, 1/16 of the multiply-adds). Weights are drawn from seed 0 and the batch-norm
statistics are measured on 256 photo crops (:func:`photo_crops`), so the bench needs no training: without that
step the random network's output hardly depends on its input (every crop is one class and no attack moves it), so
an attack bench on it would time points nobody can break and compare no accuracy. The points are labelled with its
own predictions (clean accuracy 100%).

    python -c "import sys; sys.path.insert(0, 'bench'); import victims; print(victims.resnet18_cifar())"
    advkit eval robustness --model victims:resnet18_cifar --data points.pt      # with PYTHONPATH=bench
"""

from __future__ import annotations

import os

import torch
from torch import nn


def photo_crops(n: int) -> torch.Tensor:
    """[n, 3, 32, 32] 8-bit crops (128 px, 4x downsampled) of scikit-image's four colour photos, in a fixed order."""
    import skimage.data
    from torchvision.transforms.v2.functional import resize

    photos = [torch.from_numpy(getattr(skimage.data, k)()).permute(2, 0, 1).float() / 255
              for k in ("astronaut", "coffee", "chelsea", "rocket")]
    crops = []
    for i in range(n):
        photo = photos[i % 4]
        top = (i // 4 * 37) % (photo.shape[1] - 128)
        left = (i // 4 * 53) % (photo.shape[2] - 128)
        crops.append(resize(photo[:, top:top + 128, left:left + 128], [32, 32], antialias=True).clamp(0, 1))
    return (torch.stack(crops) * 255).round().to(torch.uint8)


def resnet18_cifar(width: int | None = None, num_classes: int = 10) -> nn.Module:
    from torchvision.models.resnet import BasicBlock

    width = width or int(os.environ.get("BENCH_RESNET_WIDTH", "16"))
    torch.manual_seed(0)

    def stage(inplanes: int, planes: int, stride: int) -> nn.Sequential:
        down = None
        if stride != 1 or inplanes != planes:
            down = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
        return nn.Sequential(BasicBlock(inplanes, planes, stride, down), BasicBlock(planes, planes))

    w = width
    net = nn.Sequential(
        nn.Conv2d(3, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True),
        stage(w, w, 1), stage(w, 2 * w, 2), stage(2 * w, 4 * w, 2), stage(4 * w, 8 * w, 2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8 * w, num_classes))
    for module in net.modules():  # batch-norm statistics of real images: the plain average over one batch
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = None
            module.reset_running_stats()
    with torch.no_grad():
        net.train()(photo_crops(256).float() / 255)
    return net.eval()
