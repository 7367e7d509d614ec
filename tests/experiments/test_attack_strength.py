import json

import pytest
import torch

from lpgeom.experiments import SIZES, Unit, run_unit
from lpgeom.experiments.study import revision_folder
from lpgeom.experiments.attack_strength import reattack_frame, reattack_robust_points


@pytest.fixture(scope="module")
def recorded_linf(tmp_path_factory):
    root = tmp_path_factory.mktemp("study")
    unit = Unit("linf", SIZES["smoke"].epochs)
    run_unit(unit, SIZES["smoke"], root / "results", root / "runs")
    return root, unit


@pytest.mark.slow
def test_reattack_can_only_break_recorded_robust_points(recorded_linf):
    root, unit = recorded_linf
    out = reattack_robust_points(unit.name, "smoke", n_target_classes=2, n_iter=5, results_dir=root / "results",
                                 runs_dir=root / "runs", out_dir=root / "checks")
    recorded = json.loads((root / "results" / revision_folder("smoke") / f"{unit.name}.json").read_text())["report"]
    written = json.loads((root / "checks" / f"smoke_{unit.name}.json").read_text())
    assert written["worst_case"] == out["worst_case"] and written["provenance"]["profile"] == "smoke"
    for norm in ("Linf", "L2", "L1", "union"):
        before = torch.tensor(recorded["per_point"][norm], dtype=torch.bool)
        after = torch.tensor(out["per_point"][norm], dtype=torch.bool)
        assert not (after & ~before).any(), f"{norm}: a point the recorded evaluation broke came back"
        assert out["worst_case"][norm] == pytest.approx(after.float().mean().item())
        if norm != "union":
            assert out["broken_by_reattack"][norm] == int((before & ~after).sum())
    assert out["reattack_settings"] == {"method": "autoattack", "n_iter": 5, "n_target_classes": 2, "seed": 1}
    frame = reattack_frame("smoke", root / "checks")
    assert list(frame.loc[unit.name].index) == ["Linf", "L2", "L1", "union"]
    assert (frame.difference <= 0).all() and (frame.broken >= 0).all()
    assert frame.loc[(unit.name, "union"), "worst_case"] == pytest.approx(100 * out["worst_case"]["union"])
    with pytest.raises(FileNotFoundError, match="no re-attack recorded for profile cpu"):
        reattack_frame("cpu", root / "checks")
    assert out["n_points"] == SIZES["smoke"].n_eval


def test_reattack_refuses_missing_or_other_weights(recorded_linf, tmp_path):
    root, unit = recorded_linf
    with pytest.raises(FileNotFoundError, match="no recorded result"):
        reattack_robust_points("l1_e2_s0", "smoke", results_dir=root / "results", runs_dir=root / "runs", out_dir=None)
    with pytest.raises(FileNotFoundError, match="no trained weights"):
        reattack_robust_points(unit.name, "smoke", results_dir=root / "results", runs_dir=tmp_path, out_dir=None)
    record_path = root / "results" / revision_folder("smoke") / f"{unit.name}.json"
    record = json.loads(record_path.read_text())
    other = tmp_path / "results" / revision_folder("smoke") / record_path.name
    other.parent.mkdir(parents=True)
    other.write_text(json.dumps({**record, "model_sha256": "0" * 64}))
    with pytest.raises(ValueError, match="other weights"):
        reattack_robust_points(unit.name, "smoke", results_dir=tmp_path / "results", runs_dir=root / "runs", out_dir=None)
