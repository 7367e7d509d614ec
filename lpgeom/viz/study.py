"""Figures of the recorded study: E-AT's sampling over training, l_2 robustness curves."""
from __future__ import annotations

__all__ = ["plot_sampling_history", "plot_l2_curves", "side_by_side"]


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
