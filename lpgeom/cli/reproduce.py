"""``python -m lpgeom reproduce``: run (or resume) the recorded study for a profile."""
from __future__ import annotations

import argparse


def add_parser(subparsers) -> argparse.ArgumentParser:
    from ..experiments import GROUPS

    p = subparsers.add_parser("reproduce", help="reproduce the paper's experiments at a profile's scale",
                              description="Train and evaluate every unit the chosen tables need; finished units are "
                                          "skipped, interrupted ones resume. Results land in RESULTS_DIR/<profile>/ "
                                          "with their provenance.")
    p.add_argument("--profile", choices=("smoke", "cpu", "full"), help="default: $LPGEOM_PROFILE or smoke")
    p.add_argument("--only", help=f"comma-separated groups from {', '.join(GROUPS)} (default: all)")
    p.add_argument("--results-dir", help="default: the repository's data/results")
    p.add_argument("--runs-dir", default="runs", help="checkpoints and metrics of the training runs")
    p.add_argument("--plan", action="store_true", help="print the units (and a time estimate) without running")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    from ..experiments import GROUPS, plan, run_study, study_size
    from ._common import command_line

    groups = [g.strip() for g in args.only.split(",")] if args.only else list(GROUPS)
    size = study_size(args.profile)
    if args.plan:
        for group, units in plan(size, groups).items():
            print(f"{group}: " + ", ".join(u.name for u in units))
        return 0
    print(f"profile {size.name}: {size.dataset}, {size.arch}, n_train {size.n_train}, {size.epochs} epochs, "
          f"eval {size.eval_method} on {size.n_eval} points")
    from ..experiments.paper_tables import RESULTS_DIR

    run_study(size.name, groups, args.results_dir or RESULTS_DIR, args.runs_dir, command=command_line())
    return 0
