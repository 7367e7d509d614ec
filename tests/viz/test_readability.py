"""Text in the book's matplotlib figures is at least MIN_TEXT_PX CSS px as the book displays it."""
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from lpgeom.viz.readability import BOOK_COLUMN_PX, MIN_TEXT_PX, smallest_text_px  # noqa: E402


def readable(fig):
    px, text = smallest_text_px(fig)
    plt.close(fig)
    assert px >= MIN_TEXT_PX, f"{text!r} shows at {px:.1f} px in a {BOOK_COLUMN_PX} px column"


def test_the_measure_scales_wide_figures_down():
    fig, ax = plt.subplots(figsize=(BOOK_COLUMN_PX / 100, 2))
    ax.set_title("t", fontsize=9)
    assert smallest_text_px(fig)[0] == pytest.approx(min(9 * 100 / 72, 10 * 100 / 72))  # ticks are 10 pt
    fig.set_figwidth(2 * BOOK_COLUMN_PX / 100)  # twice the column: shown at half size
    assert smallest_text_px(fig)[0] == pytest.approx(9 * 100 / 72 / 2)
    plt.close(fig)


def test_union_and_hull_figure():
    from lpgeom.viz import plot_union_and_hull

    readable(plot_union_and_hull(1.5, 1.0, 2))


def test_perturbations_figure_with_its_colour_scale():
    from lpgeom.viz import plot_perturbations

    x = torch.rand(2, 3, 8, 8)
    fig = plot_perturbations(x, {n: (x + 0.01 * torch.randn_like(x)).clamp(0, 1) for n in ("Linf", "L2", "L1")})
    assert any("|δ|" in (ax.get_ylabel() or "") for ax in fig.axes), "no colour scale for |delta|"
    readable(fig)


def test_panel_picture():
    from lpgeom.viz.plane import plot_union_and_hull

    readable(plot_union_and_hull(1.5, 1.0, 2, panels=("union", "hull ball")))


def test_calibrated_sampling_figure():
    from lpgeom.viz.calibration import plot_calibrated_sampling

    summary = pd.DataFrame({"seeds": [3, 1], "union": [40.0, 30.0], "union_std": [2.0, math.nan],
                            "start": ["fine-tuned from l_inf-AT"] * 2, "scheme": ["eat-calibrated", "eat"]},
                           index=pd.Index(["cal", "plain"], name="model"))
    hist = pd.DataFrame({"model": ["cal"] * 2 + ["plain"] * 2, "scheme": ["eat-calibrated"] * 2 + ["eat"] * 2,
                         "start": ["fine-tuned from l_inf-AT"] * 4, "unit": ["a", "a", "b", "b"], "seed": 0,
                         "global_step": [10, 20, 10, 20], "p_L1": [0.5, 0.7, 0.5, 0.55],
                         "rerr_L1": [0.6, 0.5, 0.6, 0.55], "calibrated_rerr_L1": [math.nan, 0.9, math.nan, math.nan]})
    readable(plot_calibrated_sampling(summary, hist, title="recorded by a command, profile cpu"))
