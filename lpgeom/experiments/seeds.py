"""Seeds: one row per scheme with mean ± std over its recorded seeds, and comparisons that draw no ranking inside the spread.

A difference between two schemes is read as a ranking only if their intervals
``mean ± std`` (sample standard deviation over seeds) do not overlap. A run with one seed
has no measured spread: against a run with several seeds its spread is taken to be the
other's (said so in the sentence); two one-seed runs are never ranked. Two rows evaluated
by different attacks (the ``evaluation`` column) are not compared at all.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence

__all__ = ["seed_summary", "mean_std_table", "compare_schemes", "compare_with", "joint_summary", "METRICS"]

METRICS = ("clean", "linf", "l2", "l1", "union", "time_per_epoch_s")
_MIXED = re.compile(r"\(\d+ of \d+ seeds\)")  # seed_summary's evaluation of a row whose seeds were evaluated differently


def seed_summary(frame, metrics: Sequence[str] = METRICS):
    """One row per model of a per-unit frame (:func:`lpgeom.experiments.results_frame`): mean, std, seeds.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``model``, ``seed``, the metrics and optionally ``evaluation``.
    metrics : sequence of str
        Columns averaged (those present in ``frame``).

    Returns
    -------
    pandas.DataFrame
        Index ``model`` in the frame's order; columns ``seeds`` (how many), ``<metric>`` (mean)
        and ``<metric>_std`` (sample std over seeds, NaN with one seed) per metric, and
        ``evaluation`` (the evaluations its seeds used, e.g. ``"full AutoAttack"``). ``attrs``
        are the frame's.

    Raises
    ------
    ValueError
        If ``frame`` has no ``model`` or ``seed`` column.
    """
    import pandas as pd

    missing = [c for c in ("model", "seed") if c not in frame.columns]
    if len(frame) and missing:
        raise ValueError(f"frame must have columns 'model' and 'seed' (a results_frame), missing {missing}")
    metrics = [m for m in metrics if m in frame.columns]
    rows = {}
    for model, group in frame.groupby("model", sort=False) if len(frame) else []:
        row: dict[str, object] = {"seeds": len(group)}
        for m in metrics:
            values = pd.to_numeric(group[m], errors="coerce")
            row[m] = values.mean()
            row[f"{m}_std"] = values.std(ddof=1) if values.notna().sum() > 1 else math.nan
        if "evaluation" in group:
            counts = group["evaluation"].value_counts(sort=False)
            row["evaluation"] = ", ".join(e if n == len(group) else f"{e} ({n} of {len(group)} seeds)"
                                          for e, n in counts.items())
        rows[model] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "model"
    out.attrs.update(frame.attrs)
    return out


def mean_std_table(summary, digits: int = 1):
    """A :func:`seed_summary` as text for display: ``"44.6 ± 1.2"`` per metric (``"44.6"`` with one seed).

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``seeds``, one per metric, and ``evaluation`` if present; ``attrs`` kept.
    """
    import pandas as pd

    if "seeds" not in summary.columns:
        raise ValueError("summary must be a seed_summary (a 'seeds' column and <metric>/<metric>_std pairs), "
                         f"got columns {list(summary.columns)}")
    metrics = [c for c in summary.columns if f"{c}_std" in summary.columns]
    rows = []
    for model, row in summary.iterrows():
        out = {"model": model, "seeds": int(row["seeds"])}
        for m in metrics:
            mean, std = row[m], row[f"{m}_std"]
            out[m] = "" if mean != mean else f"{mean:.{digits}f}" if std != std else f"{mean:.{digits}f} ± {std:.{digits}f}"
        if "evaluation" in summary.columns:
            out["evaluation"] = row["evaluation"]
        rows.append(out)
    table = pd.DataFrame(rows)
    table.attrs.update(summary.attrs)
    return table


def compare_schemes(summary, first: str, second: str, metric: str = "union", digits: int = 1) -> str:
    """One sentence comparing two rows of a :func:`seed_summary` on ``metric``, ranking them only outside the spread.

    Returns
    -------
    str
        Both figures as mean ± std (n seeds) and either that the two rows were evaluated
        differently (the ``evaluation`` column: different attacks, or one row's seeds by
        several; not compared, since a stronger attack alone lowers a figure), that the
        intervals overlap (no ranking), that neither has a measured spread (no ranking), or
        which is higher and by how much.

    Raises
    ------
    ValueError
        If a row or the metric is not in ``summary``.
    """
    for name in (first, second):
        if name not in summary.index:
            raise ValueError(f"no row {name!r} in the summary; rows: {', '.join(map(str, summary.index))}")
    if metric not in summary.columns:
        raise ValueError(f"metric must be a column of the summary, got {metric!r}")

    def figure(name: str) -> str:
        mean, std, n = summary.at[name, metric], summary.at[name, f"{metric}_std"], int(summary.at[name, "seeds"])
        spread = "" if std != std else f" ± {std:.{digits}f}"
        return f"{name} {mean:.{digits}f}{spread} ({n} seed{'s' * (n != 1)})"

    text = f"{metric}: {figure(first)} vs {figure(second)}"
    if "evaluation" in summary.columns:
        evaluations = [str(summary.at[name, "evaluation"]) for name in (first, second)]
        if evaluations[0] != evaluations[1] or any(_MIXED.search(e) for e in evaluations):
            return (text + f": evaluated differently ({first}: {evaluations[0]}; {second}: {evaluations[1]}), so "
                    "this study does not compare them.")
    (m1, s1), (m2, s2) = ((summary.at[n, metric], summary.at[n, f"{metric}_std"]) for n in (first, second))
    if s1 != s1 and s2 != s2:
        return text + ": without several seeds there is no measured spread, so this study does not rank them."
    assumed = ""
    if s1 != s1 or s2 != s2:  # one seed on one side: assume the spread measured on the other
        s1, s2 = (s2, s2) if s1 != s1 else (s1, s1)
        assumed = " (the one-seed run's spread taken as the other's)"
    if abs(m1 - m2) <= s1 + s2:
        return text + f": the intervals mean ± std overlap{assumed}, so this study does not rank them."
    high = first if m1 > m2 else second
    return (text + f": the intervals do not overlap{assumed}; {high} is higher by {abs(m1 - m2):.{digits}f} points, "
            f"more than the two spreads together ({s1 + s2:.{digits}f}).")


def compare_with(summary, reference: str, others: Sequence[str], metric: str = "union", digits: int = 1) -> list[str]:
    """:func:`compare_schemes` of ``reference`` with each row of ``others`` that ``summary`` has (absent rows skipped).

    Returns
    -------
    list of str
        One sentence per comparison; one sentence saying so if ``reference`` is not a row.
    """
    if reference not in summary.index:
        return [f"{reference} is not recorded in this table"]
    return [compare_schemes(summary, reference, o, metric, digits) for o in others if o in summary.index and o != reference]


def joint_summary(*summaries):
    """The rows of several :func:`seed_summary` frames of one code revision in one frame, to compare across tables.

    A model present in several (e.g. l_inf-AT in Tables 1 and 7) is kept once, from the first.

    Returns
    -------
    pandas.DataFrame
        With the first summary's ``attrs`` and ``attrs["source"]`` naming every source.

    Raises
    ------
    ValueError
        If no summary is given, or they come from different code revisions (``attrs["code_revision"]``):
        results of different attack and training code are not compared.
    """
    import pandas as pd

    if not summaries:
        raise ValueError("joint_summary needs at least one seed_summary")
    revisions = sorted({str(s.attrs.get("code_revision")) for s in summaries})
    if len(revisions) > 1:
        raise ValueError(f"summaries come from code revisions {', '.join(revisions)}; results of different code "
                         "revisions are not compared")
    joint = pd.concat(list(summaries))
    joint = joint[~joint.index.duplicated()]
    joint.attrs = {**summaries[0].attrs, "source": "; ".join(dict.fromkeys(str(s.attrs.get("source")) for s in summaries))}
    return joint
