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
    assert config["arch"] == "small_cnn" and config["dataset"] == "fashion_mnist"
    report = tmp_path / "eval.json"
    out = lpgeom("eval", "--run-dir", str(run), "--n-points", "20", "--method", "apgd", "--n-iter", "3", "--out", str(report))
    assert out.returncode == 0, out.stderr
    assert set(json.loads(report.read_text())["robust_accuracy"]) == {"Linf", "L2", "L1"}
    ft = tmp_path / "ft"
    out = lpgeom("finetune", "--checkpoint", str(run / "model.pt"), "--n-train", "128", "--epochs", "1",
                 "--batch-size", "64", "--steps", "2", "--run-dir", str(ft), "--no-progress")
    assert out.returncode == 0, out.stderr
    assert json.loads((ft / "config.json").read_text())["scheme"]["scheme"] == "E-AT"


def corrupt_checkpoint(tmp_path):
    path = tmp_path / "bad.pt"
    path.write_bytes(b"not a checkpoint at all" * 10)
    return str(path)


def empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    return str(tmp_path / "empty")


def small(*args):
    return ["--n-train", "64", "--epochs", "1", "--batch-size", "32", "--steps", "1", "--no-progress", *args]


BAD_INPUT = [
    (["train", "--lr", "nan", "--run-dir", "X"], "argument --lr: 'nan' is not a finite number > 0"),
    (["train", "--lr", "-0.1", "--run-dir", "X"], "argument --lr: '-0.1' is not a finite number > 0"),
    (["train", "--n-train", "0", "--run-dir", "X"], "argument --n-train: '0' is not an integer >= 1"),
    (["train", "--n-train", "1000000", "--run-dir", "X"], "--n-train 1000000: the fashion_mnist training set has only"),
    (["train", "--epochs", "2.5", "--run-dir", "X"], "argument --epochs: '2.5' is not an integer >= 1"),
    (["train", "--milestones", "0.5", "1.5", "--run-dir", "X"], "argument --milestones: '1.5' is not a fraction"),
    (["train", "--eps1", "-3", "--run-dir", "X"], "argument --eps1: '-3' is not a radius"),
    (["train", "--data-root", "{tmp}/missing", "--run-dir", "X"], "--data-root {tmp}/missing: no such folder"),
    (["train", "--data-root", "{empty}", "--run-dir", "X"], "--data-root {empty} holds no Fashion-MNIST files"),
    (["train", "--scheme", "trades", "--run-dir", "X"], "argument --scheme: invalid choice: 'trades' (choose from"),
    (["train", "--eps-inf", "8", "--run-dir", "X", *small("--scheme", "linf")], "the Linf radius eps = 8 does not fit"),
    (["train", "--device", "gpu:0", "--run-dir", "X"], "--device 'gpu:0' is not a device"),
    (["train", "--run-dir", "X", "--scheme", "sat", "--switch-epoch", "1"], "--switch-epoch does not apply to the scheme"),
    (["finetune", "--checkpoint", "nope.pt", "--run-dir", "X", *small()], "no checkpoint at nope.pt"),
    (["finetune", "--checkpoint", "{bad}", "--run-dir", "X", *small()], "is corrupt or truncated"),
    (["finetune", "--checkpoint", "c.pt", "--target", "l1", "--scheme", "eat", "--run-dir", "X"],
     "argument --scheme: not allowed with argument --target"),
    (["train", "--dataset", "imagenet", "--run-dir", "X"], "needs --data-root"),
    (["eval"], "one of the arguments --checkpoint --run-dir is required"),
    (["eval", "--checkpoint", "a.pt", "--run-dir", "Y"], "argument --run-dir: not allowed with argument --checkpoint"),
    (["eval", "--run-dir", "{empty}"], "--run-dir {empty} holds no config.json"),
    (["eval", "--checkpoint", "{bad}", "--n-points", "0"], "argument --n-points: '0' is not an integer >= 1"),
    (["eval", "--checkpoint", "{bad}", "--method", "fgsm"], "argument --method: invalid choice: 'fgsm'"),
    (["radii", "--d", "0", "--eps1", "1", "--eps-inf", "0.1"], "argument --d: '0' is not an integer >= 1"),
    (["reproduce", "--only", "table1,tableX", "--plan"], "--only 'table1,tableX': unknown group(s) tableX"),
    (["train", "--config", "{tmp}/none.json", "--run-dir", "X"], "--config {tmp}/none.json: no such file"),
    (["train", "--seed", str(2**70), "--run-dir", "X"],
     f"argument --seed: '{2**70}' is not a seed (an integer in [0, 2**64 - 1])"),
    (["train", "--seed", "1e3", "--run-dir", "X"], "argument --seed: '1e3' is not a seed"),
    (["train", "--run-dir", ""], "argument --run-dir: '' is not a folder path"),
    (["train", "--run-dir", "  "], "is not a folder path: name the run's folder"),
    (["train", "--scheme", "l2-eat", "--switch-epoch", "3", "--epochs", "3", "--run-dir", "X"],
     "--switch-epoch 3 must be in [1, 2] for --epochs 3"),
    (["train", "--scheme", "l2-eat", "--switch-epoch", "0", "--epochs", "3", "--run-dir", "X"],
     "--switch-epoch 0 must be in [1, 2] for --epochs 3"),
    (["train", "--scheme", "l2-eat", "--epochs", "1", "--run-dir", "X"], "--scheme l2-eat needs --epochs >= 2"),
    (["train", "--overwrite", "--resume", "--run-dir", "X"], "--overwrite starts afresh and --resume continues"),
    (["finetune", "--checkpoint", "c.pt", "--robustbench-threat", "L2", "--run-dir", "X"],
     "--robustbench-threat L2 does not apply to --checkpoint c.pt (a weights file)"),
    (["finetune", "--checkpoint", "c.pt", "--model-dir", "models", "--run-dir", "X"],
     "--model-dir models does not apply to --checkpoint c.pt (a weights file)"),
    (["finetune", "--checkpoint", "cifar10_resnet18_standard", "--arch", "small_cnn", "--run-dir", "X"],
     "--arch small_cnn does not apply to --checkpoint cifar10_resnet18_standard (a shipped pretrained model"),
    (["finetune", "--checkpoint", "Carmon2019Unlabeled", "--arch", "small_cnn", "--run-dir", "X"],
     "--arch small_cnn does not apply to --checkpoint Carmon2019Unlabeled (a RobustBench model"),
    (["finetune", "--checkpoint", "{tmp}/run/model.pt", "--run-dir", "{tmp}/run"],
     "--checkpoint {tmp}/run/model.pt lies inside --run-dir {tmp}/run"),
    (["train", "--arch", "preact_resnet18", "--run-dir", "X", *small("--scheme", "linf")],
     "dataset: x has 1 channels"),
    (["train", *small()], "--run-dir is required (the run's folder), on the command line or as run_dir in --config"),
    (["finetune", "--checkpoint", "{empty}", "--run-dir", "X", *small()],
     "checkpoint {empty} is a folder; give a weights file"),
]


@pytest.mark.parametrize("args, message", BAD_INPUT)
def test_bad_input_exits_2_with_one_line(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fill = {"tmp": str(tmp_path), "empty": empty_folder(tmp_path), "bad": corrupt_checkpoint(tmp_path)}
    code = main([a.format(**fill) for a in args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert message.format(**fill) in err


def test_a_run_dir_another_process_writes_is_refused(tmp_path, capsys):
    from lpgeom.training.lock import RunLock

    with RunLock(tmp_path / "run"):
        code = main(["train", "--scheme", "linf", "--run-dir", str(tmp_path / "run"), *small()])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and str(__import__("os").getpid()) in err


def test_help_of_every_training_command(capsys):
    for command in ("train", "finetune", "eval"):
        with pytest.raises(SystemExit) as exc:
            main([command, "--help"])
        out = capsys.readouterr().out
        assert exc.value.code == 0 and "--run-dir" in out and "--dataset" in out


def test_config_file_sets_options_and_flags_win(tmp_path, capsys):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"epochs": 1, "batch_size": 32, "n_train": 64, "steps": 1, "lr": 0.01}))
    run = tmp_path / "run"
    assert main(["train", "--scheme", "linf", "--config", str(cfg), "--lr", "0.02", "--run-dir", str(run),
                 "--no-progress"]) == 0, capsys.readouterr().err
    saved = json.loads((run / "config.json").read_text())["config"]
    assert saved["batch_size"] == 32 and saved["epochs"] == 1 and saved["lr"] == 0.02
    bad = tmp_path / "bad.json"
    for content, message in (({"wings": 2}, "unknown option 'wings'"),
                             ({"lr": "fast"}, "argument --lr: 'fast' is not a finite number > 0"),
                             ([1, 2], "must hold a JSON object")):
        bad.write_text(json.dumps(content))
        assert main(["train", "--config", str(bad), "--run-dir", str(tmp_path / "r2")]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1


def test_select_best_keeps_the_best_epoch_on_held_out_examples(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--scheme", "linf", "--run-dir", str(run), "--select", "best", "--holdout", "32",
                 *small("--n-train", "96")]) == 0, capsys.readouterr().err
    config = json.loads((run / "config.json").read_text())["config"]
    assert (config["select"], config["holdout"]) == ("best", 32) and (run / "best.pt").is_file()


def test_no_resume_keeps_a_finished_run_and_overwrite_replaces_it(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--scheme", "linf", "--run-dir", str(run), *small()]) == 0, capsys.readouterr().err
    capsys.readouterr()
    weights = (run / "model.pt").read_bytes()
    assert main(["train", "--scheme", "linf", "--no-resume", "--seed", "3", "--run-dir", str(run), *small()]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and f"{run} holds a finished run (model.pt)" in err and "--overwrite" in err
    assert (run / "model.pt").read_bytes() == weights
    assert main(["train", "--scheme", "linf", "--overwrite", "--seed", "3", "--run-dir", str(run),
                 *small("--stop-after-steps", "1")]) == 0, capsys.readouterr().err
    assert not (run / "model.pt").exists() and json.loads((run / "config.json").read_text())["config"]["seed"] == 3


def test_finetune_records_whether_its_starting_weights_were_verified(tmp_path, capsys):
    import torch

    from lpgeom.models import build_model

    run = tmp_path / "run"
    assert main(["train", "--scheme", "linf", "--run-dir", str(run), *small()]) == 0, capsys.readouterr().err
    foreign = tmp_path / "theirs.pt"
    torch.save(build_model("small_cnn").state_dict(), foreign)
    for source, verified in ((run / "model.pt", True), (foreign, False)):
        ft = tmp_path / f"ft-{verified}"
        assert main(["finetune", "--checkpoint", str(source), "--target", "linf", "--run-dir", str(ft),
                     *small()]) == 0, capsys.readouterr().err
        record = json.loads((ft / "config.json").read_text())
        assert record["init_verified"] is verified and len(record["init_sha256"]) == 64


def test_amp_on_the_cpu_is_real_and_recorded(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--scheme", "linf", "--amp", "--device", "cpu", "--run-dir", str(run), *small()]) == 0, \
        capsys.readouterr().err
    assert json.loads((run / "config.json").read_text())["autocast"] == "bfloat16"


def test_a_diverged_run_exits_1_with_one_line(tmp_path, capsys):
    code = main(["train", "--scheme", "linf", "--lr", "1e30", "--run-dir", str(tmp_path / "run"),
                 *small("--epochs", "2")])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1 and "error: training diverged:" in err
    assert not (tmp_path / "run" / "model.pt").exists()


def test_run_dir_from_a_config_file_with_a_tilde(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"run_dir": "~/runs/a"}))
    assert main(["train", "--scheme", "linf", "--config", str(cfg), *small()]) == 0, capsys.readouterr().err
    assert (tmp_path / "runs" / "a" / "model.pt").is_file()


@pytest.mark.parametrize("flag", ["--results-dir", "--runs-dir"])
def test_reproduce_refuses_a_folder_option_that_is_no_folder_before_training(tmp_path, capsys, flag):
    (tmp_path / "afile").write_text("x")
    for value, message in ((str(tmp_path / "afile"), "is a file; give a folder"),
                           (str(tmp_path / "afile" / "sub"), f"lies under the file {tmp_path / 'afile'}"),
                           ("", "'' is empty; give a folder")):
        assert main(["reproduce", "--only", "table1", flag, value]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and f"{flag} " in err and message in err


def test_reproduce_units_plan_and_a_skipped_unit_fails_after_the_others(tmp_path, capsys, monkeypatch):
    """--units selects from the plan; a unit skipped for a taken run folder is named on stderr, exit status 1."""
    from lpgeom.experiments import plan
    from lpgeom.experiments import study as study_module
    from lpgeom.experiments.profiles import SIZES
    from lpgeom.training import RunConflictError

    names = [u.name for u in plan(SIZES["smoke"], ["table1"])["table1"]]
    assert main(["reproduce", "--only", "table1", "--units", f"{names[1]},{names[0]}", "--plan"]) == 0
    assert capsys.readouterr().out.strip() == f"table1: {names[0]}, {names[1]}"
    assert main(["reproduce", "--only", "table1", "--units", "nope_e1_s0", "--results-dir", str(tmp_path)]) == 2
    assert "are not planned" in capsys.readouterr().err
    assert main(["reproduce", "--only", "table1", "--units", "nope_e1_s0", "--plan"]) == 2
    assert "are not planned" in capsys.readouterr().err

    def fake(unit, *args, **kwargs):
        if unit.name == names[0]:
            raise RunConflictError(f"{unit.name} holds a run with another configuration")
        return {"report": {"clean_accuracy": 0.9, "union_accuracy": 0.4}}

    monkeypatch.setattr(study_module, "study_data", lambda size: None)
    monkeypatch.setattr(study_module, "run_unit", fake)
    code = main(["reproduce", "--only", "table1", "--units", f"{names[0]},{names[1]}", "--results-dir", str(tmp_path / "r"),
                 "--runs-dir", str(tmp_path / "u")])
    captured = capsys.readouterr()
    assert code == 1 and f"1 of 2 units were skipped" in captured.err and names[0] in captured.err
    assert f"{names[1]}: clean 90.0" in captured.out


def test_estimate_times_steps_here_and_prints_the_cost_without_training(tmp_path, capsys):
    """`train --scheme eat --dataset fashion_mnist` must not silently start a 90-hour run (issue 26)."""
    run = tmp_path / "run"
    code = main(["train", "--scheme", "eat", "--dataset", "fashion_mnist-samples", "--epochs", "80", "--batch-size", "8",
                 "--steps", "2", "--run-dir", str(run), "--estimate"])
    out, err = capsys.readouterr()
    assert code == 0 and out == ""
    assert "cost: 80 epochs x 3 steps = 240 steps" in err and "s per step measured on cpu" in err
    assert not run.exists()


def test_a_long_run_prints_its_cost_first_unless_quiet(tmp_path, capsys, monkeypatch):
    import lpgeom.cli.train as train_command

    args = ["train", "--scheme", "linf", "--dataset", "fashion_mnist-samples", "--epochs", "1", "--batch-size", "10",
            "--steps", "1", "--no-progress"]
    assert main([*args, "--run-dir", str(tmp_path / "short")]) == 0
    assert "cost:" not in capsys.readouterr().err  # a run of seconds starts at once
    monkeypatch.setattr(train_command, "COST_THRESHOLD_SECONDS", 0.0)  # every run is "long"
    assert main([*args, "--run-dir", str(tmp_path / "a")]) == 0
    assert "cost: 1 epochs x 2 steps = 2 steps" in capsys.readouterr().err
    assert main([*args, "--run-dir", str(tmp_path / "b"), "--quiet"]) == 0
    assert "cost:" not in capsys.readouterr().err
