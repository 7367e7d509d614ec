"""Tables of recorded results next to the paper's, each labelled with its source and provenance.

One table shows one code revision (:data:`~lpgeom.experiments.provenance.CODE_REVISIONS`),
never a mixture. The book's main table of a group is the newest revision whose units are
*all* recorded (:func:`complete_revision`); a newer revision that is partly recorded is shown
beside it as an "in progress" table (:func:`study_tables`), with its coverage and what
changed. Rows may use the full standard AutoAttack's figure where its check of that very
record exists (``checks_dir``), and say so in their ``evaluation`` column.
"""
from __future__ import annotations

import collections
import dataclasses
import pathlib
from collections.abc import Sequence

from ..evaluation import FLAG
from ..training import scheme_labels
from .paper_tables import RESULTS_DIR
from .profiles import StudySize, study_size
from .provenance import CODE_REVISIONS
from .study import SINGLE, Unit, load_result, plan, recorded_revisions, revision_folder, unit_from_name
from .record_schema import read_record

__all__ = ["results_frame", "provenance_note", "SCHEME_LABELS", "sampling_history", "recorded_profile", "coverage",
           "group_revision", "complete_revision", "shown_revision", "planned_units", "unit_label", "revision_note",
           "SCHEME_AS_RECORDED", "REVISION_PLANS", "GROUP_SINCE", "StudyTables", "study_tables", "revision_summary", "msd_note", "SINGLE",
           "l2_curves", "benchmark_record", "TWO_APGDS", "FULL_AUTOATTACK"]

RESULTS_PROFILE_VAR = "LPGEOM_RESULTS_PROFILE"

SCHEME_LABELS = scheme_labels()  # the registry's labels (lpgeom.training.registry), one place

#: Per code revision, the registered scheme a recorded scheme name ran as, where it is not the
#: name itself: revision 1's "msd" took Maini et al.'s top-k l_1 step (today's "msd-topk"),
#: the variant the paper says it did not use; from revision 2 on "msd" is the paper's MSD.
SCHEME_AS_RECORDED: dict[int, dict[str, str]] = {1: {"msd": "msd-topk"}}
#: Per code revision, the study sizes its records were planned with, where they differ from
#: today's profile: revision 1's Table 1 has one seed per scheme (3 seeds came with revision 2).
REVISION_PLANS: dict[int, dict[str, object]] = {1: {"table1_seeds": (0,)}}
#: Groups planned only from a code revision on: the calibrated-sampling experiment (issue 12)
#: came with revision 2; its revision-1 units (l_inf-AT, E-AT) belong to other tables.
GROUP_SINCE: dict[str, int] = {"calibrated": 2}

TWO_APGDS = "APGD-CE + APGD-T"  # the paper's evaluation (pyautoattack's two APGDs)
TIME_NOTE = ("time_per_epoch_s: each run's wall-clock seconds per epoch on the machine that recorded it, whose "
             "cores were at times shared with other work (seed spreads of time measure that load); costs are "
             "compared with the benchmarks' ratios, measured in one run each")
FULL_AUTOATTACK = "full AutoAttack"  # + FAB-T and Square (scripts/full_autoattack_check.py)


def _results_folder(results_dir: str | pathlib.Path) -> pathlib.Path:
    """``results_dir`` as a Path, refused if it is not a folder (a missing folder would read as an empty table)."""
    folder = pathlib.Path(results_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"results_dir must be a folder of recorded results, got {str(results_dir)!r} (not a folder)")
    return folder


def _revision_size(size: StudySize, revision: int) -> StudySize:
    return dataclasses.replace(size, **REVISION_PLANS.get(revision, {}))


def planned_units(group: str, profile: str | None = None, revision: int = max(CODE_REVISIONS)) -> list[Unit]:
    """The units of ``group`` at ``profile`` as planned when ``revision``'s records were made (:data:`REVISION_PLANS`).

    Empty for a revision before the group existed (:data:`GROUP_SINCE`).

    Raises
    ------
    ValueError
        For an unknown group or a revision :data:`~lpgeom.experiments.provenance.CODE_REVISIONS` does not list.
    """
    if revision not in CODE_REVISIONS:
        raise ValueError(f"revision must be one of {sorted(CODE_REVISIONS)}, got {revision!r}")
    units = plan(_revision_size(study_size(profile), revision), [group])[group]
    return units if revision >= GROUP_SINCE.get(group, 1) else []


def unit_label(unit: Unit, revision: int = max(CODE_REVISIONS)) -> str:
    """A unit's row label: its scheme's label as it ran at ``revision`` (:data:`SCHEME_AS_RECORDED`), fine-tuning spelt out."""
    def label(scheme: str) -> str:
        scheme = SCHEME_AS_RECORDED.get(revision, {}).get(scheme, scheme)
        return SCHEME_LABELS.get(scheme, scheme)

    if unit.init is None:
        return label(unit.scheme)
    start = unit_from_name(unit.init)
    return f"{label(start.scheme)} + FT {label(unit.scheme)} ({unit.epochs} ep)"


def revision_note(revision: int, group: str, profile: str | None = None) -> str:
    """What a revision's table of ``group`` is: the revision's code (CODE_REVISIONS) and seeds per row."""
    units = planned_units(group, profile, revision)
    if not units:
        return f"code revision {revision}: {CODE_REVISIONS[revision]}; the group was not planned at this revision"
    counts = collections.Counter(dataclasses.replace(u, seed=0) for u in units)  # seeds per row
    low, high = min(counts.values()), max(counts.values())
    seeds = f"{low} seed{'s' * (low != 1)}" if low == high else f"{low} to {high} seeds"
    return f"code revision {revision}: {CODE_REVISIONS[revision]}; {seeds} per row"


def recorded_profile(group: str = "table1", results_dir: str | pathlib.Path = RESULTS_DIR) -> str:
    """The profile whose recorded results the book shows for ``group``.

    ``$LPGEOM_RESULTS_PROFILE`` if set; otherwise the largest profile (``full`` > ``cpu`` >
    ``smoke``) with at least one recorded unit of the group. The notebooks *run* their live
    demonstrations at the active profile (``$LPGEOM_PROFILE``) but *show* recorded results
    of this one, so a smoke build still displays the study recorded at the ``cpu`` scale.

    Raises
    ------
    ValueError
        If the environment variable names an unknown profile.
    """
    import os

    from ..profiles import PROFILES

    chosen = os.environ.get(RESULTS_PROFILE_VAR)
    if chosen:
        return study_size(chosen).name
    return next((name for name in reversed(PROFILES) if group_revision(group, name, results_dir) is not None), "smoke")


def _recorded(group: str, profile: str | None, results_dir, revision: int) -> list[Unit]:
    name = study_size(profile).name
    return [u for u in planned_units(group, name, revision) if revision in recorded_revisions(results_dir, name, u)]


def group_revision(group: str, profile: str | None = None, results_dir: str | pathlib.Path = RESULTS_DIR) -> int | None:
    """The newest code revision with at least one recorded unit of ``group`` (None: none recorded)."""
    name = study_size(profile).name
    found = {r for r in CODE_REVISIONS for u in planned_units(group, name, r) if r in recorded_revisions(results_dir, name, u)}
    return max(found) if found else None


def complete_revision(group: str, profile: str | None = None, results_dir: str | pathlib.Path = RESULTS_DIR) -> int | None:
    """The newest code revision at which every planned unit of ``group`` is recorded (None: no revision is complete).

    The plan is the one that revision's records were made with (:data:`REVISION_PLANS`).
    """
    done = [r for r in CODE_REVISIONS if planned_units(group, profile, r)
            and len(_recorded(group, profile, results_dir, r)) == len(planned_units(group, profile, r))]
    return max(done) if done else None


def shown_revision(group: str, profile: str | None = None, results_dir: str | pathlib.Path = RESULTS_DIR) -> int | None:
    """The revision a table of ``group`` shows by default: the newest complete one, else the newest recorded one."""
    complete = complete_revision(group, profile, results_dir)
    return complete if complete is not None else group_revision(group, profile, results_dir)


def coverage(group: str, profile: str | None = None, results_dir: str | pathlib.Path = RESULTS_DIR,
             revision: int | None = None) -> tuple[int, int]:
    """(recorded, planned) number of units of ``group`` at ``profile`` and ``revision`` (None: :func:`shown_revision`)."""
    revision = shown_revision(group, profile, results_dir) if revision is None else revision
    if revision is None:
        return 0, len(planned_units(group, profile))
    return len(_recorded(group, profile, results_dir, revision)), len(planned_units(group, profile, revision))


def _figures(record: dict) -> dict[str, float]:
    rep = record["report"]
    return {**{k.lower(): 100 * v for k, v in rep["robust_accuracy"].items()}, "union": 100 * rep["union_accuracy"]}


def _evaluation(record: dict) -> str:
    method = record["report"].get("method")
    return TWO_APGDS if method == "autoattack" else f"lpgeom {method}" if method else "unknown"


def _full_check(record: dict, check: dict | None) -> dict[str, float] | None:
    """The full-AutoAttack figures of ``check`` if it checked exactly this record (same figures, same commit), else None."""
    if check is None:
        return None
    rep = record["report"]
    if check.get("recorded") != {**rep["robust_accuracy"], "union": rep["union_accuracy"]}:
        return None
    checked_commit = check.get("retrained", {}).get("record_commit")  # the commit of the record it retrained
    if checked_commit is not None and checked_commit != record.get("provenance", {}).get("commit"):
        return None
    return {k.lower(): 100 * v for k, v in check["worst_case"].items()}


def results_frame(group: str, profile: str | None = None, results_dir: str | pathlib.Path = RESULTS_DIR,
                  revision: int | None = None, checks_dir: str | pathlib.Path | None = None):
    """Our recorded results for a group (``"table1"``, ``"table6"``...) as a DataFrame in percent, one row per unit.

    Parameters
    ----------
    group : str
    profile : str, optional
    results_dir : path-like
    revision : int, optional
        The code revision shown; None: :func:`shown_revision` (the newest complete one). All rows
        come from it, never a mixture.
    checks_dir : path-like, optional
        Folder of full-AutoAttack checks (``<profile>_<unit>.json``,
        :data:`~lpgeom.experiments.attack_strength.FULL_AUTOATTACK_DIR`). Where a check of this
        very record exists (its recorded figures equal the record's), the row takes the check's
        figures, the lower ones, and its ``evaluation`` says ``"full AutoAttack"``.

    Returns
    -------
    pandas.DataFrame
        Columns ``model`` (label as the scheme ran at that revision, :func:`unit_label`),
        ``unit``, ``seed``, ``clean``, ``linf``, ``l2``, ``l1``, ``union``, ``time_per_epoch_s``,
        ``evaluation``. Unrecorded units are missing; ``attrs["source"]`` names the profile,
        the revision and, if incomplete, how many units are recorded; ``attrs["code_revision"]``,
        ``attrs["coverage"]`` (recorded, planned) and ``attrs["revision_note"]`` (:func:`revision_note`).
    """
    import pandas as pd

    from .attack_strength import full_autoattack_checks

    results_dir = _results_folder(results_dir)
    size = study_size(profile)
    revision = shown_revision(group, size.name, results_dir) if revision is None else revision
    checks = full_autoattack_checks(size.name, checks_dir, revision) if checks_dir is not None and revision else {}
    rows, radii = [], None
    for unit in planned_units(group, size.name, revision) if revision is not None else []:
        record = load_result(results_dir, size.name, unit, revision)
        if record is None:
            continue
        figures, evaluation = _figures(record), _evaluation(record)
        full = _full_check(record, checks.get(unit.name))
        if full is not None:
            figures, evaluation = {k: min(v, full[k]) for k, v in figures.items()}, FULL_AUTOATTACK
        label = unit_label(unit, revision)
        if (record["report"].get("sanity") or {}).get("flagged"):  # never a flagged accuracy without its flag
            label = f"{label} {FLAG}"
        radii = radii or record["report"].get("eps")
        rows.append({"model": label, "unit": unit.name, "seed": unit.seed,
                     "clean": 100 * record["report"]["clean_accuracy"], **figures,
                     "time_per_epoch_s": record.get("time_per_epoch_s"), "evaluation": evaluation})
    frame = pd.DataFrame(rows)
    planned = len(planned_units(group, size.name, revision or max(CODE_REVISIONS)))
    missing = "" if len(rows) == planned else f", {len(rows)} of {planned} units recorded"
    frame.attrs["source"] = f"lpgeom, {size.dataset}, {size.arch}, profile {size.name}, code revision {revision}{missing}"
    frame.attrs["radii"] = dict(radii or {})  # the evaluation's radii per norm, printed by StudyTables.notes()
    frame.attrs["code_revision"] = revision
    frame.attrs["coverage"] = (len(rows), planned)
    frame.attrs["revision_note"] = revision_note(revision, group, size.name) if revision is not None else ""
    return frame


def msd_note(revision: int) -> str:
    """Which MSD a revision's ``msd`` rows are (for every table that compares MSD)."""
    ran_as = SCHEME_AS_RECORDED.get(revision, {}).get("msd", "msd")
    if ran_as == "msd":
        return (f"code revision {revision}: {SCHEME_LABELS['msd']} is the paper's MSD (Maini et al.'s scheme with "
                f"SLIDE's l_1 step, as Croce & Hein ran it)")
    return (f"code revision {revision}: its MSD row is {SCHEME_LABELS[ran_as]}, the variant the paper says it did not "
            f"use (it reports significantly worse results with it and runs MSD with SLIDE's l_1 step); "
            f"from code revision 2 on, the study trains the paper's MSD")


@dataclasses.dataclass
class StudyTables:
    """A group's tables as the book shows them, one row per model with mean ± std over seeds.

    Attributes
    ----------
    main : pandas.DataFrame or None
        :func:`~lpgeom.experiments.seeds.seed_summary` of the newest complete revision (None:
        no revision is complete).
    in_progress : pandas.DataFrame or None
        The same for a newer, partly recorded revision (None: there is none). Its
        ``attrs["coverage"]`` is (recorded, planned) units, ``attrs["revision_note"]`` says
        what differs.
    """

    group: str
    main: object | None
    in_progress: object | None

    @property
    def revision(self) -> int | None:
        """The revision the chapter's figures should read: the main table's, else the one in progress (None: nothing)."""
        table = self.main if self.main is not None else self.in_progress
        return None if table is None else table.attrs["code_revision"]

    def notes(self) -> list[str]:
        """One line per table shown: revision, coverage, what the revision is; MSD's variant where MSD is a row."""
        lines = []
        for kind, table in (("main table", self.main), ("in progress", self.in_progress)):
            if table is None:
                continue
            k, n = table.attrs["coverage"]
            complete = f" (all {n} units recorded)" if k == n else ""  # the source says "k of n" otherwise
            radii = table.attrs.get("radii") or {}
            shown = "; radii " + ", ".join(f"{name} {eps:.4g}" for name, eps in radii.items()) if radii else ""
            lines.append(f"{kind}: {table.attrs['source']}{complete}; {table.attrs['revision_note']}{shown}")
            if any(str(m).startswith(SCHEME_LABELS["msd"]) for m in table.index):
                lines.append(f"{kind}: {msd_note(table.attrs['code_revision'])}")
        if lines:
            lines.append(TIME_NOTE)
        return lines or [f"no recorded results for {self.group}"]


def study_tables(group: str, profile: str | None = None, results_dir: str | pathlib.Path = RESULTS_DIR,
                 checks_dir: str | pathlib.Path | None = None) -> StudyTables:
    """The book's tables of ``group``: the newest complete revision, and a newer one in progress if any.

    Parameters
    ----------
    group, profile, results_dir
        As :func:`results_frame`.
    checks_dir : path-like, optional
        Full-AutoAttack checks applied where they checked the very record (:func:`results_frame`).

    Returns
    -------
    StudyTables
        Both tables summarised over seeds (:func:`~lpgeom.experiments.seeds.seed_summary`),
        each with its frame's ``attrs``; never one table mixing revisions.
    """
    from .seeds import seed_summary

    results_dir = _results_folder(results_dir)
    main = complete_revision(group, profile, results_dir)
    newest = group_revision(group, profile, results_dir)
    frames = [None if r is None else seed_summary(results_frame(group, profile, results_dir, r, checks_dir))
              for r in (main, newest if newest is not None and (main is None or newest > main) else None)]
    return StudyTables(group, *frames)


def revision_summary(groups: Sequence[str], profile: str | None = None, revision: int | None = None,
                     results_dir: str | pathlib.Path = RESULTS_DIR):
    """The recorded runs of several groups at one code revision, summarised over seeds in one frame.

    What the book compares across tables (E-AT from scratch in Table 1 against its fine-tuning in
    Table 7; Table 8's epochs against Table 7's 3-epoch runs) must come from one revision, whether
    or not every group is complete at it: a group still being recorded contributes the runs it
    has, one not yet begun contributes none (``attrs["source"]`` says so), and nothing is read
    from another revision.

    Parameters
    ----------
    groups : sequence of str
        Study groups (``"table7"``, ``"table1"``...); a model in several (l_inf-AT in Tables 1
        and 7) is kept once, from the first group that has it.
    profile : str, optional
    revision : int, optional
        The code revision; None: the first group's :func:`shown_revision`.
    results_dir : path-like

    Returns
    -------
    pandas.DataFrame
        :func:`~lpgeom.experiments.seeds.joint_summary` of the groups'
        :func:`~lpgeom.experiments.seeds.seed_summary` frames (the two APGDs' figures, as
        recorded for every seed: no full-AutoAttack check replaces one), one row per model;
        ``attrs["code_revision"]`` is ``revision``, ``attrs["source"]`` names each group's source.

    Raises
    ------
    ValueError
        If ``groups`` is empty or names an unknown group.
    """
    from .seeds import joint_summary, seed_summary

    if isinstance(groups, str) or not groups:
        raise ValueError(f"groups must be a non-empty sequence of group names, got {groups!r}")
    results_dir = _results_folder(results_dir)
    revision = shown_revision(groups[0], profile, results_dir) if revision is None else revision
    frames = [seed_summary(results_frame(g, profile, results_dir, revision)) for g in groups]
    sources = [f"{g}: {f.attrs['source']}" if len(f) else f"{g}: nothing recorded at code revision {revision}"
               for g, f in zip(groups, frames)]
    joint = joint_summary(*([f for f in frames if len(f)] or frames[:1]))
    joint.attrs.update(source="; ".join(sources), code_revision=revision)
    return joint


def _repository() -> pathlib.Path | None:
    """The lpgeom checkout the records belong to (the one containing the working directory or the records
    folder), or None for an installed wheel: then no script can be checked against it."""
    from ..utils.locations import find_checkout, records_dir

    return find_checkout() or find_checkout(records_dir().resolve())


def _command_text(command: str) -> str:
    """A recorded command in backticks; a ``python <script>.py`` whose script is not in this repository says so."""
    import shlex

    try:
        words = shlex.split(command)
    except ValueError:
        return f"`{command}`"
    repository = _repository()
    if len(words) > 1 and words[0].startswith("python") and words[1].endswith(".py") and repository is not None:
        script = pathlib.Path(words[1])
        inside = (repository / script).is_file() if not script.is_absolute() else \
            repository in script.resolve().parents and script.is_file()
        if not inside:
            return (f"`{command}` (a one-off script that is not part of this repository; the unit it ran, "
                    "named in the command, is one that `python -m lpgeom reproduce` plans and runs the same way)")
    return f"`{command}`"


def provenance_note(profile: str | None = None, results_dir: str | pathlib.Path = RESULTS_DIR,
                    revision: int | None = None) -> str:
    """One line on where the recorded results of a profile come from: code revision, commands, commits
    (and how many units ran with uncommitted changes), versions, machine, units, time span.

    ``revision``: the code revision whose records are described (None: the newest recorded).
    """
    import json

    size = study_size(profile)
    root = pathlib.Path(results_dir)
    present = [r for r in sorted(CODE_REVISIONS) if any((root / revision_folder(size.name, r)).glob("*.json"))]
    revision = (present[-1] if present else 1) if revision is None else revision
    folder = root / revision_folder(size.name, revision)
    files = sorted(folder.glob("*.json"))
    if not files:
        return f"no recorded results for profile {size.name} at code revision {revision} in {folder}"
    provs = [read_record(f)["provenance"] for f in files]
    provs.sort(key=lambda p: p["ended"])
    prov, last = provs[0], provs[-1]
    m, v = prov["machine"], prov["versions"]
    commits = sorted({str(p["commit"])[:10] for p in provs})
    dirty = sum(bool(p.get("dirty")) for p in provs)
    code = f"commit {commits[0]}" if len(commits) == 1 else f"{len(commits)} commits ({', '.join(commits)})"
    code += f", {dirty} with uncommitted changes" if dirty else ""
    late = sum(p.get("commit_taken_at") != "process start" and "correction" not in p for p in provs)
    if late:  # recorded before code_state: the commit checked out when the record was written
        code += (f"; for {late} of the units, the commit checked out when the record was written, possibly "
                 f"later than the code that ran (see data/results/README.md)")
    commands = ", ".join(_command_text(c) for c in dict.fromkeys(p["command"] for p in provs))
    return (f"Recorded by {commands} (profile {prov['profile']}, code revision {revision}, {code}), "
            f"torch {v['torch']}, pyautoattack {v['pyautoattack']}, on {m['cpu']} ({m['cores']} cores, GPU: {m['gpu']}), "
            f"{len(files)} units, finished between {prov['ended']} and {last['ended']}.")


def sampling_history(unit_name: str, profile: str | None = None, results_dir: str | pathlib.Path = RESULTS_DIR,
                     revision: int | None = None):
    """E-AT's sampling probabilities and running robust errors over training (from the recorded metrics).

    ``revision``: the code revision of the record (None: the newest that has one), in
    ``attrs["code_revision"]``; pass the revision of the table shown next to it.

    Raises
    ------
    FileNotFoundError
        If the unit has no recorded result for the profile (at that revision).
    """
    import pandas as pd

    size = study_size(profile)
    unit = unit_from_name(unit_name)
    revision = (recorded_revisions(results_dir, size.name, unit) or [None])[-1] if revision is None else revision
    record = load_result(results_dir, size.name, unit, revision) if revision is not None else None
    if record is None:
        raise FileNotFoundError(f"no recorded result for {unit_name} in {pathlib.Path(results_dir) / size.name} "
                                f"(code revision {revision}); run python -m lpgeom reproduce --profile {size.name}")
    steps = record.get("history", [])
    cols = ["global_step", "p_L1", "p_Linf", "rerr_L1", "rerr_Linf"]
    frame = pd.DataFrame([{c: s.get(c) for c in cols} for s in steps if "p_L1" in s])
    frame.attrs["code_revision"] = revision
    return frame


def l2_curves(profile: str | None = None, results_dir: str | pathlib.Path = RESULTS_DIR,
              revision: int | None = None) -> dict[str, dict]:
    """Recorded l_2 robustness curves (Figure 1 analogue) of l_2-AT and E-AT: {label: {"eps": [...], "accuracy": [...]}}.

    Both from one code revision (``revision``; None: :func:`shown_revision` of ``"figure1"``).
    """
    results_dir = _results_folder(results_dir)
    size = study_size(profile)
    revision = shown_revision("figure1", size.name, results_dir) if revision is None else revision
    out = {}
    for unit in planned_units("figure1", size.name, revision) if revision is not None else []:
        record = load_result(results_dir, size.name, unit, revision)
        if record and record.get("l2_curve"):
            curve = _exact_curve(record)
            flagged = (curve.get("sanity") or {}).get("flagged") or (record["report"].get("sanity") or {}).get("flagged")
            out[unit_label(unit, revision) + (f" {FLAG}" if flagged else "")] = curve
    return out


def _exact_curve(record: dict) -> dict:
    """The record's l_2 curve with each accuracy as the exact count / N of its evaluation's N points.

    Older records hold float32 means (650/1000 as 0.6499999761, which reads as below 65%);
    rounded to the nearest multiple of 1/N they compare as the counts they are. ``"n_points"``
    is added (None where the record does not say).
    """
    curve = dict(record["l2_curve"])
    n = (record.get("report") or {}).get("n_points")
    if isinstance(n, int) and not isinstance(n, bool) and n > 0:
        curve["accuracy"] = [round(float(a) * n) / n for a in curve["accuracy"]]
    curve["n_points"] = n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else None
    return curve


def benchmark_record(name: str = "training_cost") -> dict:
    """A recorded benchmark (``data/benchmarks/<name>.json``, written by ``benchmarks/bench_<name>.py``).

    Raises
    ------
    ValueError
        If ``name`` is not a plain name (letters, digits, ``_``, ``-``): no path outside ``data/benchmarks``.
    FileNotFoundError
        If the benchmark is not recorded.
    """
    import json
    import re

    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ValueError(f"name must be a benchmark's name (letters, digits, '_', '-'), got {name!r}")
    path = RESULTS_DIR.parent / "benchmarks" / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no recorded benchmark {path}; run python benchmarks/bench_{name}.py")
    return json.loads(path.read_text())
