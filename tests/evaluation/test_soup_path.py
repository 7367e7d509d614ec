"""Union robustness along a soup's interpolation path, on tiny models."""
import pytest
import torch
from torch import nn

from lpgeom.evaluation import evaluate_robustness, soup_path
from lpgeom.threats import LpBall, ThreatUnion


def model(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 8 * 8, 3)).eval()


THREATS = ThreatUnion([LpBall("inf", 0.05), LpBall(1, 2.0)])


def test_the_path_ends_are_the_two_models_and_every_alpha_is_a_row():
    a, b = model(0), model(1)
    gen = torch.Generator().manual_seed(0)
    x, y = torch.rand(24, 1, 8, 8, generator=gen), torch.randint(0, 3, (24,), generator=gen)
    frame = soup_path(model(2), a.state_dict(), b.state_dict(), x, y, THREATS, alphas=(0.0, 0.5, 1.0), n_iter=5,
                      batch_size=24)
    assert list(frame.columns) == ["alpha", "clean", "Linf", "L1", "union", "batchnorm", "method", "sanity"]
    assert frame["alpha"].tolist() == [0.0, 0.5, 1.0]
    for alpha, source in ((0.0, a), (1.0, b)):
        report = evaluate_robustness(source, x, y, THREATS, method="apgd", n_iter=5, batch_size=24)
        row = frame[frame.alpha == alpha].iloc[0]
        assert row["clean"] == pytest.approx(100 * report.clean_accuracy)
        assert row["union"] == pytest.approx(100 * report.union_accuracy)
    assert (frame["union"] <= frame[["Linf", "L1"]].min(axis=1) + 1e-9).all()

    recomputed = soup_path(model(2), a.state_dict(), b.state_dict(), x, y, THREATS, alphas=(0.5,), n_iter=5,
                           batch_size=24, batchnorm="recompute", batchnorm_data=torch.rand(32, 1, 8, 8))
    assert recomputed["batchnorm"].tolist() == ["recompute"]
    with pytest.raises(ValueError, match="needs batchnorm_data"):
        soup_path(model(2), a.state_dict(), b.state_dict(), x, y, THREATS, batchnorm="recompute")
    with pytest.raises(ValueError, match="batchnorm must be one of"):
        soup_path(model(2), a.state_dict(), b.state_dict(), x, y, THREATS, batchnorm="keep")
