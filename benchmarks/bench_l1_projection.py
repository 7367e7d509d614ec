"""Speed of lpgeom's exact l_1-box projection vs pyautoattack's L1_projection, measured in one run.

Target (issue): at least 3x faster at batch 128 x 3072 (CIFAR-10) and 32 x 150528 (ImageNet),
with the same result. Prints the ratio and the largest difference of the projected points.
"""
from __future__ import annotations

import torch
from _timing import median_seconds
from pyautoattack.autopgd_base import L1_projection

from lpgeom.threats import project_l1_box


def main() -> None:
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(f"{'size':>14} {'lpgeom':>10} {'pyautoattack':>13} {'speed-up':>9} {'max |diff|':>11}")
    for batch, d, eps in [(128, 3072, 12.0), (32, 150528, 255.0)]:
        x = torch.rand(batch, d)
        v = x + 0.05 * torch.randn(batch, d)
        ours = project_l1_box(v, x, eps)
        ref = v + L1_projection(x, v - x, eps)
        repeats = 25 if d < 10_000 else 7  # the small size takes milliseconds: more repeats against noise
        t_ours = median_seconds(lambda: project_l1_box(v, x, eps), repeats)
        t_ref = median_seconds(lambda: L1_projection(x, v - x, eps), repeats)
        print(f"{batch:>5} x {d:<7} {t_ours * 1e3:>8.1f}ms {t_ref * 1e3:>11.1f}ms {t_ref / t_ours:>8.2f}x "
              f"{(ours - ref).abs().max().item():>11.2e}")


if __name__ == "__main__":
    main()
