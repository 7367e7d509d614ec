"""Figures and tables of the recorded study: E-AT's sampling over training, l_2 robustness curves, tables by revision."""
from __future__ import annotations

__all__ = ["plot_sampling_history", "plot_l2_curves", "side_by_side", "show_study_tables"]


def plot_sampling_history(frame, title: str = "E-AT: sampling probabilities and running robust errors"):
    """Two panels from :func:`lpgeom.experiments.sampling_history`'s DataFrame. Returns the Figure."""
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    a.plot(frame["global_step"], frame["p_L1"], label="p(l_1)")
    a.plot(frame["global_step"], frame["p_Linf"], label="p(l_inf)")
    a.set_ylim(0, 1)
    a.set_xlabel("step")
    a.set_title("sampling probability")
    b.plot(frame["global_step"], frame["rerr_L1"], label="l_1")
    b.plot(frame["global_step"], frame["rerr_Linf"], label="l_inf")
    b.set_xlabel("step")
    b.set_title("running robust error (cumulative)")
    for ax in (a, b):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_l2_curves(curves: dict[str, dict], hull_radius: float | None = None, eps2: float | None = None):
    """Robust accuracy vs eps_2 per model, with the Theorem 3.1 radius and the threat model's eps_2 marked."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for label, c in curves.items():
        ax.plot(c["eps"], [100 * v for v in c["accuracy"]], marker="o", label=label)
    if hull_radius is not None:
        ax.axvline(hull_radius, color="seagreen", ls="--", label=f"Thm. 3.1 radius {hull_radius:.3f}")
    if eps2 is not None:
        ax.axvline(eps2, color="0.5", ls=":", label=f"eps_2 = {eps2:g}")
    ax.set_xlabel("eps_2")
    ax.set_ylabel("robust accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def side_by_side(left, right, left_title: str, right_title: str, digits: int = 1):
    """Two DataFrames next to each other as HTML (for notebooks): e.g. the paper's table and ours."""
    from IPython.display import HTML

    def block(frame, title):
        return (f"<div style='display:inline-block;vertical-align:top;margin-right:2em'><b>{title}</b>"
                f"{frame.round(digits).to_html(index=False, na_rep='')}</div>")

    return HTML(block(left, left_title) + block(right, right_title))


def show_study_tables(tables, paper=None, paper_title: str = "paper", digits: int = 1):
    """A group's recorded tables as HTML: the complete revision next to the paper's, then any revision in progress.

    Parameters
    ----------
    tables : lpgeom.experiments.StudyTables
        From :func:`lpgeom.experiments.study_tables`: ``main`` (newest complete revision) and
        ``in_progress`` (a newer, partly recorded one), each one row per model, mean ± std.
    paper : pandas.DataFrame, optional
        The paper's table, shown left of the main table.
    paper_title : str
    digits : int

    Returns
    -------
    IPython.display.HTML
        The tables, each titled with its source (profile, code revision, coverage), and one
        line per note (:meth:`~lpgeom.experiments.StudyTables.notes`: what each revision is,
        which MSD it ran).
    """
    import html

    from IPython.display import HTML

    from ..experiments import mean_std_table

    def block(frame, title):
        return (f"<div style='display:inline-block;vertical-align:top;margin-right:2em'><b>{html.escape(title)}</b>"
                f"{frame.round(digits).to_html(index=False, na_rep='')}</div>")

    parts = [block(paper, paper_title)] if paper is not None else []
    if tables.main is not None:
        parts.append(block(mean_std_table(tables.main, digits), f"ours: {tables.main.attrs['source']}"))
    else:
        parts.append(f"<div style='display:inline-block;vertical-align:top'><b>ours:</b> no code revision of "
                     f"{html.escape(tables.group)} is completely recorded yet</div>")
    if tables.in_progress is not None:
        k, n = tables.in_progress.attrs["coverage"]
        parts.append(f"<div><b>In progress ({k} of {n} units recorded): "
                     f"{html.escape(tables.in_progress.attrs['source'])}</b>"
                     f"{mean_std_table(tables.in_progress, digits).to_html(index=False, na_rep='')}</div>")
    notes = "".join(f"<li>{html.escape(line)}</li>" for line in tables.notes())
    return HTML("".join(parts) + f"<ul style='font-size:85%'>{notes}</ul>")
