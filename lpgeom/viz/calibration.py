"""The calibrated-sampling experiment (beyond the paper): E-AT against E-AT with calibrated l_1 errors."""
from __future__ import annotations

__all__ = ["plot_calibrated_sampling"]

_STYLES = {"from scratch": "-", "fine-tuned from l_inf-AT": "--"}
_COLORS = {"eat": "tab:blue", "eat-calibrated": "tab:red"}


def plot_calibrated_sampling(summary, histories, title: str = ""):
    """Three panels: union robust accuracy (mean ± std over seeds), P(l_1) over training, and the l_1 error estimates.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`lpgeom.experiments.histories.calibrated_frame` (index ``model``; ``union``,
        ``union_std``, ``seeds``, ``start``, ``scheme``).
    histories : pandas.DataFrame
        :func:`lpgeom.experiments.histories.calibrated_histories` (one row per logged step).
    title : str
        Figure title (default: the histories' ``attrs["source"]``).

    Returns
    -------
    matplotlib.figure.Figure
        Left: bars with error bars (std; none with one seed), labelled with the seed count.
        Middle: P(l_1) per run against the training step. Right: for calibrated runs, the
        running l_1 error of the training attack and the stronger attack's measurement.

    Raises
    ------
    ValueError
        If neither frame holds a recorded run.
    """
    import textwrap

    import matplotlib.pyplot as plt

    runs = summary[summary["scheme"].isin(list(_COLORS))] if len(summary) else summary
    if not len(runs) and not len(histories):
        raise ValueError("no recorded run of E-AT or calibrated E-AT to draw")
    fig, (bars, prob, errors) = plt.subplots(1, 3, figsize=(10.5, 5.6), layout="constrained",
                                             gridspec_kw={"width_ratios": [1.3, 1, 1]})
    for i, (model, row) in enumerate(runs.iterrows()):
        std = row["union_std"] if row["union_std"] == row["union_std"] else 0.0
        bars.barh(i, row["union"], xerr=std, color=_COLORS[row["scheme"]], alpha=0.8,
                  hatch="//" if row["start"] != "from scratch" else None)
        bars.text(row["union"] + std + 0.5, i, f"{int(row['seeds'])} seed{'s' * (row['seeds'] != 1)}", va="center",
                  fontsize=10)
    bars.set_yticks(range(len(runs)))
    bars.set_yticklabels([textwrap.fill(m, 22) for m in runs.index], fontsize=10)  # long names: the layout fits
    bars.set_xlabel("union robust accuracy (%), mean ± std")
    for unit, run in histories.groupby("unit", sort=False) if len(histories) else []:
        first = run.iloc[0]
        prob.plot(run["global_step"], run["p_L1"], color=_COLORS[first["scheme"]], ls=_STYLES.get(first["start"], ":"),
                  lw=1, label=f"{first['model']}, {first['start']}")
        if first["scheme"] == "eat-calibrated":
            errors.plot(run["global_step"], run["rerr_L1"], color="0.4", ls=_STYLES.get(first["start"], ":"), lw=1,
                        label=f"training attack, {first['start']}")
            errors.plot(run["global_step"], run["calibrated_rerr_L1"], color="tab:red", marker=".",
                        ls=_STYLES.get(first["start"], ":"), lw=1, label=f"stronger attack, {first['start']}")
    prob.axhline(0.5, color="0.5", ls=":", lw=1)
    prob.set_ylim(0, 1)
    prob.set_xlabel("training step")
    prob.set_ylabel("P(l_1)")
    errors.set_ylim(0, 1)
    errors.set_xlabel("training step")
    errors.set_ylabel("l_1 robust error estimate")
    unique = {}
    for ax in (prob, errors):
        handles, labels = ax.get_legend_handles_labels()
        unique.update(zip(labels, handles))
        ax.grid(alpha=0.3)
    if unique:  # one legend under the figure: long labels never squeeze or cover the panels
        fig.legend(unique.values(), unique.keys(), fontsize=10, loc="outside lower center", ncol=2, frameon=False)
    fig.suptitle(textwrap.fill(title or histories.attrs.get("source", ""), 120), fontsize=10)
    return fig
