import json
import subprocess
import sys

import pytest

from lpgeom.__main__ import main


def lpgeom(*args):
    return subprocess.run([sys.executable, "-m", "lpgeom", *args], capture_output=True, text=True)


@pytest.mark.slow
def test_train_then_eval_then_finetune(tmp_path):
    run = tmp_path / "run"
    out = lpgeom("train", "--scheme", "l1", "--n-train", "128", "--epochs", "1", "--batch-size", "64", "--steps", "2",
                 "--run-dir", str(run), "--no-progress")
    assert out.returncode == 0, out.stderr
    config = json.loads((run / "config.json").read_text())
    assert config["command"].startswith("python -m lpgeom train") and config["threats"]["L1"] == 12.0
    report = tmp_path / "eval.json"
    out = lpgeom("eval", "--run-dir", str(run), "--n-points", "20", "--method", "apgd", "--n-iter", "3", "--out", str(report))
    assert out.returncode == 0, out.stderr
    assert set(json.loads(report.read_text())["robust_accuracy"]) == {"Linf", "L2", "L1"}
    ft = tmp_path / "ft"
    out = lpgeom("finetune", "--checkpoint", str(run / "model.pt"), "--n-train", "128", "--epochs", "1",
                 "--batch-size", "64", "--steps", "2", "--run-dir", str(ft), "--no-progress")
    assert out.returncode == 0, out.stderr
    assert json.loads((ft / "config.json").read_text())["scheme"]["scheme"] == "E-AT"


@pytest.mark.parametrize("args, message", [
    (["train", "--scheme", "trades", "--run-dir", "X"], "unknown scheme 'trades'"),
    (["train", "--eps-inf", "8", "--run-dir", "X", "--n-train", "64", "--scheme", "linf"], "eps"),
    (["finetune", "--checkpoint", "nope.pt", "--run-dir", "X"], "no checkpoint at nope.pt"),
    (["train", "--dataset", "imagenet", "--run-dir", "X"], "needs --data-root"),
    (["eval"], "give --checkpoint or --run-dir"),
])
def test_bad_input_is_one_clear_line(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(args)
    except (FileNotFoundError, ValueError) as err:  # errors other than ValueError surface as such
        assert message in str(err)
        return
    assert code == 2
    assert message in capsys.readouterr().err


def test_help_of_every_command():
    for command in ("train", "finetune", "eval"):
        out = lpgeom(command, "--help")
        assert out.returncode == 0 and "--run-dir" in out.stdout or "--checkpoint" in out.stdout


def test_config_file_sets_options_and_flags_win(tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"epochs": 1, "batch_size": 32, "n_train": 64, "steps": 1, "lr": 0.01}))
    run = tmp_path / "run"
    out = lpgeom("train", "--scheme", "linf", "--config", str(cfg), "--lr", "0.02", "--run-dir", str(run), "--no-progress")
    assert out.returncode == 0, out.stderr
    saved = json.loads((run / "config.json").read_text())["config"]
    assert saved["batch_size"] == 32 and saved["epochs"] == 1 and saved["lr"] == 0.02
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"wings": 2}))
    out = lpgeom("train", "--config", str(bad), "--run-dir", str(tmp_path / "r2"))
    assert out.returncode == 2 and "unknown option 'wings'" in out.stderr
