"""``python -m lpgeom radii``: union and hull radii for several p, with the numerical check."""
from __future__ import annotations

import argparse
import json
import math

from ..datasets import DATASETS
from .options import positive_int, positive_radius

# each registered dataset's preset radii and input dimension (lpgeom.datasets)
PRESETS = {spec.name: {"eps1": spec.radius(1.0), "eps_inf": spec.radius(math.inf), "d": spec.dim,
                       "eps2": spec.radius(2.0)} for spec in DATASETS.values()}
DEFAULT_PS = ("1", "1.5", "2", "3", "4", "inf")


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "radii",
        help="radii of the largest l_p balls inside the union and the convex hull of B_1 and B_inf",
        description=(
            "Print, for several p, the radius of the largest l_p ball inside the union of B_1(eps1) and "
            "B_inf(eps_inf) (Proposition 3.1), inside their convex hull (Theorem 3.1), and the gap to an "
            "independent numerical computation."
        ),
    )
    parser.add_argument("--preset", choices=sorted(PRESETS), help="a dataset's preset radii and dimension (the paper's for "
                        "cifar10 and imagenet)")
    parser.add_argument("--eps1", type=positive_radius, help="radius of the l_1 ball (e.g. 12)")
    parser.add_argument("--eps-inf", type=positive_radius, help="radius of the l_inf ball; fractions accepted (e.g. 8/255)")
    parser.add_argument("--d", type=positive_int, help="input dimension (CIFAR-10: 3072, ImageNet: 150528)")
    parser.add_argument("--p", nargs="+", default=list(DEFAULT_PS), metavar="P",
                        help="norms to report, numbers >= 1 or 'inf' (default: %(default)s)")
    parser.add_argument("--json", action=argparse.BooleanOptionalAction, help="print JSON instead of a table")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from lpgeom.geometry import verify_radius

    setting = dict(PRESETS[args.preset]) if args.preset else {}
    for key in ("eps1", "eps_inf", "d"):
        value = getattr(args, key)
        if value is not None:
            setting[key] = value
        elif key not in setting:
            flag = "--" + key.replace("_", "-")
            raise ValueError(f"missing {flag}: give --eps1, --eps-inf and --d, or a --preset")
    reports = [verify_radius(setting["eps1"], setting["eps_inf"], p, setting["d"]) for p in args.p]
    if args.json:
        print(json.dumps([_json_safe(r.to_dict()) for r in reports], indent=2, default=float, allow_nan=False))
        return 0 if all(r.passed for r in reports) else 1
    print(f"eps1 = {setting['eps1']:g}, eps_inf = {setting['eps_inf']:.6g}, d = {setting['d']}")
    print(f"{'p':>6} {'union (Prop 3.1)':>17} {'hull (Thm 3.1)':>15} {'hull/union':>10} {'max rel. gap':>13}  check")
    for r in reports:
        p = "inf" if math.isinf(r.p) else f"{r.p:g}"
        gap = max(r.union_gap, r.hull_gap)
        print(f"{p:>6} {_radius(r.union_closed):>17} {_radius(r.hull_closed):>15} {r.hull_closed / r.union_closed:10.3f} "
              f"{gap:13.1e}  {'ok' if r.passed else 'FAILED'}")
    if "eps2" in setting:
        l2 = next((r for r in reports if r.p == 2), None)
        if l2 is not None:
            covered = "inside" if setting["eps2"] <= l2.hull_closed else "NOT inside"
            print(f"the paper's l_2 radius {setting['eps2']:g} is {covered} the hull's inscribed l_2 ball "
                  f"({l2.hull_closed:.4f}); the union's is only {l2.union_closed:.4f}")
    return 0 if all(r.passed for r in reports) else 1


def _radius(value: float) -> str:
    """Six decimals for radii of ordinary size; scientific notation for very large or small ones (1e308, 1e-300)."""
    return f"{value:.6f}" if 1e-4 <= abs(value) < 1e9 else f"{value:.6e}"


def _json_safe(row: dict) -> dict:
    """Infinite and NaN numbers as the strings "inf", "-inf", "nan": JSON has no Infinity (strict parsers refuse it)."""
    return {k: (str(v) if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
