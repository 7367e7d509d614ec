import json

import pytest
import torch
from record_fixtures import full_record

from lpgeom.experiments import SIZES, Unit, coverage, recorded_profile, results_frame
from lpgeom.experiments.study import revision_folder
from lpgeom.experiments.tables import (FULL_AUTOATTACK, TWO_APGDS, complete_revision, planned_units, revision_summary,
                                       study_tables, unit_label)
from lpgeom.utils import unpack_flags


def _record(folder, unit: Unit, profile: str, union: float = 0.2, revision: int = 1, history=None):
    folder.mkdir(parents=True, exist_ok=True)
    report = {"clean_accuracy": 0.8, "robust_accuracy": {"Linf": 0.5, "L2": 0.4, "L1": 0.3}, "union_accuracy": union,
              "method": "autoattack"}
    prov = {"profile": profile, **({"code_revision": revision} if revision > 1 else {})}
    (folder / f"{unit.name}.json").write_text(json.dumps(full_record(unit.name, profile, report, prov, time_per_epoch_s=1.0,
                                                                     history=history or [])))


def _record_all(root, units, profile, revision, union=lambda unit: 0.2):
    for unit in units:
        _record(root / revision_folder(profile, revision), unit, profile, union(unit), revision)


def test_recorded_profile_prefers_the_largest_recorded_scale(tmp_path, monkeypatch):
    monkeypatch.delenv("LPGEOM_RESULTS_PROFILE", raising=False)
    assert recorded_profile("table1", tmp_path) == "smoke", "nothing recorded: fall back to smoke"
    _record(tmp_path / "smoke", Unit("linf", SIZES["smoke"].epochs), "smoke")
    assert recorded_profile("table1", tmp_path) == "smoke"
    _record(tmp_path / "cpu", Unit("eat", SIZES["cpu"].epochs), "cpu")
    assert recorded_profile("table1", tmp_path) == "cpu"
    assert recorded_profile("table9", tmp_path) == "smoke", "the choice is per group"
    n_table1 = len(SIZES["cpu"].schemes)  # revision 1's Table 1 was planned with one seed per scheme
    assert coverage("table1", "cpu", tmp_path) == (1, n_table1)
    frame = results_frame("table1", "cpu", tmp_path)
    assert list(frame.model) == ["E-AT (l_1 + l_inf)"] and frame.union.iloc[0] == pytest.approx(20.0)
    assert frame.attrs["source"].endswith(f"profile cpu, code revision 1, 1 of {n_table1} units recorded")
    monkeypatch.setenv("LPGEOM_RESULTS_PROFILE", "smoke")
    assert recorded_profile("table1", tmp_path) == "smoke"
    monkeypatch.setenv("LPGEOM_RESULTS_PROFILE", "huge")
    with pytest.raises(ValueError, match="huge"):
        recorded_profile("table1", tmp_path)


def test_recorded_cpu_study_is_what_the_profile_says():
    """The committed cpu results: AutoAttack on 1000 points as the profile states, union = AND, provenance."""
    size = SIZES["cpu"]
    from lpgeom.experiments.paper_tables import RESULTS_DIR

    paths = sorted((RESULTS_DIR / "cpu").glob("*.json"))
    assert coverage("table1", "cpu")[0] >= 1 and paths, "no cpu study recorded: run python -m lpgeom reproduce --profile cpu"
    for path in paths:
        record = json.loads(path.read_text())
        rep = record["report"]
        assert rep["method"] == size.eval_method and rep["n_points"] == size.n_eval >= 1000, path.name
        assert rep["n_iter"] == size.eval_iter and rep["n_target_classes"] == size.aa_target_classes, path.name
        assert record["provenance"]["profile"] == "cpu" and record["n_train"] == size.n_train, path.name
        flags = unpack_flags(rep["per_point"])
        union = flags["clean"] & flags["Linf"] & flags["L2"] & flags["L1"]
        assert torch.equal(union, flags["union"]), path.name
        assert union.float().mean().item() == pytest.approx(rep["union_accuracy"]), path.name


def test_provenance_note_accounts_for_every_recorded_unit():
    from lpgeom.experiments import provenance_note
    from lpgeom.experiments.paper_tables import RESULTS_DIR

    paths = sorted((RESULTS_DIR / "cpu").glob("*.json"))
    provs = [json.loads(p.read_text())["provenance"] for p in paths]
    note = provenance_note("cpu", revision=1)  # the records of cpu/ (revision-2 ones live in cpu/r2/)
    assert f"{len(paths)} units" in note and "profile cpu" in note
    assert all(str(p["commit"])[:10] in note and f"`{p['command']}`" in note for p in provs)
    assert min(p["ended"] for p in provs) in note and max(p["ended"] for p in provs) in note


def test_provenance_note_flags_records_whose_commit_was_read_at_writing_time(tmp_path):
    from lpgeom.experiments import provenance_note
    from lpgeom.experiments.provenance import machine, package_versions

    base = {"command": "python -m lpgeom reproduce", "commit": "abc", "dirty": False, "profile": "smoke",
            "versions": package_versions(), "machine": machine(), "ended": "2026-01-01T00:00:00+00:00"}
    names = ["linf_e2_s0", "l2_e2_s0", "l1_e2_s0"]
    for name, extra in zip(names, [{}, {"commit_taken_at": "process start"}, {"correction": "set by hand"}]):
        (tmp_path / "smoke").mkdir(exist_ok=True)
        (tmp_path / "smoke" / f"{name}.json").write_text(json.dumps(full_record(name, "smoke", provenance={**base, **extra})))
    assert "for 1 of the units, the commit checked out when the record was written" in provenance_note("smoke", tmp_path)
    (tmp_path / "smoke" / "linf_e2_s0.json").unlink()
    assert "checked out when" not in provenance_note("smoke", tmp_path)


def test_the_main_table_is_the_newest_complete_revision_and_a_partial_newer_one_is_in_progress(tmp_path):
    """Recording part of revision 2 must not flip the book's table away from the complete revision 1."""
    r1, r2 = planned_units("table1", "cpu", 1), planned_units("table1", "cpu", 2)
    assert len(r1) == len(SIZES["cpu"].schemes) and len(r2) == 3 * len(r1), "revision 1 had 1 seed, revision 2 has 3"
    _record_all(tmp_path, r1, "cpu", 1)
    assert complete_revision("table1", "cpu", tmp_path) == 1
    _record_all(tmp_path, r2[:4], "cpu", 2, union=lambda u: 0.1 + 0.01 * u.seed)  # linf seeds 0-2, l2 seed 0
    assert complete_revision("table1", "cpu", tmp_path) == 1
    frame = results_frame("table1", "cpu", tmp_path)
    assert frame.attrs["code_revision"] == 1 and len(frame) == len(r1) and frame.union.max() == pytest.approx(20.0)
    assert results_frame("table1", "cpu", tmp_path, revision=2).attrs["coverage"] == (4, len(r2)), "explicit override"
    tables = study_tables("table1", "cpu", tmp_path)
    assert tables.main.attrs["code_revision"] == 1 and tables.in_progress.attrs["code_revision"] == 2
    assert tables.revision == 1, "the chapter's figures read the complete revision"
    progress = tables.in_progress
    assert list(progress.index) == ["l_inf-AT", "l_2-AT"] and list(progress.seeds) == [3, 1]
    assert progress.loc["l_inf-AT", "union"] == pytest.approx(11.0)
    assert progress.loc["l_inf-AT", "union_std"] == pytest.approx(1.0)
    notes = "\n".join(tables.notes())
    assert f"in progress: lpgeom, fashion_mnist, small_cnn, profile cpu, code revision 2, 4 of {len(r2)} units recorded; " \
        "code revision 2: APGD" in notes
    assert f"main table: lpgeom, fashion_mnist, small_cnn, profile cpu, code revision 1 (all {len(r1)} units recorded)" in notes
    assert "faithful to AutoAttack" in notes and "SLIDE" in notes and "3 seeds per row" in notes
    _record_all(tmp_path, r2, "cpu", 2)
    tables = study_tables("table1", "cpu", tmp_path)
    assert complete_revision("table1", "cpu", tmp_path) == 2 and tables.in_progress is None
    assert tables.main.attrs["code_revision"] == 2 and set(tables.main.seeds) == {3}


def test_tables_compared_across_groups_come_from_one_revision_in_every_state_of_a_rerun(tmp_path):
    """The fine-tuning chapter compares Tables 7, 8, 9 (and 1) at Table 7's revision while revision 2
    of some is complete, some partly recorded and some not begun: no revision-1 run enters, nothing raises."""
    for group in ("table1", "table7", "table8", "table9"):
        _record_all(tmp_path, planned_units(group, "cpu", 1), "cpu", 1, union=lambda u: 0.1)
    r2_t7, r2_t8 = planned_units("table7", "cpu", 2), planned_units("table8", "cpu", 2)
    _record_all(tmp_path, r2_t7 + r2_t8[:3], "cpu", 2, union=lambda u: 0.3)  # Table 9 not begun at revision 2
    joint = revision_summary(("table7", "table8", "table9"), "cpu", revision=2, results_dir=tmp_path)
    assert joint.attrs["code_revision"] == 2 and list(joint.union) == pytest.approx([30.0] * len(joint)), "only revision-2 runs"
    ft_linf = [unit_label(u, 2) for u in r2_t7 if u.init is not None and u.init.startswith("linf")][0]
    assert joint.loc[ft_linf, "seeds"] == 3, "a model in several groups is kept once, from the first (Table 7's 3 seeds)"
    assert "table9: nothing recorded at code revision 2" in joint.attrs["source"]
    assert f"table8: lpgeom, fashion_mnist, small_cnn, profile cpu, code revision 2, 3 of {len(r2_t8)} units" \
        in joint.attrs["source"]
    assert not any(m.startswith("natural + FT") for m in joint.index)
    r1 = revision_summary(("table7", "table9"), "cpu", revision=1, results_dir=tmp_path)
    assert list(r1.union) == pytest.approx([10.0] * len(r1)) and any(m.startswith("natural + FT") for m in r1.index)
    assert revision_summary(("table7",), "cpu", results_dir=tmp_path).attrs["code_revision"] == 2, \
        "default: the first group's shown revision (Table 7 is complete at revision 2)"
    for bad in ((), "table7"):
        with pytest.raises(ValueError, match="non-empty sequence of group names"):
            revision_summary(bad, "cpu", 2, tmp_path)


def test_nothing_complete_shows_only_the_revision_in_progress(tmp_path):
    units = planned_units("calibrated", "cpu", 2)
    assert planned_units("calibrated", "cpu", 1) == [], "the calibrated experiment came with revision 2"
    _record(tmp_path / "cpu", units[0], "cpu")  # l_inf-AT at revision 1 belongs to other tables
    assert study_tables("calibrated", "cpu", tmp_path).in_progress is None
    _record_all(tmp_path, units[:2], "cpu", 2)
    tables = study_tables("calibrated", "cpu", tmp_path)
    assert tables.main is None and tables.in_progress.attrs["coverage"] == (2, len(units)) and tables.revision == 2
    assert study_tables("table9", "cpu", tmp_path).notes() == ["no recorded results for table9"]
    assert study_tables("calibrated", "cpu", tmp_path).notes()[-1].startswith("time_per_epoch_s: "), \
        "a table with recorded times says what they measure"


def test_msd_rows_are_named_for_the_l1_step_they_ran():
    msd = Unit("msd", 5)
    assert unit_label(msd, 1) == "MSD (Maini et al.'s top-k l_1 step)"
    assert unit_label(msd, 2) == "MSD"
    assert unit_label(Unit("eat", 3, 0, "msd_e5_s0"), 1).startswith("MSD (Maini et al.'s top-k l_1 step) + FT")


def test_msd_note_where_msd_is_compared(tmp_path):
    _record_all(tmp_path, planned_units("table1", "cpu", 1), "cpu", 1)
    notes = study_tables("table1", "cpu", tmp_path).notes()
    assert any("did not use" in n and "SLIDE" in n for n in notes)
    assert not any("did not use" in n for n in study_tables("table6", "cpu", tmp_path).notes())


def _full_check(unit, recorded, worst):
    return {"unit": unit, "n_points": 1000, "recorded": recorded, "worst_case": worst, "broken_by_standard": {},
            "recorded_settings": {}, "provenance": {"command": "c", "commit": "abc"}}


def test_full_autoattack_figure_replaces_the_two_apgds_only_for_the_record_it_checked(tmp_path):
    units = planned_units("table1", "cpu", 1)
    _record_all(tmp_path / "results", units, "cpu", 1)
    checks = tmp_path / "checks"
    checks.mkdir()
    recorded = {"Linf": 0.5, "L2": 0.4, "L1": 0.3, "union": 0.2}
    worst = {"Linf": 0.45, "L2": 0.1, "L1": 0.3, "union": 0.05}
    (checks / "cpu_eat_e5_s0.json").write_text(json.dumps(_full_check("eat_e5_s0", recorded, worst)))
    stale = {**recorded, "union": 0.25}  # a check of another evaluation of l2_e5_s0: not applied
    (checks / "cpu_l2_e5_s0.json").write_text(json.dumps(_full_check("l2_e5_s0", stale, worst)))
    other = {**_full_check("l1_e5_s0", recorded, worst), "retrained": {"record_commit": "not-the-records"}}
    (checks / "cpu_l1_e5_s0.json").write_text(json.dumps(other))  # same figures, another record's commit
    frame = results_frame("table1", "cpu", tmp_path / "results", checks_dir=checks).set_index("unit")
    assert frame.loc["eat_e5_s0", "evaluation"] == FULL_AUTOATTACK and frame.loc["eat_e5_s0", "union"] == pytest.approx(5.0)
    assert frame.loc["eat_e5_s0", "l2"] == pytest.approx(10.0) and frame.loc["eat_e5_s0", "clean"] == pytest.approx(80.0)
    assert frame.loc["l2_e5_s0", "evaluation"] == TWO_APGDS and frame.loc["l2_e5_s0", "union"] == pytest.approx(20.0)
    assert frame.loc["l1_e5_s0", "evaluation"] == TWO_APGDS
    plain = results_frame("table1", "cpu", tmp_path / "results").set_index("unit")
    assert (plain.evaluation == TWO_APGDS).all() and plain.loc["eat_e5_s0", "union"] == pytest.approx(20.0)
    main = study_tables("table1", "cpu", tmp_path / "results", checks_dir=checks).main
    assert main.loc["E-AT (l_1 + l_inf)", "evaluation"] == FULL_AUTOATTACK


def test_revision_note_says_the_code_and_the_seeds_per_row():
    from lpgeom.experiments.tables import revision_note

    assert revision_note(2, "table7", "cpu").endswith("MSD with SLIDE's l_1 step; 1 to 3 seeds per row")
    assert revision_note(1, "table1", "cpu").endswith("; 1 seed per row")
    assert revision_note(1, "calibrated", "cpu").endswith("the group was not planned at this revision")
    with pytest.raises(ValueError, match="revision must be one of"):
        revision_note(7, "table1", "cpu")


def test_a_missing_results_folder_is_refused_not_read_as_an_empty_table(tmp_path):
    from lpgeom.experiments import benchmark_record, l2_curves

    for call in (lambda: results_frame("table1", "cpu", tmp_path / "nonexistent"),
                 lambda: study_tables("table1", "cpu", tmp_path / "nonexistent"),
                 lambda: l2_curves("cpu", tmp_path / "nonexistent")):
        with pytest.raises(FileNotFoundError, match="results_dir must be a folder of recorded results, got .*nonexistent"):
            call()
    assert len(results_frame("table1", "cpu", tmp_path)) == 0, "an existing folder with nothing recorded: an empty table"
    with pytest.raises(ValueError, match="name must be a benchmark's name"):
        benchmark_record("../../pyproject")


def test_full_autoattack_checks_apply_to_records_of_their_own_code_revision(tmp_path):
    """A check of a revision-1 record never replaces a revision-2 record's figures (same unit name), and vice versa."""
    units = planned_units("table1", "cpu", 2)
    _record_all(tmp_path / "results", units, "cpu", 2)
    checks = tmp_path / "checks"
    (checks / "r2").mkdir(parents=True)
    recorded = {"Linf": 0.5, "L2": 0.4, "L1": 0.3, "union": 0.2}
    worst = {"Linf": 0.45, "L2": 0.1, "L1": 0.3, "union": 0.05}
    (checks / "cpu_eat_e5_s0.json").write_text(json.dumps(_full_check("eat_e5_s0", recorded, worst)))
    frame = results_frame("table1", "cpu", tmp_path / "results", revision=2, checks_dir=checks).set_index("unit")
    assert (frame.evaluation == TWO_APGDS).all(), "a revision-1 check was applied to a revision-2 record"
    (checks / "r2" / "cpu_eat_e5_s1.json").write_text(json.dumps({**_full_check("eat_e5_s1", recorded, worst),
                                                                   "code_revision": 2}))
    frame = results_frame("table1", "cpu", tmp_path / "results", revision=2, checks_dir=checks).set_index("unit")
    assert frame.loc["eat_e5_s1", "evaluation"] == FULL_AUTOATTACK and frame.loc["eat_e5_s1", "union"] == pytest.approx(5.0)
    assert frame.loc["eat_e5_s0", "evaluation"] == TWO_APGDS


def test_provenance_note_says_when_a_recorded_command_names_a_script_outside_the_repository():
    from lpgeom.experiments.tables import _command_text

    assert _command_text("python -m lpgeom reproduce --profile cpu") == "`python -m lpgeom reproduce --profile cpu`"
    assert _command_text("python scripts/full_autoattack_check.py --profile cpu").endswith("`")  # in the repository
    outside = _command_text("python /work/scratch/run_units.py ft-l2_e3_s0_from-l1_e5_s0")
    assert "not part of this repository" in outside and "run_units.py ft-l2_e3_s0_from-l1_e5_s0" in outside
    assert "not part of this repository" in _command_text("python missing_script.py")


def test_study_table_notes_name_the_radii_and_a_flagged_record_carries_its_flag(tmp_path):
    import json
    import shutil

    from lpgeom.evaluation import FLAG
    from lpgeom.experiments import results_frame, study_tables
    from lpgeom.experiments.paper_tables import RESULTS_DIR

    source = RESULTS_DIR / "smoke"
    shutil.copytree(source, tmp_path / "smoke")
    notes = study_tables("table1", "smoke", tmp_path).notes()
    assert any("; radii Linf" in line for line in notes), notes
    frame = results_frame("table1", "smoke", tmp_path)
    unit = frame["unit"].iloc[0]
    path = next((tmp_path / "smoke").rglob(f"{unit}.json"))
    record = json.loads(path.read_text())
    record["report"]["sanity"] = {"flagged": True, "checks": {"zero_gradients": {"passed": False, "detail": "x"}}}
    path.write_text(json.dumps(record))
    flagged = results_frame("table1", "smoke", tmp_path)
    assert flagged.loc[flagged["unit"] == unit, "model"].iloc[0].endswith(FLAG)
    assert not frame["model"].str.endswith(FLAG).any()
