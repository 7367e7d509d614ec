import json
import subprocess
import sys

import pytest
from record_fixtures import full_record

import lpgeom
from lpgeom.experiments import GROUPS, SIZES, Unit, plan, provenance, results_frame, study_size
from lpgeom.experiments.study import revision_folder
from lpgeom.threats import fashion_mnist_threats


def test_smoke_is_small_and_cpu_follows_the_paper():
    smoke, cpu = SIZES["smoke"], SIZES["cpu"]
    assert smoke.n_train <= 4096 and smoke.epochs <= 2 and smoke.eval_method == "apgd"
    assert cpu.eval_method == "autoattack" and cpu.eval_iter == 100 and cpu.n_eval >= 1000
    assert cpu.ft_epochs == 3 and cpu.steps == 10 and len(cpu.seeds) >= 3
    assert min(cpu.ft_epochs_grid) == 1 and max(cpu.ft_epochs_grid) == 15, "Tables 8/9: 1 to 15 epochs"
    assert set(cpu.schemes) == {"linf", "l2", "l1", "eat", "l2-eat", "max", "avg", "msd", "sat"}


def test_radii_satisfy_theorem_3_1():
    t = fashion_mnist_threats()
    d = 784
    assert lpgeom.hull_radius(t["L1"].eps, t["Linf"].eps, 2, d) > t["L2"].eps > lpgeom.union_radius(t["L1"].eps, t["Linf"].eps, 2, d)


def test_plan_dependencies_and_names():
    units = plan(SIZES["cpu"])
    assert set(units) == set(GROUPS)
    for group, us in units.items():
        names = [u.name for u in us]
        for u in us:
            if u.init is not None:
                assert u.init in names[: names.index(u.name)], f"{group}: {u.name} before its starting model"
    assert Unit("eat", 3, 0, "linf_e6_s0").name == "ft-eat_e3_s0_from-linf_e6_s0"
    with pytest.raises(ValueError, match="unknown groups"):
        plan(SIZES["smoke"], ["table99"])


def test_provenance_fields():
    import datetime as dt

    p = provenance("smoke", 3, dt.datetime.now(dt.timezone.utc), command="python -m lpgeom reproduce")
    assert p["seed"] == 3 and p["profile"] == "smoke" and p["versions"]["torch"] and p["machine"]["cores"] >= 1
    assert p["wall_seconds"] >= 0 and "commit" in p


def test_provenance_names_the_commit_seen_first_not_the_checkout_at_writing_time(monkeypatch):
    """A study that outlives a commit must not attribute its records to code it never imported."""
    import datetime as dt
    import importlib
    import subprocess as sp

    prov = importlib.import_module("lpgeom.experiments.provenance")  # the module (the package exports the function)

    prov.code_state.cache_clear()
    monkeypatch.setattr(prov.subprocess, "run", lambda *a, **k: sp.CompletedProcess(a, 0, stdout="aaaa\n"))
    started = prov.start_clock()  # how recorded runs start: fixes the code state
    first = prov.code_state()
    monkeypatch.setattr(prov.subprocess, "run", lambda *a, **k: sp.CompletedProcess(a, 0, stdout="bbbb\n"))
    p = provenance("smoke", 0, started)
    prov.code_state.cache_clear()
    assert first["commit"] == "aaaa" and p["commit"] == "aaaa"


def test_recorded_smoke_results_are_complete():
    frame = results_frame("table1", "smoke")
    assert len(frame) == len(SIZES["smoke"].schemes), "data/results/smoke misses Table 1 units: run lpgeom reproduce"
    assert (frame["union"] <= frame[["linf", "l2", "l1"]].min(axis=1) + 1e-9).all()


@pytest.mark.slow
def test_reproduce_cli_runs_and_resumes(tmp_path):
    args = [sys.executable, "-m", "lpgeom", "reproduce", "--profile", "smoke", "--only", "table8",
            "--results-dir", str(tmp_path / "results"), "--runs-dir", str(tmp_path / "runs")]
    out = subprocess.run(args, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    files = sorted((tmp_path / "results" / revision_folder("smoke")).glob("*.json"))
    assert [f.stem for f in files] == ["ft-eat_e1_s0_from-linf_e2_s0", "linf_e2_s0"]
    record = json.loads(files[0].read_text())
    assert record["provenance"]["profile"] == "smoke" and record["report"]["n_points"] == study_size("smoke").n_eval
    mtime = files[0].stat().st_mtime
    again = subprocess.run(args, capture_output=True, text=True)
    assert again.returncode == 0 and files[0].stat().st_mtime == mtime, "a finished unit must be skipped"


def test_unit_names_round_trip():
    from lpgeom.experiments import unit_from_name

    every_planned = [u for size in SIZES.values() for units in plan(size).values() for u in units]
    for unit in (Unit("linf", 5, 0), Unit("l2-eat", 80, 4), Unit("natural", 2, 1), *every_planned):
        assert unit_from_name(unit.name) == unit
    for bad in ("linf", "linf_e5", "LINF_e5_s0", "ft-eat_e3_s0", "ft-eat_e3_s0_from-linf", "ft-eat_e3_s0_from-ft-x"):
        with pytest.raises(ValueError, match="not a unit name"):
            unit_from_name(bad)


def test_weights_digest_sees_every_value():
    import torch

    from lpgeom.experiments import weights_digest

    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    before = weights_digest(model)
    assert before == weights_digest(model) and len(before) == 64
    with torch.no_grad():
        model[0].bias[1] += 1e-6
    assert weights_digest(model) != before
    after_bias = weights_digest(model)
    model[1].num_batches_tracked += 1  # 0-dim buffers count too
    assert weights_digest(model) != after_bias


@pytest.mark.slow
def test_lost_starting_model_is_retrained_identically(tmp_path):
    """runs/ is not committed: fine-tuning from a recorded unit whose weights are gone retrains it, bit for bit."""
    import shutil

    from lpgeom.experiments import load_result, run_study

    results, runs = tmp_path / "results", tmp_path / "runs"
    run_study("smoke", ["table8"], results, runs, log=lambda *_: None)
    base, ft = plan(SIZES["smoke"], ["table8"])["table8"]
    recorded = load_result(results, "smoke", base)
    folder = revision_folder("smoke")
    base_mtime = (results / folder / f"{base.name}.json").stat().st_mtime
    shutil.rmtree(runs)
    (results / folder / f"{ft.name}.json").unlink()
    run_study("smoke", ["table8"], results, runs, log=lambda *_: None)
    assert (runs / folder / base.name / "model.pt").is_file(), "the starting model was trained again"
    assert (results / folder / f"{base.name}.json").stat().st_mtime == base_mtime, "its recorded result was kept"
    assert load_result(results, "smoke", ft)["report"]["n_points"] == SIZES["smoke"].n_eval
    assert recorded["model_sha256"] == _digest_of_checkpoint(runs / folder / base.name / "model.pt")
    assert load_result(results, "smoke", ft)["start"] == {"unit": base.name, "model_sha256": recorded["model_sha256"],
                                                          "verified": True}


def _digest_of_checkpoint(path):
    from lpgeom.experiments import weights_digest
    from lpgeom.experiments.study import new_model
    from lpgeom.models import load_weights, read_state_dict

    model = new_model(SIZES["smoke"])
    load_weights(model, read_state_dict(path), source=str(path))
    return weights_digest(model)


def test_table1_has_three_seeds_per_scheme_and_the_calibrated_experiment_is_planned():
    cpu = SIZES["cpu"]
    table1 = plan(cpu, ["table1"])["table1"]
    assert len(table1) == 3 * len(cpu.schemes) and {u.seed for u in table1} == {0, 1, 2}
    calibrated = plan(cpu, ["calibrated"])["calibrated"]
    tuned = [u for u in calibrated if u.init is not None]
    scratch = [u for u in calibrated if u.init is None and u.scheme != "linf"]
    assert calibrated[0] == Unit("linf", cpu.epochs), "the l_inf-AT starting model first"
    assert sorted((u.scheme, u.seed) for u in tuned) == sorted((s, seed) for s in ("eat", "eat-calibrated") for seed in cpu.seeds)
    assert all(u.init == "linf_e5_s0" and u.epochs == cpu.ft_epochs for u in tuned)
    assert sorted((u.scheme, u.seed) for u in scratch) == sorted(
        (s, seed) for s in ("eat", "eat-calibrated") for seed in cpu.seeds)


def test_study_size_is_built_by_keywords():
    from lpgeom.experiments import StudySize

    with pytest.raises(TypeError):
        StudySize("x", "fashion_mnist", "small_cnn", 16, 100, 1, 1, 1, "apgd", 1, 10, 8, ("linf",), (0,), (1,), 1)


def _save_start(runs, folder, name):
    import torch

    from lpgeom.experiments import new_model, weights_digest
    from lpgeom.utils import atomic_torch_save

    torch.manual_seed(0)
    model = new_model(SIZES["smoke"])
    (runs / folder / name).mkdir(parents=True)
    atomic_torch_save(model.state_dict(), runs / folder / name / "model.pt")
    return weights_digest(model)


def test_starting_model_found_in_runs_is_checked_against_its_record(tmp_path):
    """A fine-tuning unit whose starting weights are found (not retrained) still checks their digest."""
    from lpgeom.experiments.provenance import CODE_REVISION
    from lpgeom.experiments.study import _starting_model

    size, results, runs = SIZES["smoke"], tmp_path / "results", tmp_path / "runs"
    base, ft = plan(size, ["table8"])["table8"]
    folder = revision_folder("smoke")
    digest = _save_start(runs, folder, base.name)
    path, found, verified = _starting_model(ft, size, results, runs, None, None)
    assert found == digest and not verified, "no record: digest kept, not verified"
    (results / folder).mkdir(parents=True)
    record = full_record(base.name, "smoke", provenance={"code_revision": CODE_REVISION}, model_sha256=digest)
    (results / folder / f"{base.name}.json").write_text(json.dumps(record))
    assert _starting_model(ft, size, results, runs, None, None)[1:] == (digest, True)
    (results / folder / f"{base.name}.json").write_text(json.dumps({**record, "model_sha256": "0" * 64}))
    with pytest.raises(RuntimeError, match="is not the recorded"):
        _starting_model(ft, size, results, runs, None, None)


def test_results_of_different_code_revisions_never_share_a_table(tmp_path):
    from lpgeom.experiments import load_result, results_frame
    from lpgeom.experiments.provenance import CODE_REVISION, CODE_REVISIONS

    assert CODE_REVISION == max(CODE_REVISIONS) >= 2
    units = plan(SIZES["smoke"], ["table1"])["table1"]
    report = {"clean_accuracy": 0.8, "robust_accuracy": {"Linf": 0.5, "L2": 0.4, "L1": 0.3}, "union_accuracy": 0.2}
    for unit in units:  # every unit at revision 1 (the legacy folder)
        (tmp_path / "smoke").mkdir(exist_ok=True)
        (tmp_path / "smoke" / f"{unit.name}.json").write_text(json.dumps(full_record(unit.name, "smoke", report)))
    assert len(results_frame("table1", "smoke", tmp_path)) == len(units)
    assert results_frame("table1", "smoke", tmp_path).attrs["code_revision"] == 1
    newer = full_record(units[0].name, "smoke", {**report, "union_accuracy": 0.1}, {"code_revision": CODE_REVISION})
    (tmp_path / revision_folder("smoke")).mkdir(parents=True)
    (tmp_path / revision_folder("smoke") / f"{units[0].name}.json").write_text(json.dumps(newer))
    frame = results_frame("table1", "smoke", tmp_path, revision=CODE_REVISION)  # default: the complete revision 1
    assert len(frame) == 1 and frame.union.iloc[0] == pytest.approx(10.0), "the newest revision alone, not a mixture"
    assert f"code revision {CODE_REVISION}, 1 of {len(units)} units recorded" in frame.attrs["source"]
    assert len(results_frame("table1", "smoke", tmp_path, revision=1)) == len(units)
    assert load_result(tmp_path, "smoke", units[1])["report"]["union_accuracy"] == 0.2
    with pytest.raises(ValueError, match="revision must be one of"):
        revision_folder("smoke", 99)
    (tmp_path / revision_folder("smoke") / f"{units[0].name}.json").write_text(
        json.dumps({**newer, "provenance": full_record(units[0].name, "smoke")["provenance"]}))
    with pytest.raises(ValueError, match="says code revision 1 but lies in the folder of revision"):
        load_result(tmp_path, "smoke", units[0])


def test_calibrated_eat_measures_at_the_profiles_scale():
    """eat-calibrated gets the profile's calibration (every 40 steps at cpu scale, not the paper-scale 200)."""
    from lpgeom.experiments.profiles import study_size
    from lpgeom.experiments.study import _scheme_settings

    size = study_size("cpu")
    calibration = _scheme_settings("eat-calibrated", size, 5)["calibration"]
    assert (calibration.every, calibration.n_iter, calibration.n_points) == (40, 50, 128)
    assert "calibration" not in _scheme_settings("eat", size, 5)


def test_every_registered_scheme_builds_from_the_study_settings():
    """The study's settings suit every scheme (natural training takes no attack steps: Table 9's
    starting unit was refused with "scheme 'natural' takes no setting 'n_iter'")."""
    from lpgeom.experiments.profiles import study_size
    from lpgeom.experiments.study import _scheme_settings, study_threats
    from lpgeom.training import build_scheme, scheme_names

    size = study_size("cpu")
    for name in scheme_names():
        build_scheme(name, study_threats(size), **_scheme_settings(name, size, size.epochs))
    assert _scheme_settings("natural", size, 5) == {}
    assert _scheme_settings("linf", size, 5) == {"n_iter": size.steps}
    assert _scheme_settings("l2-eat", size, 2)["switch_epoch"] == 1  # before the last epoch
    # a scheme's recipe settings come from the recipes: RAMP from scratch with projection, fine-tuned without
    assert _scheme_settings("ramp", size, 5) == {"n_iter": size.steps, "ramp_lambda": 5.0, "gradient_projection": True}
    assert _scheme_settings("ramp", size, 1, "finetune") == {"n_iter": size.steps, "ramp_lambda": 1.5,
                                                             "gradient_projection": False}


def test_history_keeps_the_per_norm_shares_and_calibrated_errors():
    """MAX's/MSD's shares (Figure 3) and the calibrated errors are not dropped from a record's history."""
    from lpgeom.experiments.study import HISTORY_KEYS, HISTORY_PREFIXES

    logged = {"global_step": 10, "loss": 1.0, "share_L1": 0.4, "share_Linf": 0.6, "rerr_union": 0.5,
              "calibrated_rerr_L1": 0.7, "p_L1": 0.5, "lr": 0.1}
    kept = {k for k in logged if k in HISTORY_KEYS or k.startswith(HISTORY_PREFIXES)}
    assert kept == set(logged) - {"lr"}


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(scheme="../x", epochs=1), ValueError, "registered scheme"),
    (dict(scheme="eat", epochs=0), ValueError, "Unit epochs"),
    (dict(scheme="eat", epochs=True), TypeError, "Unit epochs"),
    (dict(scheme="eat", epochs=1, seed=-1), ValueError, "Unit seed"),
    (dict(scheme="eat", epochs=1, seed=2**64), ValueError, "Unit seed"),
    (dict(scheme="eat", epochs=1, seed=1.0), TypeError, "Unit seed"),
    (dict(scheme="eat", epochs=3, init="linf"), ValueError, "not a unit name"),
])
def test_unit_refuses_what_cannot_name_a_run(kwargs, error, match):
    """A unit's name becomes a file name: a path, 0 epochs or an unparsable starting unit is refused."""
    from lpgeom.experiments.study import Unit

    with pytest.raises(error, match=match):
        Unit(**kwargs)
    assert Unit("eat", 1, 2**64 - 1).seed == 2**64 - 1, "a unit takes every seed TrainConfig takes"


def test_plan_profile_and_provenance_refuse_bad_arguments():
    from lpgeom.experiments.provenance import provenance
    from lpgeom.experiments.profiles import study_size
    from lpgeom.experiments.study import Unit, load_result, plan

    with pytest.raises(ValueError, match="at least one group"):
        plan(study_size("smoke"), [])
    with pytest.raises(ValueError, match="profile name"):
        load_result("data/results", "../../..", Unit("eat", 1))
    with pytest.raises(TypeError, match="datetime"):
        provenance("cpu", None, "x")


def _fake_run_unit(taken, calls):
    """run_unit that records each call and refuses the units in ``taken`` as a taken run folder would."""
    from lpgeom.training import RunConflictError, RunLockedError

    def fake(unit, size, results_dir, runs_dir, data=None, command=None):
        calls.append(unit.name)
        if unit.name in taken:
            raise (RunLockedError if taken[unit.name] == "locked" else RunConflictError)(f"{unit.name} folder taken")
        return {"report": {"clean_accuracy": 0.9, "union_accuracy": 0.4}}

    return fake


def test_study_skips_a_unit_whose_run_folder_is_taken_and_runs_the_rest(tmp_path, monkeypatch):
    """A run folder of another process or another commit no longer stops the whole study: the others run, then it fails."""
    from lpgeom.experiments import UnitsSkipped, run_study
    from lpgeom.experiments import study as study_module

    units = [u.name for u in plan(SIZES["smoke"], ["table1"])["table1"]]
    calls, log = [], []
    monkeypatch.setattr(study_module, "study_data", lambda size: None)
    monkeypatch.setattr(study_module, "run_unit", _fake_run_unit({units[0]: "conflict", units[2]: "locked"}, calls))
    with pytest.raises(UnitsSkipped, match=rf"2 of {len(units)} units were skipped") as err:
        run_study("smoke", ["table1"], tmp_path / "results", tmp_path / "runs", log=log.append)
    assert calls == units, "every unit was tried, in plan order"
    assert f"{units[0]}: {units[0]} folder taken" in str(err.value) and f"{units[2]}: " in str(err.value)
    assert sum("SKIPPED" in line for line in log) == 2 and len(log) == len(units)


def test_study_runs_only_the_units_named(tmp_path, monkeypatch):
    from lpgeom.experiments import run_study
    from lpgeom.experiments import study as study_module

    units = [u.name for u in plan(SIZES["smoke"], ["table1"])["table1"]]
    calls = []
    monkeypatch.setattr(study_module, "study_data", lambda size: None)
    monkeypatch.setattr(study_module, "run_unit", _fake_run_unit({}, calls))
    records = run_study("smoke", ["table1"], tmp_path / "r", tmp_path / "u", log=lambda *_: None,
                        units=[units[3], units[1]])
    assert calls == [units[1], units[3]] and len(records) == 2, "the plan's order, only the names given"
    with pytest.raises(ValueError, match=r"units \['nope_e1_s0'\] are not planned by the groups \['table1'\]; planned: "):
        run_study("smoke", ["table1"], tmp_path / "r", tmp_path / "u", units=["nope_e1_s0", units[0]])
    with pytest.raises(ValueError, match="are not planned"):
        run_study("smoke", ["table1"], tmp_path / "r", tmp_path / "u", units=[])
