"""``python -m lpgeom reproduce``: run (or resume) the recorded study for a profile."""
from __future__ import annotations

import argparse
import os
import pathlib
import sys

DEFAULT_RUNS_DIR = "runs"


def add_parser(subparsers) -> argparse.ArgumentParser:
    from ..experiments import GROUPS
    from ..profiles import PROFILES

    p = subparsers.add_parser("reproduce", help="reproduce the paper's experiments at a profile's scale",
                              description="Train and evaluate every unit the chosen tables need; finished units are "
                                          "skipped, interrupted ones resume. Results land in RESULTS_DIR/<profile>/ "
                                          "with their provenance (never inside the installed package).")
    p.add_argument("--profile", choices=PROFILES, help="default: $LPGEOM_PROFILE or smoke")
    p.add_argument("--only", help=f"comma-separated groups from {', '.join(GROUPS)} (default: all)")
    p.add_argument("--units", help="comma-separated unit names of the chosen groups' plan (default: all; see --plan), "
                                   "so that several processes can share a group")
    p.add_argument("--results-dir", help="default: $LPGEOM_RESULTS_DIR, else $LPGEOM_RECORDS_DIR/results, else the "
                                          "data/results of the lpgeom checkout you are in, else ./lpgeom-data/results")
    p.add_argument("--runs-dir", help=f"checkpoints and metrics of the training runs (default: {DEFAULT_RUNS_DIR})")
    p.add_argument("--plan", action=argparse.BooleanOptionalAction,
                   help="print the units (and a time estimate) without running")
    p.set_defaults(run=run)
    return p


def selected_groups(only: str | None) -> list[str]:
    """The groups ``--only`` names (all without it).

    Raises
    ------
    ValueError
        Naming the unknown groups and the known ones.
    """
    from ..experiments import GROUPS

    if only is None:
        return list(GROUPS)
    groups = [g.strip() for g in only.split(",") if g.strip()]
    unknown = [g for g in groups if g not in GROUPS]
    if unknown or not groups:
        raise ValueError(f"--only {only!r}: unknown group(s) {', '.join(unknown) or '(none given)'}; "
                         f"choose from {', '.join(GROUPS)}")
    return groups


def check_folder(flag: str, path: str | pathlib.Path) -> None:
    """Refuse a folder option that names a file, lies under a file, or cannot be written (before any training).

    Raises
    ------
    ValueError
        Naming the flag, the path and what is wrong with it.
    """
    if not str(path).strip():
        raise ValueError(f"{flag} {str(path)!r} is empty; give a folder")
    path = pathlib.Path(path)
    existing = next((p for p in (path, *path.parents) if p.exists()), pathlib.Path("."))
    if not existing.is_dir():
        where = "is a file" if existing == path else f"lies under the file {existing}"
        raise ValueError(f"{flag} {path} {where}; give a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{flag} {path}: {existing} cannot be written; give a writable folder")


def run(args: argparse.Namespace) -> int:
    from ..experiments import plan, run_study, study_size
    from .options import command_line

    groups = selected_groups(args.only)
    size = study_size(args.profile)
    units = None if args.units is None else [u.strip() for u in args.units.split(",") if u.strip()]
    if args.plan:
        planned_by_group = plan(size, groups)
        chosen = None
        if units is not None:  # chosen (or refused) as the run chooses them
            from ..experiments.study import select_units

            chosen = {u.name for u in select_units([u for us in planned_by_group.values() for u in us], units, groups)}
        for group, planned in planned_by_group.items():
            names = [u.name for u in planned if chosen is None or u.name in chosen]
            if names:
                print(f"{group}: " + ", ".join(names))
        return 0
    for flag, folder in (("--results-dir", args.results_dir), ("--runs-dir", args.runs_dir)):
        if folder is not None:
            check_folder(flag, folder)
    print(f"profile {size.name}: {size.dataset}, {size.arch}, n_train {size.n_train}, {size.epochs} epochs, "
          f"eval {size.eval_method} on {size.n_eval} points")
    from ..experiments.study import UnitsSkipped
    from ..utils.locations import results_dir

    results = results_dir(args.results_dir)
    print(f"records go to {results}")
    try:
        run_study(size.name, groups, results, args.runs_dir or DEFAULT_RUNS_DIR,
                  command=command_line(), units=units)
    except UnitsSkipped as err:  # the others ran; say which did not, and fail
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0
