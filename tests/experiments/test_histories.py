"""Training histories of recorded units: MAX/MSD per-norm shares per epoch, calibrated E-AT's sampling."""
import json
import math

import pytest
from record_fixtures import full_record

from lpgeom.experiments import calibrated_frame, calibrated_histories, norm_shares_frame
from lpgeom.experiments.histories import calibrated_comparisons
from lpgeom.experiments.study import revision_folder
from lpgeom.experiments.tables import planned_units


def _write(root, unit, revision, history, union=0.2):
    folder = root / revision_folder("cpu", revision)
    folder.mkdir(parents=True, exist_ok=True)
    report = {"union_accuracy": union, "method": "autoattack"}  # robust accuracies: at least the union (full_record)
    prov = {"code_revision": revision} if revision > 1 else {}
    (folder / f"{unit.name}.json").write_text(json.dumps(full_record(unit.name, "cpu", report, prov, history=history)))


def _shares(epoch, l1, linf):
    return {"global_step": 10 * (epoch + 1), "epoch": epoch, "share_L1": l1, "share_L2": 1 - l1 - linf, "share_Linf": linf}


def test_norm_shares_are_averaged_per_epoch_from_revision_2_records(tmp_path):
    units = {u.name: u for u in planned_units("table1", "cpu", 2)}
    missing = norm_shares_frame("cpu", tmp_path)
    assert len(missing) == 0 and missing.attrs["source"].startswith("not recorded yet")
    assert "0 of 6 such runs recorded at revision 2" in missing.attrs["source"]
    _write(tmp_path, units["max_e5_s0"], 1, [{"global_step": 10, "epoch": 0, "loss": 1.0}])  # revision 1: no shares
    assert len(norm_shares_frame("cpu", tmp_path)) == 0
    _write(tmp_path, units["max_e5_s0"], 2, [_shares(0, 0.6, 0.2), _shares(0, 0.4, 0.2), _shares(1, 0.5, 0.3)])
    _write(tmp_path, units["msd_e5_s1"], 2, [_shares(0, 0.7, 0.1), {**_shares(1, 0.2, 0.1), "share_L2": math.nan}])
    frame = norm_shares_frame("cpu", tmp_path)
    assert frame.attrs["code_revision"] == 2 and "2 recorded runs" in frame.attrs["source"]
    max_l1 = frame[(frame.model == "MAX") & (frame.norm == "L1")].set_index("epoch").share
    assert list(max_l1.index) == [1, 2] and max_l1.tolist() == pytest.approx([0.5, 0.5])
    msd = frame[frame.model == "MSD"]
    assert set(msd.seed) == {1} and len(msd[(msd.epoch == 2) & (msd.norm == "L2")]) == 0, "NaN shares are left out"


def test_calibrated_histories_and_summary(tmp_path):
    units = {u.name: u for u in planned_units("calibrated", "cpu", 2)}
    nothing = calibrated_histories("cpu", tmp_path)
    assert nothing.attrs["coverage"] == (0, 12) and "no run recorded yet (0 of 12; the experiment is planned from code " \
        "revision 2 on)" in nothing.attrs["source"]
    steps = [{"global_step": 10, "p_L1": 0.5, "rerr_L1": 0.6, "calibrated_rerr_L1": math.nan},
             {"global_step": 40, "p_L1": 0.7, "rerr_L1": 0.55, "calibrated_rerr_L1": 0.9}]
    ft = "ft-eat-calibrated_e3_s0_from-linf_e5_s0"
    for name, union in ((ft, 0.40), ("ft-eat-calibrated_e3_s1_from-linf_e5_s0", 0.36), ("eat_e5_s0", 0.44)):
        _write(tmp_path, units[name], 2, steps if "calibrated" in name else [{**s, "calibrated_rerr_L1": None}
                                                                           for s in steps], union)
    _write(tmp_path, units["linf_e5_s0"], 2, [])
    hist = calibrated_histories("cpu", tmp_path)
    assert hist.attrs["coverage"] == (3, 12) and hist.attrs["code_revision"] == 2
    run = hist[hist.unit == ft]
    assert run.start.iloc[0] == "fine-tuned from l_inf-AT" and run.p_L1.tolist() == [0.5, 0.7]
    assert math.isnan(run.calibrated_rerr_L1.iloc[0]) and run.calibrated_rerr_L1.iloc[1] == 0.9
    assert hist[hist.unit == "eat_e5_s0"].calibrated_rerr_L1.isna().all()
    summary = calibrated_frame("cpu", tmp_path)
    row = summary.loc["l_inf-AT + FT E-AT, calibrated sampling (3 ep)"]
    assert row.seeds == 2 and row.union == pytest.approx(38.0) and row.union_std == pytest.approx(math.sqrt(8))
    assert summary.loc["l_inf-AT", "start"] == "starting model"
    assert summary.loc["E-AT (l_1 + l_inf)", "start"] == "from scratch"
    assert summary.attrs["coverage"] == (4, 13)
    scratch, tuned = calibrated_comparisons(summary)
    assert scratch == "from scratch: E-AT, calibrated sampling not recorded yet"
    assert tuned == "fine-tuned from l_inf-AT: E-AT (l_1 + l_inf) not recorded yet"
    _write(tmp_path, units["ft-eat_e3_s0_from-linf_e5_s0"], 2, [], 0.26)
    tuned = calibrated_comparisons(calibrated_frame("cpu", tmp_path))[1]
    assert tuned.startswith("fine-tuned from l_inf-AT: union: l_inf-AT + FT E-AT, calibrated sampling (3 ep) 38.0 ± 2.8")
    assert "do not overlap (the one-seed run's spread taken as the other's)" in tuned and "higher by 12.0" in tuned
    (tmp_path / "empty").mkdir()
    assert calibrated_comparisons(calibrated_frame("cpu", tmp_path / "empty"))[0].startswith("from scratch: E-AT (l_1")
    for reader in (calibrated_frame, calibrated_histories, norm_shares_frame):
        with pytest.raises(FileNotFoundError, match="results_dir must be a folder"):
            reader("cpu", tmp_path / "none")
