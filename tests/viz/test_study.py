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


def test_study_tables_show_the_complete_revision_and_the_one_in_progress():
    from lpgeom.experiments import StudyTables
    from lpgeom.viz.study import show_study_tables

    def summary(revision, coverage, union, std):
        frame = pd.DataFrame({"seeds": [3], "union": [union], "union_std": [std]}, index=pd.Index(["E-AT"], name="model"))
        frame.attrs.update(source=f"profile cpu, code revision {revision}", coverage=coverage, code_revision=revision,
                           revision_note=f"code revision {revision}: what it is")
        return frame

    tables = StudyTables("table1", summary(1, (9, 9), 44.6, float("nan")), summary(2, (4, 27), 41.04, 1.23))
    html = show_study_tables(tables, pd.DataFrame({"union": [42.5]}), "paper").data
    assert html.index("paper") < html.index("42.5") < html.index("code revision 1") < html.index("44.6")
    assert "In progress (4 of 27 units recorded)" in html and "41.0 ± 1.2" in html
    assert "in progress: profile cpu, code revision 2; code revision 2: what it is" in html
    assert "main table: profile cpu, code revision 1 (all 9 units recorded)" in html
    html = show_study_tables(StudyTables("calibrated", None, summary(2, (1, 13), 30.0, float("nan")))).data
    assert "no code revision of calibrated is completely recorded yet" in html
