import math

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

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
