"""How much a recorded evaluation's cheaper AutoAttack settings change its numbers.

The ``cpu`` study evaluates with 3 target classes for APGD-T instead of AutoAttack's
standard 9 (l_inf, l_2) and 5 (l_1), to fit 2 cores. A stronger attack can only break
more points, so the check attacks again, with the standard settings (and another seed),
exactly the points the recorded evaluation left robust (per norm). The points it breaks
are what the cheaper setting missed; robust accuracy under the worst case of the two
evaluations is at most what either gives alone.
"""
from __future__ import annotations

import json
import pathlib

import torch

from ..utils import atomic_write_json, pack_flags, unpack_flags
from .paper_tables import RESULTS_DIR
from .profiles import study_size
from .provenance import provenance, record_revision, start_clock
from .study import load_result, new_model, revision_folder, study_data, study_threats, unit_from_name, weights_digest

__all__ = ["reattack_robust_points", "reattack_frame", "full_autoattack_frame", "full_autoattack_checks", "CHECKS_DIR",
           "FULL_AUTOATTACK_DIR"]

CHECKS_DIR = RESULTS_DIR.parent / "checks"
# the full standard AutoAttack on the cpu study's Table 1 models (scripts/full_autoattack_check.py)
FULL_AUTOATTACK_DIR = CHECKS_DIR / "standard_autoattack"
THREATS_AND_UNION = ("Linf", "L2", "L1", "union")


def _shown_path(folder: pathlib.Path) -> pathlib.Path:
    """``folder`` relative to the data folder's parent where it lies under it (no absolute paths on pages)."""
    from ..utils.locations import records_dir

    root = records_dir().resolve().parent
    return folder.resolve().relative_to(root) if folder.resolve().is_relative_to(root) else folder


def _load_unit_model(size, unit, runs_dir: pathlib.Path, record: dict) -> torch.nn.Module:
    from ..models import load_weights, read_state_dict

    recorded_digest = record.get("model_sha256")
    path = runs_dir / revision_folder(size.name, record_revision(record)) / unit.name / "model.pt"
    if not path.is_file():
        raise FileNotFoundError(f"no trained weights at {path}: run python -m lpgeom reproduce --profile {size.name} "
                                f"(it retrains lost starting models) or train {unit.name} first")
    model = new_model(size)
    load_weights(model, read_state_dict(path), source=str(path))
    if recorded_digest is not None and weights_digest(model) != recorded_digest:
        raise ValueError(f"{path} holds other weights than the recorded evaluation of {unit.name} (weights digest differs)")
    return model.eval()


def reattack_robust_points(unit_name: str, profile: str = "cpu", n_target_classes: int | None = None,
                           n_iter: int | None = None, results_dir: str | pathlib.Path = RESULTS_DIR,
                           runs_dir: str | pathlib.Path = "runs", out_dir: str | pathlib.Path | None = CHECKS_DIR) -> dict:
    """Attack a recorded unit's robust points again with (by default) AutoAttack's standard target classes.

    Parameters
    ----------
    unit_name : str
        A recorded unit, e.g. ``"eat_e5_s0"``; its weights must be in ``runs_dir``.
    profile : str
    n_target_classes : int, optional
        Target classes for the re-attack; ``None`` = AutoAttack's standard (9, and 5 for l_1).
    n_iter : int, optional
        Iterations of the re-attack; ``None`` = those of the recorded evaluation.
    results_dir, runs_dir : path-like
    out_dir : path-like or None
        Where the check is written as ``<profile>_<unit>.json`` (``None``: not written).

    Returns
    -------
    dict
        ``recorded`` and ``worst_case`` robust accuracy (in [0, 1]) per norm and for the union,
        the number of points each norm's re-attack broke, the settings of both evaluations,
        per-point flags of the worst case, and provenance.

    Raises
    ------
    FileNotFoundError
        If the unit has no recorded result or no weights.
    ValueError
        If the weights are not the ones the recorded evaluation used.
    """
    from ..evaluation import evaluate_robustness

    started = start_clock()
    size = study_size(profile)
    unit = unit_from_name(unit_name)
    record = load_result(results_dir, size.name, unit)
    if record is None:
        raise FileNotFoundError(f"no recorded result for {unit_name} in {pathlib.Path(results_dir) / size.name}")
    model = _load_unit_model(size, unit, pathlib.Path(runs_dir), record)
    _, (test_x, test_y) = study_data(size)
    report = record["report"]
    n_iter = report["n_iter"] if n_iter is None else n_iter
    flags = unpack_flags(report["per_point"])
    if len(flags["clean"]) != len(test_x):
        raise ValueError(f"the record has {len(flags['clean'])} points, the profile's test set {len(test_x)}")
    worst, broken = {"clean": flags["clean"]}, {}
    for ball in study_threats(size):
        robust = flags[ball.name]
        still = robust.clone()
        if robust.any():
            again = evaluate_robustness(model, test_x[robust], test_y[robust], [ball], method="autoattack",
                                        n_iter=n_iter, batch_size=size.eval_batch_size, seed=1,
                                        n_target_classes=n_target_classes, name=unit_name)
            still[robust] = again.per_point[ball.name]
        worst[ball.name], broken[ball.name] = still, int((robust & ~still).sum())
    norms = [k for k in worst if k != "clean"]
    worst["union"] = torch.stack([worst[k] for k in norms]).all(0) & worst["clean"]
    out = {"unit": unit_name, "profile": size.name, "n_points": len(test_x),
           "recorded_settings": {"method": report["method"], "n_iter": report["n_iter"],
                                 "n_target_classes": report.get("n_target_classes")},
           "reattack_settings": {"method": "autoattack", "n_iter": n_iter, "n_target_classes": n_target_classes,
                                 "seed": 1},
           "recorded": {**report["robust_accuracy"], "union": report["union_accuracy"]},
           "worst_case": {k: float(worst[k].float().mean()) for k in [*norms, "union"]},
           "broken_by_reattack": broken, "per_point": pack_flags(worst),
           "provenance": provenance(size.name, 1, started,
                                    command=f"python scripts/reattack_robust_points.py {unit_name} --profile {size.name}")}
    if out_dir is not None:
        from ..utils.locations import check_outside_package

        check_outside_package(out_dir, "out_dir")
        path = pathlib.Path(out_dir) / f"{size.name}_{unit_name}.json"
        atomic_write_json(path, out, indent=1, root=out_dir)
    return out


def reattack_frame(profile: str = "cpu", checks_dir: str | pathlib.Path = CHECKS_DIR):
    """The recorded re-attacks of a profile as a table (percent): recorded vs worst case, per norm and union.

    Returns
    -------
    pandas.DataFrame
        One row per unit and threat model (``Linf``, ``L2``, ``L1``, ``union``) with columns
        ``recorded``, ``worst_case``, ``difference`` and ``broken`` (points the re-attack
        broke; for the union, points robust before and not after); ``attrs["source"]`` says
        how the checks were run and ``attrs["provenance"]`` by which commands.

    Raises
    ------
    FileNotFoundError
        If no check is recorded for the profile.
    """
    import pandas as pd

    paths = sorted(pathlib.Path(checks_dir).glob(f"{profile}_*.json"))
    if not paths:
        raise FileNotFoundError(f"no re-attack recorded for profile {profile} in {checks_dir}; "
                                f"run python scripts/reattack_robust_points.py <unit> --profile {profile}")
    rows, checks = [], [json.loads(p.read_text()) for p in paths]
    for check in checks:
        for norm, worst in check["worst_case"].items():
            recorded = check["recorded"][norm]
            broken = check["broken_by_reattack"].get(norm, round((recorded - worst) * check["n_points"]))
            rows.append({"unit": check["unit"], "threat": norm, "recorded": 100 * recorded, "worst_case": 100 * worst,
                         "difference": 100 * (worst - recorded), "broken": broken})
    frame = pd.DataFrame(rows).set_index(["unit", "threat"])
    first = checks[0]
    frame.attrs["source"] = (f"profile {profile}, {first['n_points']} test points; recorded: {first['recorded_settings']}; "
                             f"re-attack: {first['reattack_settings']} (None = AutoAttack's standard)")
    frame.attrs["provenance"] = "; ".join(sorted({f"`{c['provenance']['command']}` at {c['provenance']['commit'][:10]}"
                                                   for c in checks}))
    return frame


def _revision_folder(checks_dir: str | pathlib.Path, revision: int) -> pathlib.Path:
    """Where the checks of records of a code revision live: the folder itself for 1, ``r<revision>/`` below it after."""
    folder = pathlib.Path(checks_dir)
    return folder if revision == 1 else folder / f"r{revision}"


def full_autoattack_checks(profile: str = "cpu", checks_dir: str | pathlib.Path = FULL_AUTOATTACK_DIR,
                           revision: int = 1) -> dict[str, dict]:
    """The finished full-AutoAttack checks of a profile's records of one code revision, ``{unit name: check}``.

    Checks of revision-1 records are ``<checks_dir>/<profile>_<unit>.json``, of later revisions
    ``<checks_dir>/r<revision>/<profile>_<unit>.json`` (as the study keeps its records). Models
    that were not evaluated (``.diverged.json``) are left out; a missing folder gives ``{}``.
    """
    if isinstance(revision, bool) or not isinstance(revision, int) or revision < 1:
        raise ValueError(f"revision must be a code revision (an integer >= 1), got {revision!r}")
    folder = _revision_folder(checks_dir, revision)
    paths = sorted(p for p in folder.glob(f"{profile}_*.json") if not p.name.endswith(".diverged.json"))
    checks = [json.loads(p.read_text()) for p in paths]
    return {c["unit"]: c for c in checks}


def _checked_revisions(checks_dir: pathlib.Path, profile: str) -> list[int]:
    """The code revisions with at least one check (finished or diverged) in ``checks_dir``."""
    found = [1] if any(checks_dir.glob(f"{profile}_*.json")) else []
    for sub in sorted(checks_dir.glob("r*")):
        if sub.is_dir() and sub.name[1:].isdigit() and any(sub.glob(f"{profile}_*.json")):
            found.append(int(sub.name[1:]))
    return sorted(found)


def full_autoattack_frame(profile: str = "cpu", checks_dir: str | pathlib.Path = FULL_AUTOATTACK_DIR,
                          missing_ok: bool = False, revision: int | None = None):
    """Per Table 1 model, the recorded two-APGD figures next to those with the full standard AutoAttack (percent).

    Reads the checks of ``scripts/full_autoattack_check.py``: each model was verified against
    its record (revision 1: trained again at the recording commit, every logged training value
    and clean prediction equal; revision 2: the study's own weights, digest and clean
    predictions equal), and attacked with ``evaluate_robustness(method="autoattack-standard")``
    (APGD-CE, APGD-T, FAB-T, Square) on the points the recorded evaluation left robust; a
    point is robust under the full evaluation if both leave it robust, so the full figure is
    never above the recorded one. The script checks the records of ``data/results/<profile>/``
    (code revision 1: the models are trained again at the recording commit) and
    ``data/results/<profile>/r2/`` (revision 2: the study's own weights, verified by their
    digest and clean predictions).

    Parameters
    ----------
    profile : str
    checks_dir : path-like
    missing_ok : bool
        If no check is recorded, return an empty frame whose ``attrs["source"]`` says so
        instead of raising.
    revision : int, optional
        Only the checks of records of this code revision; None: every revision checked (rows
        then name their revision when more than one is shown).

    Returns
    -------
    pandas.DataFrame
        One row per checked model (index: the scheme's label as it ran, with its seed, and its
        code revision if several are shown), columns a
        MultiIndex (threat in ``Linf, L2, L1, union``; ``"two APGDs"`` = the recorded evaluation,
        ``"full AutoAttack"``, ``"broken"`` = points only the full attack broke).
        ``attrs["source"]`` says what was compared and how many models are checked,
        ``attrs["code_revisions"]`` the revisions shown,
        ``attrs["diverged"]`` lists models not evaluated because the retrained model did not
        match its record (with the reason), ``attrs["provenance"]`` the commands and commits.

    Raises
    ------
    FileNotFoundError
        If no check is recorded for the profile (and ``missing_ok`` is false).
    """
    import pandas as pd

    from .tables import unit_label

    folder = pathlib.Path(checks_dir)
    revisions = _checked_revisions(folder, profile) if revision is None else [revision]
    done = [c for r in revisions for c in full_autoattack_checks(profile, folder, r).values()]
    diverged = [json.loads(p.read_text()) for r in revisions
                for p in sorted(_revision_folder(folder, r).glob(f"{profile}_*.diverged.json"))]
    if not done and not diverged:
        where = _shown_path(folder)
        message = (f"no full-AutoAttack check recorded for profile {profile} in {where}; "
                   f"run python scripts/full_autoattack_check.py run")
        if not missing_ok:
            raise FileNotFoundError(message)
        frame = pd.DataFrame()
        frame.attrs.update(source=message, diverged={}, provenance="", code_revisions=[])
        return frame
    shown = sorted({int(c.get("code_revision", 1)) for c in done})
    rows = {}
    for check in done:
        unit, rev = unit_from_name(check["unit"]), int(check.get("code_revision", 1))
        row = {}
        for threat in THREATS_AND_UNION:
            row[(threat, "two APGDs")] = 100 * check["recorded"][threat]
            row[(threat, "full AutoAttack")] = 100 * check["worst_case"][threat]
            broken = check["broken_by_standard"].get(threat)
            if broken is None:  # the union: points robust before and not after
                broken = round((check["recorded"][threat] - check["worst_case"][threat]) * check["n_points"])
            row[(threat, "broken")] = broken
        which = f"seed {unit.seed}" if len(shown) == 1 else f"seed {unit.seed}, code revision {rev}"
        rows[f"{unit_label(unit, rev)} ({which})"] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    if len(frame):
        frame.columns = pd.MultiIndex.from_tuples(frame.columns, names=["threat", "evaluation"])
    settings = done[0]["recorded_settings"] if done else {}
    frame.attrs["source"] = (f"profile {profile}, {len(done)} models checked on their {done[0]['n_points'] if done else '?'} "
                             f"test points; two APGDs: the recorded {settings.get('method')} evaluation "
                             f"({settings.get('n_iter')} iterations, {settings.get('n_target_classes')} target classes); "
                             f"full: + the standard AutoAttack (APGD-CE, APGD-T, FAB-T, Square) on the points it left robust")
    frame.attrs["diverged"] = {d["unit"] if len(revisions) == 1 else f"{d['unit']} (code revision "
                               f"{d.get('code_revision', 1)})": d["problems"] for d in diverged}
    frame.attrs["code_revisions"] = shown
    frame.attrs["provenance"] = "; ".join(sorted({f"`{c['provenance']['command']}` at {str(c['provenance']['commit'])[:10]}"
                                                   for c in done}))
    return frame
