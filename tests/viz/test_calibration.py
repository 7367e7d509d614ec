import math

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from record_fixtures import full_record  # noqa: E402

from lpgeom.viz.calibration import plot_calibrated_sampling  # noqa: E402


def test_union_bars_probabilities_and_both_l1_error_estimates():
    summary = pd.DataFrame({"seeds": [3, 1, 1], "union": [40.0, 30.0, 20.0], "union_std": [2.0, math.nan, math.nan],
                            "start": ["fine-tuned from l_inf-AT", "fine-tuned from l_inf-AT", "starting model"],
                            "scheme": ["eat-calibrated", "eat", "linf"]},
                           index=pd.Index(["cal", "plain", "l_inf-AT"], name="model"))
    hist = pd.DataFrame({"model": ["cal"] * 2 + ["plain"] * 2, "scheme": ["eat-calibrated"] * 2 + ["eat"] * 2,
                         "start": ["fine-tuned from l_inf-AT"] * 4, "unit": ["a", "a", "b", "b"], "seed": 0,
                         "global_step": [10, 20, 10, 20], "p_L1": [0.5, 0.7, 0.5, 0.55],
                         "rerr_L1": [0.6, 0.5, 0.6, 0.55], "calibrated_rerr_L1": [math.nan, 0.9, math.nan, math.nan]})
    fig = plot_calibrated_sampling(summary, hist, title="t")
    bars, prob, errors = fig.axes
    assert [p.get_width() for p in bars.patches] == [40.0, 30.0], "the starting model is not a bar"
    assert [t.get_text() for t in bars.texts] == ["3 seeds", "1 seed"]
    assert [tuple(line.get_ydata()) for line in prob.lines[:2]] == [(0.5, 0.7), (0.5, 0.55)]
    assert len(errors.lines) == 2 and tuple(errors.lines[1].get_ydata())[1] == 0.9, "only the calibrated run"
    with pytest.raises(ValueError, match="no recorded run"):
        plot_calibrated_sampling(summary.iloc[2:], hist.iloc[:0])


def test_draws_from_records_of_the_calibrated_group(tmp_path):
    """End to end: records in a tmp results folder -> calibrated_frame / calibrated_histories -> the figure."""
    import json

    from lpgeom.experiments import calibrated_frame, calibrated_histories
    from lpgeom.experiments.study import revision_folder
    from lpgeom.experiments.tables import planned_units

    folder = tmp_path / revision_folder("cpu", 2)
    folder.mkdir(parents=True)
    report = {"clean_accuracy": 0.8, "robust_accuracy": {"Linf": 0.5, "L2": 0.4, "L1": 0.3}, "union_accuracy": 0.3,
              "method": "autoattack"}
    steps = [{"global_step": 10 * k, "p_L1": 0.5 + 0.01 * k, "rerr_L1": 0.6, "calibrated_rerr_L1": 0.8} for k in (1, 2)]
    units = planned_units("calibrated", "cpu", 2)  # l_inf-AT, ft-eat s0-2, ft-eat-calibrated s0-2, eat s0-2, ...
    for unit in [units[0], units[1], units[2], units[4]]:
        (folder / f"{unit.name}.json").write_text(json.dumps(full_record(unit.name, "cpu", report, {"code_revision": 2},
                                                                         history=steps)))
    summary, histories = calibrated_frame("cpu", tmp_path), calibrated_histories("cpu", tmp_path)
    fig = plot_calibrated_sampling(summary, histories)
    bars, prob, errors = fig.axes
    assert len(bars.patches) == 2 and [t.get_text() for t in bars.texts] == ["2 seeds", "1 seed"]
    assert len(prob.lines) == 3 + 1 and len(errors.lines) == 2
