import json

import pytest

from lpgeom.experiments import SIZES, Unit, coverage, recorded_profile, results_frame


def _record(folder, unit: Unit, profile: str):
    folder.mkdir(parents=True, exist_ok=True)
    report = {"clean_accuracy": 0.8, "robust_accuracy": {"Linf": 0.5, "L2": 0.4, "L1": 0.3}, "union_accuracy": 0.2}
    (folder / f"{unit.name}.json").write_text(json.dumps({"report": report, "time_per_epoch_s": 1.0,
                                                          "provenance": {"profile": profile}}))


def test_recorded_profile_prefers_the_largest_recorded_scale(tmp_path, monkeypatch):
    monkeypatch.delenv("LPGEOM_RESULTS_PROFILE", raising=False)
    assert recorded_profile("table1", tmp_path) == "smoke", "nothing recorded: fall back to smoke"
    _record(tmp_path / "smoke", Unit("linf", SIZES["smoke"].epochs), "smoke")
    assert recorded_profile("table1", tmp_path) == "smoke"
    _record(tmp_path / "cpu", Unit("eat", SIZES["cpu"].epochs), "cpu")
    assert recorded_profile("table1", tmp_path) == "cpu"
    assert recorded_profile("table9", tmp_path) == "smoke", "the choice is per group"
    n_table1 = len(SIZES["cpu"].schemes) * len(SIZES["cpu"].table1_seeds)
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
        flags = rep["per_point"]
        union = [c & a & b & d for c, a, b, d in zip(flags["clean"], flags["Linf"], flags["L2"], flags["L1"])]
        assert union == flags["union"] and sum(union) / len(union) == pytest.approx(rep["union_accuracy"]), path.name


def test_provenance_note_accounts_for_every_recorded_unit():
    from lpgeom.experiments import provenance_note
    from lpgeom.experiments.paper_tables import RESULTS_DIR

    paths = sorted((RESULTS_DIR / "cpu").glob("*.json"))
    provs = [json.loads(p.read_text())["provenance"] for p in paths]
    note = provenance_note("cpu")
    assert f"{len(paths)} units" in note and "profile cpu" in note
    assert all(str(p["commit"])[:10] in note and f"`{p['command']}`" in note for p in provs)
    assert min(p["ended"] for p in provs) in note and max(p["ended"] for p in provs) in note


def test_provenance_note_flags_records_whose_commit_was_read_at_writing_time(tmp_path):
    from lpgeom.experiments import provenance_note
    from lpgeom.experiments.provenance import machine, package_versions

    base = {"command": "python -m lpgeom reproduce", "commit": "abc", "dirty": False, "profile": "smoke",
            "versions": package_versions(), "machine": machine(), "ended": "2026-01-01T00:00:00+00:00"}
    for i, extra in enumerate([{}, {"commit_taken_at": "process start"}, {"correction": "set by hand"}]):
        (tmp_path / "smoke").mkdir(exist_ok=True)
        (tmp_path / "smoke" / f"u{i}.json").write_text(json.dumps({"provenance": {**base, **extra}}))
    assert "for 1 of the units, the commit checked out when the record was written" in provenance_note("smoke", tmp_path)
    (tmp_path / "smoke" / "u0.json").unlink()
    assert "checked out when" not in provenance_note("smoke", tmp_path)
