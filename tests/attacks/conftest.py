import pytest
import torch
from torch import nn


@pytest.fixture(scope="module")
def tiny():
    """A small real CNN trained for a moment on the 20 real CIFAR-10 images (fits them), and the images."""
    from lpgeom.data import sample_images

    x, y = sample_images("cifar10")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AvgPool2d(4), nn.Flatten(),
                          nn.Linear(8 * 64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model.eval(), x, y
