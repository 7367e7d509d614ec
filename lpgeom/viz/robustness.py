"""Bar charts of robustness reports and E-AT's sampling probability over several recorded runs."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["plot_robust_accuracy", "plot_sampling_runs"]


def plot_robust_accuracy(reports: Sequence, title: str = ""):
    """Grouped bars: clean, per-norm and union accuracy (%) of one or more robustness reports.

    Parameters
    ----------
    reports : sequence of lpgeom.evaluation.RobustnessReport
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    import numpy as np

    if not reports:
        raise ValueError("reports must hold at least one RobustnessReport")
    rows = [r.row() for r in reports]
    columns = [k for k in rows[0] if k != "model"]
    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * len(columns), 3.2))
    width = 0.8 / len(rows)
    for i, row in enumerate(rows):
        ax.bar(np.arange(len(columns)) + i * width, [row[c] for c in columns], width, label=row["model"])
    ax.set_xticks(np.arange(len(columns)) + 0.4 - width / 2)
    ax.set_xticklabels([c.replace("linf", "l_inf").replace("l2", "l_2").replace("l1", "l_1") for c in columns])
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_sampling_runs(histories: Mapping[str, object], title: str = ""):
    """E-AT's probability of drawing l_1 over training, one line per recorded run.

    Parameters
    ----------
    histories : mapping label -> DataFrame
        Frames of :func:`lpgeom.experiments.sampling_history` (columns ``global_step``, ``p_L1``).
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if not histories:
        raise ValueError("histories must hold at least one run")
    fig, ax = plt.subplots(figsize=(6, 3.3))
    for label, frame in histories.items():
        ax.plot(frame["global_step"], frame["p_L1"], marker=".", label=label)
    ax.axhline(0.5, color="0.5", ls=":", lw=1, label="1/2 (equal errors)")
    low = min(float(f["p_L1"].min()) for f in histories.values())
    high = max(float(f["p_L1"].max()) for f in histories.values())
    pad = max(0.05, 0.2 * (high - low))
    ax.set_ylim(max(0.0, min(low, 0.5) - pad), min(1.0, max(high, 0.5) + pad))
    ax.set_xlabel("training step")
    ax.set_ylabel("P(l_1)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
