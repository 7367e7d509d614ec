import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from record_fixtures import full_record  # noqa: E402

from lpgeom.viz.norm_shares import plot_norm_shares  # noqa: E402


def test_one_panel_per_scheme_mean_over_seeds_with_a_band():
    rows = [("MAX", s, e, n, v) for s, off in ((0, 0.0), (1, 0.1)) for e in (1, 2)
            for n, v in (("L1", 0.5 + off), ("L2", 0.1), ("Linf", 0.4 - off))]
    rows += [("MSD", 0, 1, "L1", 0.7), ("MSD", 0, 1, "Linf", 0.3)]
    frame = pd.DataFrame(rows, columns=["model", "seed", "epoch", "norm", "share"])
    frame.attrs["source"] = "test records"
    fig = plot_norm_shares(frame)
    max_ax, msd_ax = fig.axes
    assert "MAX (seeds 0, 1)" == max_ax.get_title() and "MSD (seed 0)" == msd_ax.get_title()
    lines = {line.get_label(): tuple(line.get_ydata()) for line in max_ax.lines}
    assert lines["l_1"] == pytest.approx((0.55, 0.55)) and lines["l_inf"] == pytest.approx((0.35, 0.35))
    assert len(max_ax.collections) == 3 and len(msd_ax.collections) == 0, "band only with several seeds"
    assert fig._suptitle.get_text() == "test records"


def test_an_empty_frame_draws_nothing():
    frame = pd.DataFrame(columns=["model", "seed", "epoch", "norm", "share"])
    frame.attrs["source"] = "not recorded yet: ..."
    with pytest.raises(ValueError, match="not recorded yet"):
        plot_norm_shares(frame)


def test_draws_from_revision_2_records(tmp_path):
    import json

    from lpgeom.experiments import norm_shares_frame
    from lpgeom.experiments.study import revision_folder
    from lpgeom.experiments.tables import planned_units

    folder = tmp_path / revision_folder("cpu", 2)
    folder.mkdir(parents=True)
    history = [{"global_step": 10 * (e + 1), "epoch": e, "share_L1": 0.5, "share_L2": 0.2, "share_Linf": 0.3}
               for e in range(3)]
    for unit in planned_units("table1", "cpu", 2):
        if unit.scheme in ("max", "msd") and unit.seed < 2:
            (folder / f"{unit.name}.json").write_text(json.dumps(full_record(unit.name, "cpu", None, {"code_revision": 2},
                                                                             history=history)))
    fig = plot_norm_shares(norm_shares_frame("cpu", tmp_path))
    assert [ax.get_title() for ax in fig.axes] == ["MAX (seeds 0, 1)", "MSD (seeds 0, 1)"]
    assert all(len(ax.lines) == 3 for ax in fig.axes)
