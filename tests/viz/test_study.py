import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from lpgeom.viz.study import plot_l2_curves, plot_sampling_history, side_by_side  # noqa: E402


def test_sampling_history_draws_both_probabilities_and_errors():
    frame = pd.DataFrame({"global_step": [10, 20, 30], "p_L1": [0.5, 0.55, 0.6], "p_Linf": [0.5, 0.45, 0.4],
                          "rerr_L1": [0.9, 0.8, 0.7], "rerr_Linf": [0.9, 0.7, 0.5]})
    fig = plot_sampling_history(frame)
    probabilities, errors = fig.axes
    assert [tuple(line.get_ydata()) for line in probabilities.lines] == [(0.5, 0.55, 0.6), (0.5, 0.45, 0.4)]
    assert [tuple(line.get_ydata()) for line in errors.lines] == [(0.9, 0.8, 0.7), (0.9, 0.7, 0.5)]
    assert probabilities.get_ylim() == (0, 1)


def test_l2_curves_in_percent_with_both_radii_marked():
    fig = plot_l2_curves({"E-AT": {"eps": [0.5, 1.0], "accuracy": [0.6, 0.4]}}, hull_radius=1.095, eps2=1.0)
    ax = fig.axes[0]
    assert tuple(ax.lines[0].get_ydata()) == pytest.approx((60.0, 40.0))
    assert [line.get_xdata()[0] for line in ax.lines[1:]] == [1.095, 1.0]


def test_side_by_side_shows_both_tables_with_titles():
    html = side_by_side(pd.DataFrame({"union": [44.56]}), pd.DataFrame({"union": [41.0]}), "paper", "ours").data
    assert html.index("paper") < html.index("44.6") < html.index("ours") < html.index("41.0")
