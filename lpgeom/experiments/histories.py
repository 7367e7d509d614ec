"""Training histories of recorded units as tidy tables: MAX's and MSD's per-norm shares, calibrated E-AT's sampling.

A record's ``history`` keeps every logged training step (every 10 steps): E-AT's
``p_<norm>`` and running ``rerr_<norm>``, MAX's and MSD's ``share_<norm>`` (the paper's
Figure 3) and calibrated E-AT's ``calibrated_rerr_<norm>`` (issue 12). The last two are
recorded from code revision 2 on.
"""
from __future__ import annotations

import math
import pathlib
from collections.abc import Sequence

from .paper_tables import RESULTS_DIR
from .profiles import study_size
from .provenance import CODE_REVISIONS
from .study import load_result, unit_from_name
from .seeds import compare_schemes, seed_summary
from .tables import GROUP_SINCE, SCHEME_LABELS, _results_folder, group_revision, planned_units, results_frame, unit_label

__all__ = ["norm_shares_frame", "calibrated_histories", "calibrated_frame", "calibrated_comparisons", "NORMS"]

NORMS = ("Linf", "L2", "L1")


def _start(unit) -> str:
    return "from scratch" if unit.init is None else f"fine-tuned from {unit_label(unit_from_name(unit.init))}"


def norm_shares_frame(profile: str | None = None, results_dir: str | pathlib.Path = RESULTS_DIR,
                      schemes: Sequence[str] = ("max", "msd")):
    """Per epoch, the share of each norm in MAX's and MSD's training (the paper's Figure 3), from Table 1 records.

    For MAX, the share of the batch whose worst-case norm (highest loss) was that norm; for
    MSD, the share of (example, iteration) pairs where it kept that norm's step. Logged steps
    are averaged per epoch. Records of the newest code revision that has any are used.

    Parameters
    ----------
    profile : str, optional
    results_dir : path-like
    schemes : sequence of str
        Table 1 schemes to read.

    Returns
    -------
    pandas.DataFrame
        Long format: ``model``, ``unit``, ``seed``, ``epoch`` (from 1), ``norm`` (``Linf``,
        ``L2``, ``L1``), ``share`` (in [0, 1]). Empty when no record has shares;
        ``attrs["code_revision"]`` and ``attrs["source"]`` say which records were read, or
        why there are none.
    """
    import pandas as pd

    results_dir = _results_folder(results_dir)
    size = study_size(profile)
    rows, found = [], None
    for revision in sorted(CODE_REVISIONS, reverse=True):
        units = [u for u in planned_units("table1", size.name, revision) if u.scheme in schemes]
        for unit in units:
            record = load_result(results_dir, size.name, unit, revision)
            steps = [s for s in (record or {}).get("history", []) if any(k.startswith("share_") for k in s)]
            per_epoch: dict[tuple[int, str], list[float]] = {}
            for step in steps:
                for norm in NORMS:
                    value = step.get(f"share_{norm}")
                    if value is not None and not math.isnan(value):
                        per_epoch.setdefault((int(step["epoch"]) + 1, norm), []).append(value)
            rows += [{"model": unit_label(unit, revision), "unit": unit.name, "seed": unit.seed, "epoch": epoch,
                      "norm": norm, "share": sum(v) / len(v)} for (epoch, norm), v in sorted(per_epoch.items())]
        if rows:
            found = revision
            break
    frame = pd.DataFrame(rows, columns=["model", "unit", "seed", "epoch", "norm", "share"])
    frame.attrs["code_revision"] = found
    names = " and ".join(SCHEME_LABELS.get(s, s) for s in schemes)
    frame.attrs["source"] = (
        f"{names}: per-norm shares of {frame.unit.nunique()} recorded run{'s' * (frame.unit.nunique() != 1)}, "
        f"profile {size.name}, code revision {found}, "
        f"mean over the logged steps of each epoch" if rows else
        f"not recorded yet: no {names} record of profile {size.name} has per-norm shares (records keep them from "
        f"code revision 2 on; {len(_recorded_at(size.name, results_dir, schemes))} of "
        f"{len([u for u in planned_units('table1', size.name) if u.scheme in schemes])} such runs recorded at "
        f"revision {max(CODE_REVISIONS)})")
    return frame


def _recorded_at(profile: str, results_dir, schemes: Sequence[str], revision: int = max(CODE_REVISIONS)) -> list:
    return [u for u in planned_units("table1", profile, revision)
            if u.scheme in schemes and load_result(results_dir, profile, u, revision) is not None]


def calibrated_histories(profile: str | None = None, results_dir: str | pathlib.Path = RESULTS_DIR,
                         revision: int | None = None):
    """E-AT's and calibrated E-AT's l_1 sampling over training, from the ``calibrated`` group's records.

    Parameters
    ----------
    profile : str, optional
    results_dir : path-like
    revision : int, optional
        The code revision (None: the newest with a recorded unit of the group).

    Returns
    -------
    pandas.DataFrame
        Long format, one row per logged step of every recorded run: ``model``, ``scheme``,
        ``start`` (``"from scratch"`` or ``"fine-tuned from l_inf-AT"``), ``unit``, ``seed``,
        ``global_step``, ``p_L1`` (probability of drawing l_1), ``rerr_L1`` (running robust
        error of the training attack) and ``calibrated_rerr_L1`` (the stronger attack's
        measurement; NaN for plain E-AT and before the first measurement). ``attrs``:
        ``code_revision``, ``coverage`` (recorded, planned runs) and ``source``.
    """
    import pandas as pd

    results_dir = _results_folder(results_dir)
    size = study_size(profile)
    revision = group_revision("calibrated", size.name, results_dir) if revision is None else revision
    units = [u for u in planned_units("calibrated", size.name, revision or max(CODE_REVISIONS))
             if u.scheme in ("eat", "eat-calibrated")]
    rows, recorded = [], 0
    for unit in units if revision is not None else []:
        record = load_result(results_dir, size.name, unit, revision)
        if record is None:
            continue
        recorded += 1
        for step in record.get("history", []):
            if "p_L1" not in step:
                continue
            calibrated = step.get("calibrated_rerr_L1")
            rows.append({"model": unit_label(unit, revision), "scheme": unit.scheme, "start": _start(unit),
                         "unit": unit.name, "seed": unit.seed, "global_step": step["global_step"], "p_L1": step["p_L1"],
                         "rerr_L1": step.get("rerr_L1"), "calibrated_rerr_L1": math.nan if calibrated is None else calibrated})
    columns = ["model", "scheme", "start", "unit", "seed", "global_step", "p_L1", "rerr_L1", "calibrated_rerr_L1"]
    frame = pd.DataFrame(rows, columns=columns)
    frame.attrs.update(code_revision=revision, coverage=(recorded, len(units)),
                       source=f"E-AT vs calibrated E-AT, profile {size.name}, code revision {revision}: "
                              f"{recorded} of {len(units)} runs recorded" if revision is not None else
                              f"E-AT vs calibrated E-AT, profile {size.name}: no run recorded yet (0 of {len(units)}; "
                              f"the experiment is planned from code revision {GROUP_SINCE['calibrated']} on)")
    return frame


def calibrated_frame(profile: str | None = None, results_dir: str | pathlib.Path = RESULTS_DIR,
                     revision: int | None = None, checks_dir: str | pathlib.Path | None = None):
    """The calibrated-sampling experiment's results: per model, robust accuracies as mean ± std over seeds.

    Parameters
    ----------
    profile, results_dir, checks_dir
        As :func:`~lpgeom.experiments.results_frame`.
    revision : int, optional
        None: the newest code revision with a recorded unit of the ``calibrated`` group,
        complete or not (``attrs["coverage"]`` says how much is recorded).

    Returns
    -------
    pandas.DataFrame
        :func:`~lpgeom.experiments.seed_summary` rows (index ``model``) with two more columns,
        ``start`` (``"from scratch"``, ``"fine-tuned from l_inf-AT"``, or ``"starting model"``
        for l_inf-AT itself) and ``scheme``; ``attrs`` of the results frame.
    """
    size = study_size(profile)
    revision = group_revision("calibrated", size.name, results_dir) if revision is None else revision
    frame = results_frame("calibrated", size.name, results_dir, revision or max(CODE_REVISIONS), checks_dir)
    summary = seed_summary(frame)
    if len(frame):
        units = {m: unit_from_name(u) for m, u in zip(frame.model, frame.unit)}
        calibrated = {"eat", "eat-calibrated"}
        summary["start"] = [_start(units[m]) if units[m].scheme in calibrated else "starting model" for m in summary.index]
        summary["scheme"] = [units[m].scheme for m in summary.index]
    return summary


def calibrated_comparisons(summary, metric: str = "union") -> list[str]:
    """Per start (from scratch, fine-tuned from l_inf-AT), calibrated E-AT against E-AT on ``metric``.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`calibrated_frame`.
    metric : str

    Returns
    -------
    list of str
        One line per start: :func:`~lpgeom.experiments.compare_schemes` (mean ± std, a ranking
        only outside the spread), or which of the two is not recorded yet.
    """
    starts = ["from scratch", "fine-tuned from l_inf-AT"]
    lines = []
    for start in starts:
        rows = summary[summary["start"] == start] if len(summary) else summary
        pair = {scheme: rows.index[rows["scheme"] == scheme] for scheme in ("eat", "eat-calibrated")} if len(rows) else {}
        missing = [SCHEME_LABELS[s] for s in ("eat", "eat-calibrated") if not len(pair.get(s, []))]
        if missing:
            lines.append(f"{start}: {' and '.join(missing)} not recorded yet")
        else:
            lines.append(f"{start}: " + compare_schemes(summary, pair["eat-calibrated"][0], pair["eat"][0], metric))
    return lines
