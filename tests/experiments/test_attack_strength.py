import json

import pytest
import torch

from lpgeom.experiments import SIZES, Unit, run_unit
from lpgeom.experiments.study import revision_folder
from lpgeom.experiments.attack_strength import reattack_frame, reattack_robust_points
from lpgeom.utils import unpack_flags


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
    recorded_flags, out_flags = unpack_flags(recorded["per_point"]), unpack_flags(out["per_point"])
    for norm in ("Linf", "L2", "L1", "union"):
        before, after = recorded_flags[norm], out_flags[norm]
        assert not (after & ~before).any(), f"{norm}: a point the recorded evaluation broke came back"
        assert out["worst_case"][norm] == pytest.approx(after.float().mean().item())
        if norm != "union":
            assert out["broken_by_reattack"][norm] == int((before & ~after).sum())
    assert out["reattack_settings"] == {"method": "autoattack", "n_iter": 5, "n_target_classes": 2, "seed": 1}
    frame = reattack_frame("smoke", root / "checks")
    assert list(frame.loc[unit.name].index) == ["Linf", "L2", "L1", "union"]
    # in percent; recorded float32 accuracies against exact counts differ by float noise (1e-6), far below a point
    assert (frame.difference <= 1e-4).all() and (frame.broken >= 0).all()
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


def _full_check(unit, recorded, worst, broken):
    return {"unit": unit, "n_points": 1000, "recorded": recorded, "worst_case": worst, "broken_by_standard": broken,
            "recorded_settings": {"method": "autoattack", "n_iter": 100, "n_target_classes": 3, "seed": 0},
            "provenance": {"command": "python scripts/full_autoattack_check.py evaluate " + unit, "commit": "abcdef0123456"}}


def test_full_autoattack_frame_puts_both_figures_side_by_side(tmp_path):
    from lpgeom.experiments import full_autoattack_frame

    with pytest.raises(FileNotFoundError, match="no full-AutoAttack check recorded for profile cpu"):
        full_autoattack_frame("cpu", tmp_path)
    empty = full_autoattack_frame("cpu", tmp_path, missing_ok=True)
    assert len(empty) == 0 and empty.attrs["source"].startswith("no full-AutoAttack check recorded")
    recorded = {"Linf": 0.572, "L2": 0.639, "L1": 0.456, "union": 0.446}
    worst = {"Linf": 0.569, "L2": 0.601, "L1": 0.450, "union": 0.420}
    (tmp_path / "cpu_eat_e5_s0.json").write_text(json.dumps(_full_check("eat_e5_s0", recorded, worst,
                                                                        {"Linf": 3, "L2": 38, "L1": 6})))
    (tmp_path / "cpu_linf_e5_s0.diverged.json").write_text(json.dumps({"unit": "linf_e5_s0",
                                                                       "problems": ["training history differs"]}))
    frame = full_autoattack_frame("cpu", tmp_path)
    row = frame.loc["E-AT (l_1 + l_inf) (seed 0)"]
    assert row[("L2", "two APGDs")] == pytest.approx(63.9) and row[("L2", "full AutoAttack")] == pytest.approx(60.1)
    assert row[("L2", "broken")] == 38 and row[("union", "broken")] == 26
    assert list(frame.columns.get_level_values("threat").unique()) == ["Linf", "L2", "L1", "union"]
    assert frame.attrs["diverged"] == {"linf_e5_s0": ["training history differs"]}
    assert "1 models checked" in frame.attrs["source"] and "3 target classes" in frame.attrs["source"]
    assert "abcdef0123" in frame.attrs["provenance"]


def test_retrained_history_is_compared_exactly():
    """The check's verification: any difference in a logged training value is found, with its step."""
    script = _check_script()
    recorded = [{"global_step": 10, "loss": 2.3, "norm": "L1"}, {"global_step": 20, "loss": 2.1, "norm": "Linf"}]
    same = [{**r, "kind": "step", "lr": 0.05} for r in recorded]  # fields the record does not keep are ignored
    assert script.first_history_mismatch(recorded, same) is None
    off = [same[0], {**same[1], "loss": 2.1000000000000005}]
    assert script.first_history_mismatch(recorded, off)["global_step"] == 20
    assert script.first_history_mismatch(recorded, off)["fields"] == ["loss"]
    assert script.first_history_mismatch(recorded, same[:1])["fields"] == ["length"]


def test_full_autoattack_frame_reads_what_the_check_script_writes(tmp_path):
    """The record layout of scripts/full_autoattack_check.py's evaluate step: names a revision-1 MSD as the top-k variant."""
    import pathlib

    from lpgeom.experiments import full_autoattack_frame

    path = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "full_autoattack_check.py"
    source = path.read_text()
    for key in ('"recorded": {**rec["robust_accuracy"], "union": rec["union_accuracy"]}', '"worst_case":',
                '"broken_by_standard": broken', '"recorded_settings":', '_checks(revision) / f"cpu_{unit_name}.json"',
                '"code_revision":'):
        assert key in source, f"the check script no longer writes {key}"
    recorded = {"Linf": 0.5, "L2": 0.6, "L1": 0.4, "union": 0.4}
    (tmp_path / "cpu_msd_e5_s0.json").write_text(json.dumps(_full_check("msd_e5_s0", recorded, recorded,
                                                                        {"Linf": 0, "L2": 0, "L1": 0})))
    frame = full_autoattack_frame("cpu", tmp_path)
    assert list(frame.index) == ["MSD (Maini et al.'s top-k l_1 step) (seed 0)"]


def test_full_autoattack_frame_keeps_code_revisions_apart(tmp_path):
    """A revision-2 check (in r2/) never stands for the revision-1 record of the same unit, and rows say which is which."""
    from lpgeom.experiments import full_autoattack_checks, full_autoattack_frame

    old = {"Linf": 0.5, "L2": 0.6, "L1": 0.4, "union": 0.4}
    new = {"Linf": 0.55, "L2": 0.65, "L1": 0.45, "union": 0.44}
    (tmp_path / "cpu_eat_e5_s0.json").write_text(json.dumps(_full_check("eat_e5_s0", old, old, {})))
    (tmp_path / "r2").mkdir()
    (tmp_path / "r2" / "cpu_eat_e5_s0.json").write_text(json.dumps(
        {**_full_check("eat_e5_s0", new, {**new, "union": 0.40}, {}), "code_revision": 2}))
    assert full_autoattack_checks("cpu", tmp_path, 1)["eat_e5_s0"]["recorded"] == old
    assert full_autoattack_checks("cpu", tmp_path, 2)["eat_e5_s0"]["recorded"] == new
    assert full_autoattack_checks("cpu", tmp_path, 3) == {}
    with pytest.raises(ValueError, match="revision"):
        full_autoattack_checks("cpu", tmp_path, 0)
    both = full_autoattack_frame("cpu", tmp_path)
    assert sorted(both.index) == ["E-AT (l_1 + l_inf) (seed 0, code revision 1)",
                                  "E-AT (l_1 + l_inf) (seed 0, code revision 2)"]
    assert both.attrs["code_revisions"] == [1, 2]
    assert both.loc["E-AT (l_1 + l_inf) (seed 0, code revision 2)", ("union", "broken")] == 40
    second = full_autoattack_frame("cpu", tmp_path, revision=2)
    assert list(second.index) == ["E-AT (l_1 + l_inf) (seed 0)"] and second.attrs["code_revisions"] == [2]


def _check_script():
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "full_autoattack_check.py"
    spec = importlib.util.spec_from_file_location("full_autoattack_check", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def test_check_resumes_over_chunks_saved_at_another_size():
    """A norm a device run attacked in one chunk is reused where the CPU resumes in chunks of 100; no overlap."""
    plan = _check_script().chunk_plan
    assert plan({"0:573"}, 573, 100) == [(0, 573, True)]
    assert plan({"150:200"}, 250, 100) == [(0, 100, False), (100, 150, False), (150, 200, True), (200, 250, False)]
    assert plan([], 0, 100) == []
    with pytest.raises(ValueError, match="does not lie in the 573 points"):
        plan({"0:600"}, 573, 100)
    with pytest.raises(ValueError, match="overlap"):
        plan({"0:100", "50:120"}, 573, 100)
    with pytest.raises(ValueError, match="not 'start:end'"):
        plan({"0-100"}, 573, 100)
    with pytest.raises(ValueError, match="covers no points"):
        plan({"100:100"}, 573, 100)


def test_collect_files_finished_checks_and_keeps_unfinished_chunks_marked(tmp_path, monkeypatch):
    """collect never replaces a filed check or a chunk saved here; kept chunks say where they ran."""
    import tarfile

    script = _check_script()
    monkeypatch.setattr(script, "CHECKS", tmp_path / "checks")
    monkeypatch.setattr(script, "RUNS", tmp_path / "runs")
    run = tmp_path / "device"
    run.mkdir()
    (run / "cpu_max_e5_s1.json").write_text(json.dumps({"unit": "max_e5_s1", "code_revision": 2}))
    (run / "max_e5_s1.standard_Linf.json").write_text(json.dumps({"chunks": {"0:500": {"robust": [1]}}}))
    (run / "avg_e5_s1.standard_Linf.json").write_text(json.dumps({"chunks": {"0:500": {"robust": [1] * 500}}}))
    (run / "avg_e5_s1.standard_L2.json").write_text(json.dumps({"chunks": {"0:10": {"robust": [0] * 10},
                                                                           "50:150": {"robust": [0] * 100},
                                                                           "150:160": {"robust": [0] * 10}}}))
    here = tmp_path / "runs" / "cpu" / "r2"
    here.mkdir(parents=True)
    (here / "avg_e5_s1.standard_L2.json").write_text(json.dumps({"chunks": {"0:100": {"robust": [1] * 100,
                                                                                      "device": "cpu"}}}))
    archive = tmp_path / "full_autoattack.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(run, arcname=".")
    with pytest.raises(SystemExit, match="--ran-on"):
        script.collect(archive, 2, "cuda")
    assert script.collect(archive, 2, "cuda", "one H200") == 0
    assert json.loads((tmp_path / "checks" / "r2" / "cpu_max_e5_s1.json").read_text())["unit"] == "max_e5_s1"
    assert not (here / "max_e5_s1.standard_Linf.json").exists()  # finished: its record holds it
    kept = json.loads((here / "avg_e5_s1.standard_Linf.json").read_text())["chunks"]["0:500"]
    assert kept["device"] == "cuda" and kept["ran_on"] == "one H200" and kept["collected_from"] == archive.name
    l2 = json.loads((here / "avg_e5_s1.standard_L2.json").read_text())["chunks"]
    assert l2["0:100"] == {"robust": [1] * 100, "device": "cpu"}  # saved here first: left as it is
    assert set(l2) == {"0:100", "150:160"}  # 0:10 and 50:150 overlap it: left out; 150:160 kept
    assert script.chunk_plan(l2, 200, 100) == [(0, 100, True), (100, 150, False), (150, 160, True), (160, 200, False)]
    (tmp_path / "checks" / "r2" / "cpu_max_e5_s1.json").write_text("{}")
    script.collect(archive, 2)
    assert (tmp_path / "checks" / "r2" / "cpu_max_e5_s1.json").read_text() == "{}"
    (run / "cpu_max_e5_s1.json").write_text(json.dumps({"unit": "max_e5_s1", "code_revision": 1}))
    with pytest.raises(SystemExit, match="revision-1 record"):
        script.collect(run, 2)


def test_checks_readme_state_table_matches_the_records():
    """The hand-kept state table of data/checks/README.md says what the revision-2 records say, row for row."""
    import pathlib
    import re

    from lpgeom.experiments import full_autoattack_checks
    from lpgeom.experiments.attack_strength import FULL_AUTOATTACK_DIR

    root = pathlib.Path(__file__).resolve().parents[2]
    text = (root / "data" / "checks" / "README.md").read_text()
    checks = full_autoattack_checks("cpu", root / FULL_AUTOATTACK_DIR, 2)
    schemes = {"E-AT": "eat", "l_inf-AT": "linf", "l_1-AT": "l1", "l_2-AT": "l2", "l_2-init. E-AT": "l2-eat",
               "MAX": "max", "AVG": "avg", "MSD (the paper's)": "msd", "MSD": "msd", "SAT": "sat"}
    rows = re.findall(r"^\| ([^|]+?)(?:, seed (\d))? \| ([\d.]+) -> ([\d.]+) \| (\d+), (\d+), (\d+)\b", text, re.M)
    seen = set()
    for label, seed, recorded, full, *broken in rows:
        unit = f"{schemes[label]}_e5_s{seed or 0}"
        assert unit in checks and unit not in seen, f"README row {label!r} seed {seed or 0}: no check, or listed twice"
        seen.add(unit)
        check = checks[unit]
        assert float(recorded) == round(100 * check["recorded"]["union"], 1), unit
        assert float(full) == round(100 * check["worst_case"]["union"], 1), unit
        assert [int(b) for b in broken] == [check["broken_by_standard"][n] for n in ("Linf", "L2", "L1")], unit
    assert seen == set(checks), f"checked but not in the README's table: {sorted(set(checks) - seen)}"
    count = re.search(r"\*\*(?:(\d+) of the|All) 27 Table 1 models are checked", text)
    assert count is not None and int(count.group(1) or 27) == len(checks)
