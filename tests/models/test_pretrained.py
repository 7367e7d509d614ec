import torch

from lpgeom.data import sample_images
from lpgeom.models import load_pretrained


def test_cifar10_resnet18_is_accurate_on_real_images():
    model = load_pretrained("cifar10_resnet18_standard")
    assert sum(p.numel() for p in model.parameters()) == 11_173_962
    x, y = sample_images("cifar10")
    with torch.no_grad():
        correct = (model(x).argmax(1) == y).sum().item()
    assert correct >= 18  # measured: 20/20 (a standard, non-robust model)
    assert not model.training


def test_efficientnet_lite0_top1_on_real_imagenet_images():
    model = load_pretrained("imagenet_efficientnet_lite0")
    x, y = sample_images("imagenet")
    with torch.no_grad():
        correct = (model(x).argmax(1) == y).sum().item()
    assert correct >= 15  # measured: 17/20, as FACTS.md reports
