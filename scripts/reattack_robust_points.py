"""Attack a recorded unit's robust points again with AutoAttack's standard target classes.

Usage: .venv/bin/python scripts/reattack_robust_points.py UNIT [UNIT ...] [--profile cpu] [--target-classes N]

Writes data/checks/<profile>_<unit>.json (see lpgeom.experiments.attack_strength).
"""
from __future__ import annotations

import argparse

from lpgeom.experiments.attack_strength import reattack_robust_points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("units", nargs="+", help="recorded unit names, e.g. eat_e5_s0")
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--target-classes", type=int, default=None, help="default: AutoAttack's standard (9; 5 for l_1)")
    args = parser.parse_args()
    for unit in args.units:
        out = reattack_robust_points(unit, args.profile, args.target_classes)
        rec, worst = out["recorded"], out["worst_case"]
        print(f"{unit}: " + ", ".join(f"{k} {100 * rec[k]:.1f} -> {100 * worst[k]:.1f}" for k in worst)
              + f" (points broken by the re-attack: {out['broken_by_reattack']})")


if __name__ == "__main__":
    main()
