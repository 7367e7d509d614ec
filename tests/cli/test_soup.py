"""``lpgeom train/finetune --scheme ramp`` and ``lpgeom soup`` on small Fashion-MNIST runs."""
import json
import shutil

import pytest

from lpgeom.__main__ import main

pytestmark = pytest.mark.slow


def small(*args):
    return ["--n-train", "64", "--epochs", "1", "--batch-size", "32", "--steps", "2", "--no-progress", *args]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("soup")
    assert main(["train", "--scheme", "ramp", *small("--run-dir", str(root / "parent"))]) == 0
    assert main(["finetune", "--checkpoint", str(root / "parent" / "model.pt"), "--target", "linf",
                 *small("--run-dir", str(root / "ft-linf"))]) == 0
    assert main(["finetune", "--checkpoint", str(root / "parent" / "model.pt"), "--scheme", "ramp",
                 "--ramp-lambda", "2", *small("--run-dir", str(root / "ft-ramp"))]) == 0
    return root


def test_ramp_trains_from_scratch_with_projection_and_fine_tunes_without(runs):
    scratch = json.loads((runs / "parent" / "config.json").read_text())["scheme"]
    assert scratch["scheme"] == "RAMP+GP" and scratch["ramp_lambda"] == 5.0 and scratch["gradient_projection"]
    tuned = json.loads((runs / "ft-ramp" / "config.json").read_text())["scheme"]
    assert tuned == {"scheme": "RAMP", "eps": {"Linf": 0.1, "L1": 12.0}, "n_iter": 2, "ramp_lambda": 2.0,
                     "gradient_projection": False}


def test_soup_of_two_runs_of_one_parent_prints_the_path(runs, capsys, tmp_path):
    out = tmp_path / "path.csv"
    code = main(["soup", "--run-dirs", str(runs / "ft-linf"), str(runs / "ft-ramp"), "--alphas", "0", "0.5", "1",
                 "--n-points", "16", "--n-iter", "3", "--out", str(out)])
    assert code == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "alpha,clean,Linf,L2,L1,union,batchnorm,method,sanity" and len(lines) == 4  # each row its verdict
    assert "0.5" in capsys.readouterr().out


def test_soup_refuses_runs_of_different_parents(runs, capsys, tmp_path):
    other = tmp_path / "other-parent"
    shutil.copytree(runs / "ft-linf", other)
    config = json.loads((other / "config.json").read_text())
    config["init_sha256"] = "f" * 64  # as if fine-tuned from other weights
    (other / "config.json").write_text(json.dumps(config))
    code = main(["soup", "--run-dirs", str(other), str(runs / "ft-ramp"), "--n-points", "8"])
    assert code == 2
    assert "was fine-tuned from another parent" in capsys.readouterr().err


def test_soup_warns_where_provenance_does_not_tell(runs):
    with pytest.warns(UserWarning, match="that they share a parent is not checked"):
        main(["soup", "--run-dirs", str(runs / "parent"), str(runs / "ft-linf"), "--alphas", "0.5", "--n-points", "4",
              "--n-iter", "1"])


def test_a_scheme_flag_of_another_scheme_is_refused(capsys, tmp_path):
    assert main(["train", "--scheme", "eat", "--ramp-lambda", "2", *small("--run-dir", str(tmp_path / "r"))]) == 2
    assert "--ramp-lambda does not apply to the scheme 'eat'" in capsys.readouterr().err
