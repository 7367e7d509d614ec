"""``lpgeom eval --run-dir`` evaluates at the radii the run was trained at (its config.json), refuses others
unless --other-radii is given, and every table it prints names the radii and the sanity checks' verdict."""
import json

import pytest
import torch

from lpgeom.__main__ import main
from lpgeom.models import build_model

FAST = ["--method", "apgd", "--n-iter", "1", "--n-points", "4"]


def run_folder(tmp_path, width=None, **config):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"arch": "small_cnn", "dataset": "fashion_mnist-samples", **config}))
    torch.manual_seed(0)
    torch.save(build_model("small_cnn", **({"width": width} if width else {})).state_dict(), run / "model.pt")
    return run


RUN_RADII = {"Linf": 0.05, "L2": 0.7, "L1": 6.0}  # not the Fashion-MNIST preset (0.1, 1.0, 10.0)


def test_a_run_is_evaluated_at_its_recorded_radii_and_the_table_says_so(tmp_path, capsys):
    run = run_folder(tmp_path, threats=RUN_RADII)
    out = tmp_path / "r.json"
    assert main(["eval", "--run-dir", str(run), *FAST, "--out", str(out)]) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert json.loads(out.read_text())["eps"] == RUN_RADII
    assert "radii: Linf 0.05, L2 0.7, L1 6" in printed and "linf (eps 0.05)" in printed
    assert "sanity checks:" in printed
    assert "sanity" in json.loads(out.read_text())


def test_another_radius_than_the_runs_is_refused_without_the_override(tmp_path, capsys):
    run = run_folder(tmp_path, threats=RUN_RADII)
    assert main(["eval", "--run-dir", str(run), *FAST, "--eps1", "10"]) == 2
    err = capsys.readouterr().err
    assert "--eps1 10: the run in" in err and "trained at L1 radius 6" in err and "--other-radii" in err
    out = tmp_path / "r.json"
    assert main(["eval", "--run-dir", str(run), *FAST, "--eps1", "10", "--other-radii", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["eps"] == {"Linf": 0.05, "L2": 0.7, "L1": 10.0}


def test_the_same_radius_as_the_runs_is_accepted(tmp_path, capsys):
    run = run_folder(tmp_path, threats=RUN_RADII)
    assert main(["eval", "--run-dir", str(run), *FAST, "--eps2", "0.7"]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--other-radii"], "--other-radii needs the radii to use"),
])
def test_the_override_alone_is_refused(tmp_path, capsys, argv, message):
    run = run_folder(tmp_path, threats=RUN_RADII)
    assert main(["eval", "--run-dir", str(run), *FAST, *argv]) == 2
    assert message in capsys.readouterr().err


def test_the_override_applies_to_runs_only(capsys):
    assert main(["eval", "--checkpoint", "x.pt", "--other-radii", "--eps1", "3", *FAST]) == 2
    assert "--other-radii applies to --run-dir only" in capsys.readouterr().err


@pytest.mark.parametrize("threats", [[0.1], {"Linf": "0.1"}, {"Linf": -1}, {}, {"Linf": True}])
def test_a_damaged_radii_record_is_refused_naming_the_file(tmp_path, capsys, threats):
    run = run_folder(tmp_path, threats=threats)
    assert main(["eval", "--run-dir", str(run), *FAST]) == 2
    err = capsys.readouterr().err
    assert "config.json has threats" in err and "edited or damaged" in err


def test_a_study_run_is_evaluated_at_its_profiles_radii(tmp_path, capsys):
    from lpgeom.experiments.profiles import SIZES
    from lpgeom.experiments.study import study_threats

    run = run_folder(tmp_path, width=SIZES["smoke"].width, unit="eat_e1_s0", profile="smoke")
    out = tmp_path / "r.json"
    assert main(["eval", "--run-dir", str(run), *FAST, "--out", str(out)]) == 0, capsys.readouterr().err
    assert json.loads(out.read_text())["eps"] == {b.name: b.eps for b in study_threats(SIZES["smoke"])}


def test_a_run_without_radii_says_it_uses_the_preset(tmp_path, capsys):
    run = run_folder(tmp_path)
    out = tmp_path / "r.json"
    assert main(["eval", "--run-dir", str(run), *FAST, "--out", str(out)]) == 0, capsys.readouterr().err
    assert "records no radii" in capsys.readouterr().err
    assert any("records no radii" in w for w in json.loads(out.read_text())["warnings"])
