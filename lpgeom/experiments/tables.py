"""Tables of recorded results next to the paper's, each labelled with its source and provenance."""
from __future__ import annotations

import pathlib

from ..training import scheme_labels
from .paper_tables import RESULTS_DIR
from .profiles import study_size
from .provenance import CODE_REVISIONS, record_revision
from .study import SINGLE, load_result, plan, recorded_revisions, revision_folder, unit_from_name

__all__ = ["results_frame", "provenance_note", "SCHEME_LABELS", "sampling_history", "recorded_profile", "coverage",
           "group_revision", "SINGLE", "l2_curves", "benchmark_record"]

RESULTS_PROFILE_VAR = "LPGEOM_RESULTS_PROFILE"

SCHEME_LABELS = scheme_labels()  # the registry's labels (lpgeom.training.registry), one place


def _row(record: dict) -> dict:
    rep = record["report"]
    row = {"clean": 100 * rep["clean_accuracy"]}
    row.update({k.lower(): 100 * v for k, v in rep["robust_accuracy"].items()})
    row["union"] = 100 * rep["union_accuracy"]
    row["time_per_epoch_s"] = record.get("time_per_epoch_s")
    return row


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
    return next((name for name in reversed(PROFILES) if coverage(group, name, results_dir)[0]), "smoke")


def group_revision(group: str, profile: str | None = None, results_dir: str | pathlib.Path = RESULTS_DIR) -> int | None:
    """The code revision whose results a table of ``group`` shows: the newest with a recorded unit (None: none)."""
    size = study_size(profile)
    units = plan(size, [group])[group]
    found = {r for u in units for r in recorded_revisions(results_dir, size.name, u)}
    return max(found) if found else None


def coverage(group: str, profile: str | None = None, results_dir: str | pathlib.Path = RESULTS_DIR,
             revision: int | None = None) -> tuple[int, int]:
    """(recorded, planned) number of units of ``group`` at ``profile`` and ``revision`` (None: :func:`group_revision`)."""
    size = study_size(profile)
    units = plan(size, [group])[group]
    revision = group_revision(group, size.name, results_dir) if revision is None else revision
    if revision is None:
        return 0, len(units)
    return sum(load_result(results_dir, size.name, u, revision) is not None for u in units), len(units)


def results_frame(group: str, profile: str | None = None, results_dir: str | pathlib.Path = RESULTS_DIR,
                  revision: int | None = None):
    """Our recorded results for a group (``"table1"``, ``"table6"``...) as a DataFrame in percent.

    All rows come from one code revision (``revision``; None: the newest with a recorded unit
    of the group), never a mixture: records of another attack or training code are another
    experiment. Rows that have not been run yet are missing; ``frame.attrs["source"]`` names
    the profile, the code revision and, if the group is incomplete, how many of its units are
    recorded; ``frame.attrs["code_revision"]`` holds the revision.
    """
    import pandas as pd

    size = study_size(profile)
    revision = group_revision(group, size.name, results_dir) if revision is None else revision
    rows = []
    for unit in plan(size, [group])[group] if revision is not None else []:
        record = load_result(results_dir, size.name, unit, revision)
        if record is None:
            continue
        label = SCHEME_LABELS.get(unit.scheme, unit.scheme)
        if unit.init is not None:
            source = unit.init.split("_")[0]
            label = f"{SCHEME_LABELS.get(source, source)} + FT {SCHEME_LABELS.get(unit.scheme, unit.scheme)} ({unit.epochs} ep)"
        rows.append({"model": label, "seed": unit.seed, **_row(record)})
    frame = pd.DataFrame(rows)
    planned = len(plan(size, [group])[group])
    missing = "" if len(rows) == planned else f", {len(rows)} of {planned} units recorded"
    frame.attrs["source"] = f"lpgeom, {size.dataset}, {size.arch}, profile {size.name}, code revision {revision}{missing}"
    frame.attrs["code_revision"] = revision
    return frame


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
    provs = [json.loads(f.read_text())["provenance"] for f in files]
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
    commands = ", ".join(f"`{c}`" for c in dict.fromkeys(p["command"] for p in provs))
    return (f"Recorded by {commands} (profile {prov['profile']}, code revision {revision}, {code}), "
            f"torch {v['torch']}, pyautoattack {v['pyautoattack']}, on {m['cpu']} ({m['cores']} cores, GPU: {m['gpu']}), "
            f"{len(files)} units, finished between {prov['ended']} and {last['ended']}.")


def sampling_history(unit_name: str, profile: str | None = None, results_dir: str | pathlib.Path = RESULTS_DIR):
    """E-AT's sampling probabilities and running robust errors over training (from the recorded metrics).

    Raises
    ------
    FileNotFoundError
        If the unit has no recorded result for the profile.
    """
    import pandas as pd

    size = study_size(profile)
    record = load_result(results_dir, size.name, unit_from_name(unit_name))
    if record is None:
        raise FileNotFoundError(f"no recorded result for {unit_name} in {pathlib.Path(results_dir) / size.name}; "
                                f"run python -m lpgeom reproduce --profile {size.name}")
    steps = record.get("history", [])
    cols = ["global_step", "p_L1", "p_Linf", "rerr_L1", "rerr_Linf"]
    return pd.DataFrame([{c: s.get(c) for c in cols} for s in steps if "p_L1" in s])


def l2_curves(profile: str | None = None, results_dir: str | pathlib.Path = RESULTS_DIR) -> dict[str, dict]:
    """Recorded l_2 robustness curves (Figure 1 analogue) of l_2-AT and E-AT: {label: {"eps": [...], "accuracy": [...]}}.

    Both from one code revision (:func:`group_revision` of ``"figure1"``).
    """
    size = study_size(profile)
    revision = group_revision("figure1", size.name, results_dir)
    out = {}
    for unit in plan(size, ["figure1"])["figure1"] if revision is not None else []:
        record = load_result(results_dir, size.name, unit, revision)
        if record and record.get("l2_curve"):
            out[SCHEME_LABELS[unit.scheme]] = record["l2_curve"]
    return out


def benchmark_record(name: str = "training_cost") -> dict:
    """A recorded benchmark (``data/benchmarks/<name>.json``, written by ``benchmarks/bench_<name>.py``)."""
    import json

    path = RESULTS_DIR.parent / "benchmarks" / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no recorded benchmark {path}; run python benchmarks/bench_{name}.py")
    return json.loads(path.read_text())
