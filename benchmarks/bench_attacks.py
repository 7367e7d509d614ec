"""lpgeom's APGD vs pyautoattack's APGD on a real CIFAR-10 ResNet-18 and the 20 real test images.

Same budget (iterations, one restart, random start, CE loss) per norm, at the paper's radii
and at smaller radii where the standard (non-robust) model is not already at 0%. Prints
robust accuracy and time of each, and the overhead of an attack step beyond the model's
forward + backward pass (target: < 5%).
"""
from __future__ import annotations

import time

import torch
from _timing import median_seconds
from pyautoattack.autopgd_base import APGDAttack

from lpgeom.attacks import APGD
from lpgeom.attacks.model_mode import loss_and_grad
from lpgeom.attacks.losses import cross_entropy
from lpgeom.data import sample_images
from lpgeom.models import load_pretrained
from lpgeom.threats import LpBall

N_ITER = 20


def robust(model, x, y) -> float:
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def main() -> None:
    torch.manual_seed(0)
    model = load_pretrained("cifar10_resnet18_standard")
    x, y = sample_images("cifar10")
    print(f"CIFAR-10 ResNet-18 (standard), 20 real test images, clean accuracy {robust(model, x, y):.2f}; "
          f"{N_ITER} iterations, 1 restart, CE loss, random start")
    print(f"{'threat':>16} {'lpgeom acc':>11} {'time':>7} {'autoattack acc':>15} {'time':>7}")
    for ball in [LpBall("inf", 8 / 255), LpBall("inf", 0.5 / 255), LpBall(2, 0.5), LpBall(2, 0.05),
                 LpBall(1, 12.0), LpBall(1, 1.0)]:
        t = time.perf_counter()
        ours = APGD(ball, n_iter=N_ITER, random_start=True, seed=0)(model, x, y)
        t_ours = time.perf_counter() - t
        ref = APGDAttack(model, n_iter=N_ITER, norm=ball.autoattack_norm, eps=ball.eps, n_restarts=1, seed=0,
                         loss="ce", device="cpu")
        t = time.perf_counter()
        x_ref = ref.perturb(x.contiguous(), y)
        t_ref = time.perf_counter() - t
        print(f"{ball!r:>16} {robust(model, ours.stats['x_fooling'], y):>11.2f} {t_ours:>6.1f}s "
              f"{robust(model, x_ref, y):>15.2f} {t_ref:>6.1f}s")

    print("\noverhead of one attack step beyond forward + backward (batch 20):")
    fwd_bwd = median_seconds(lambda: loss_and_grad(model, x, y, cross_entropy, None), repeats=10)
    for ball in [LpBall("inf", 8 / 255), LpBall(2, 0.5), LpBall(1, 12.0)]:
        g = torch.randn_like(x)
        step = (lambda b: (lambda: b.project(x + 0.01 * b.steepest_ascent(g), x)))(ball)
        extra = median_seconds(step, repeats=20)
        print(f"  {ball.name:>5}: forward+backward {fwd_bwd * 1e3:.1f} ms, step+projection {extra * 1e3:.2f} ms "
              f"-> overhead {100 * extra / fwd_bwd:.1f}%")


if __name__ == "__main__":
    main()
