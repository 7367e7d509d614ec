"""The paper's Figure 3 analogue: which norm MAX and MSD train on, per epoch, from recorded runs."""
from __future__ import annotations

__all__ = ["plot_norm_shares"]

_COLORS = {"Linf": "tab:blue", "L2": "tab:green", "L1": "tab:orange"}
_NAMES = {"Linf": "l_inf", "L2": "l_2", "L1": "l_1"}


def plot_norm_shares(frame, title: str = ""):
    """One panel per scheme: the share of each norm per epoch, mean over seeds (band: min to max over seeds).

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`lpgeom.experiments.histories.norm_shares_frame` (columns ``model``, ``seed``,
        ``epoch``, ``norm``, ``share``), not empty.
    title : str
        Figure title (default: the frame's ``attrs["source"]``).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``frame`` is empty (nothing recorded: say so in words, draw no placeholder).
    """
    import textwrap

    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if not len(frame):
        raise ValueError(f"frame holds no recorded shares ({frame.attrs.get('source', 'empty')}); nothing to draw")
    models = list(dict.fromkeys(frame["model"]))
    width = 4.2 * len(models)
    fig, axes = plt.subplots(1, len(models), figsize=(width, 3.4), sharey=True, squeeze=False)
    for ax, model in zip(axes[0], models):
        rows = frame[frame["model"] == model]
        seeds = sorted(rows["seed"].unique())
        for norm, color in _COLORS.items():
            per_epoch = rows[rows["norm"] == norm].groupby("epoch")["share"]
            if not len(per_epoch):
                continue
            mean = per_epoch.mean()
            ax.plot(mean.index, mean.values, marker="o", color=color, label=_NAMES[norm])
            if len(seeds) > 1:
                ax.fill_between(mean.index, per_epoch.min().values, per_epoch.max().values, color=color, alpha=0.2)
        ax.set_title(f"{model} (seed{'s' * (len(seeds) > 1)} {', '.join(map(str, seeds))})", fontsize=9)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("share of the norm")
    fig.suptitle(textwrap.fill(title or frame.attrs.get("source", ""), int(13 * width)), fontsize=8)
    fig.tight_layout()
    return fig
