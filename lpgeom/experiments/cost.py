"""Training cost per epoch as ratios between schemes: the paper's Table 1 times next to recorded benchmarks.

Ratios, not seconds, are compared: the paper's times come from another GPU, model and
implementation. Recorded benchmarks: ``data/benchmarks/training_cost.json`` (CPU, written
by ``benchmarks/bench_training_cost.py``) and ``data/benchmarks/gpu.json`` (one GPU, written
by ``benchmarks/bench_gpu.py``). The CPU record holds a ``ratios`` mapping (``{"eat/linf": ...}``);
from the GPU record the ratios are formed from its measured training steps
(``raw["training_step_ms"]``, keys ``"<scheme> fp32"`` and ``"<scheme> bf16+cl"``; single-norm
AT and E-AT in both precisions, MAX, AVG and MSD in bf16 + channels_last only).
"""
from __future__ import annotations

from .paper_tables import load_paper_table
from .tables import benchmark_record

__all__ = ["cost_ratios_frame", "window_spread", "RATIOS"]

# ratio key -> (numerator, denominator) as the paper's Table 1 names the schemes; the key's two halves
# are the scheme names the benchmarks time ("<scheme> fp32" in the GPU record)
RATIOS: dict[str, tuple[str, str]] = {
    "eat/linf": ("E-AT (l_1 + l_inf)", "l_inf-AT"),
    "l1/linf": ("l_1-AT", "l_inf-AT"),
    "l2/linf": ("l_2-AT", "l_inf-AT"),
    "max/eat": ("MAX (retr.)", "E-AT (l_1 + l_inf)"),
    "avg/eat": ("AVG (retr.)", "E-AT (l_1 + l_inf)"),
    "msd/eat": ("MSD (retr.)", "E-AT (l_1 + l_inf)"),
}
GPU_NOTE = ("the GPU benchmark has not been recorded yet: on a machine with a GPU run "
            "`python benchmarks/bench_gpu.py` (or `bash scripts/gpu_check.sh`), which writes data/benchmarks/gpu.json")


def window_spread(windows: dict[str, list[float]]) -> float | None:
    """The largest relative spread of one scheme's timed windows: ``max / min - 1`` over schemes.

    Parameters
    ----------
    windows : dict of str to list of float
        Scheme key -> mean step time of each timed window (ms), as ``bench_gpu.py`` records
        them in ``raw["training_step_window_ms"]``.

    Returns
    -------
    float or None
        ``None`` where no scheme has two positive windows.
    """
    spreads = [max(w) / min(w) - 1 for w in windows.values() if len(w) >= 2 and min(w) > 0]
    return max(spreads) if spreads else None


def cost_ratios_frame():
    """Ratios of time per epoch: the paper's (its Table 1 seconds), and each recorded benchmark.

    Returns
    -------
    pandas.DataFrame
        Index: ratio (``"E-AT / l_inf-AT"``, ...); columns ``paper (s / s)``, ``paper ratio``,
        ``CPU (recorded)`` and, once recorded, ``GPU (recorded)``. ``attrs["notes"]`` lists
        where each recorded column comes from, or that the GPU record is missing.
    """
    import pandas as pd

    paper = load_paper_table(1).set_index("scheme")["time_per_epoch_s"]
    rows, notes = {}, []
    records: dict[str, dict[str, float]] = {}
    for column, name in (("CPU (recorded)", "training_cost"), ("GPU (recorded)", "gpu")):
        try:
            record = benchmark_record(name)
        except FileNotFoundError:
            notes.append(GPU_NOTE if name == "gpu" else f"no CPU benchmark recorded (benchmarks/bench_{name}.py)")
            continue
        prov = record.get("provenance", {})
        machine = prov.get("machine", {}) if isinstance(prov.get("machine"), dict) else {}
        where = machine.get("gpu") or prov.get("device") or machine.get("cpu") or "machine not recorded"
        notes.append(f"{column}: data/benchmarks/{name}.json, measured on {where}, recorded {prov.get('ended') or prov.get('date', 'at an unrecorded time')}")
        if name == "gpu":
            steps = record.get("raw", {}).get("training_step_ms", {})
            spread = window_spread(record.get("raw", {}).get("training_step_window_ms", {}))
            if spread is not None:
                notes.append(f"GPU (recorded): the timed windows of one scheme differ by up to {100 * spread:.0f} % "
                             "(largest / smallest window mean - 1): a GPU ratio closer to 1 than that does not "
                             "tell the two schemes' costs apart")
            for precision in ("fp32", "bf16+cl"):
                pairs = {key: key.split("/") for key in RATIOS}  # "eat/linf" -> the bench's "eat", "linf" keys
                records[f"GPU {precision} (recorded)"] = {
                    key: steps[f"{a} {precision}"] / steps[f"{b} {precision}"]
                    for key, (a, b) in pairs.items() if f"{a} {precision}" in steps and f"{b} {precision}" in steps}
        else:
            records[column] = record.get("ratios", {})
    for key, (num, den) in RATIOS.items():
        label = f"{num.split(' (')[0]} / {den.split(' (')[0]}"
        row = {"paper (s / s)": f"{paper[num]:.0f} / {paper[den]:.0f}", "paper ratio": paper[num] / paper[den]}
        for column, ratios in records.items():
            row[column] = ratios.get(key)
        rows[label] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.attrs["notes"] = notes
    return frame
