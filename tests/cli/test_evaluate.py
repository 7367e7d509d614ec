"""``lpgeom eval``: bad input gets exit code 2 and one line on stderr, before any attack runs; the data
that is evaluated is the data asked for (no silent cap, no silent switch of data set)."""
import json

import pytest
import torch

from lpgeom.__main__ import main
from lpgeom.cli.options import read_json_object
from lpgeom.models import build_model


def fake_run(tmp_path, dataset="fashion_mnist", arch="small_cnn"):
    """A run folder as training leaves it: config.json and model.pt (random weights: only loading matters)."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"arch": arch, "dataset": dataset}))
    torch.manual_seed(0)
    torch.save(build_model(arch).state_dict(), run / "model.pt")
    return run


def refused(argv, capsys):
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


FAST = ["--method", "apgd", "--n-iter", "1"]


def test_a_cifar10_model_on_fashion_mnist_gets_one_line(capsys):
    err = refused(["eval", "--checkpoint", "cifar10_resnet18_standard", "--dataset", "fashion_mnist-samples", *FAST],
                  capsys)
    assert "x has 1 channels" in err and "expects 3" in err and "CIFAR-10/ImageNet on Fashion-MNIST" in err


def test_more_points_than_the_data_holds_are_refused(tmp_path, capsys):
    run = fake_run(tmp_path, dataset="fashion_mnist-samples")
    err = refused(["eval", "--run-dir", run, "--n-points", "21", *FAST], capsys)
    assert "--n-points 21: the fashion_mnist-samples test set has only 20 examples" in err


def test_the_default_number_of_points_capped_at_the_data_is_said(tmp_path, capsys):
    run = fake_run(tmp_path, dataset="fashion_mnist-samples")
    out_file = tmp_path / "report.json"
    assert main(["eval", "--run-dir", str(run), *FAST, "--out", str(out_file)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().err  # notes go to stderr
    assert "has 20 examples; evaluating all of them (the default --n-points is 1000)" in out
    assert json.loads(out_file.read_text())["n_points"] == 20


@pytest.mark.parametrize("dataset", ["cifar10", "cifar10-samples", "imagenet"])
def test_a_dataset_other_than_the_runs_is_refused_naming_both(tmp_path, capsys, dataset):
    run = fake_run(tmp_path)
    err = refused(["eval", "--run-dir", run, "--dataset", dataset, *FAST], capsys)
    assert f"--dataset {dataset}: the run in {run} was trained on fashion_mnist" in err


def test_another_architecture_than_the_runs_is_refused(tmp_path, capsys):
    run = fake_run(tmp_path)
    err = refused(["eval", "--run-dir", run, "--arch", "preact_resnet18", *FAST], capsys)
    assert f"--arch preact_resnet18: the run in {run} trained a small_cnn" in err


def test_the_samples_of_the_runs_dataset_are_accepted(tmp_path, capsys):
    run = fake_run(tmp_path)
    assert main(["eval", "--run-dir", str(run), "--dataset", "fashion_mnist-samples", "--n-points", "4", *FAST]) == 0


@pytest.mark.parametrize("make_out, message", [
    (lambda t: (t / "afile").write_text("x") and t / "afile" / "r.json", "{t}/afile is a file, not a folder"),
    (lambda t: (t / "afile").write_text("x") and t / "afile" / "deeper" / "r.json", "{t}/afile is a file, not a folder"),
    (lambda t: t, "--out {t} is a folder: give a file name"),
    (lambda t: t / "r.csv", "give a name ending in .json"),
])
def test_an_out_path_that_cannot_be_written_is_refused_before_the_evaluation(tmp_path, capsys, make_out, message):
    out = make_out(tmp_path)
    err = refused(["eval", "--checkpoint", tmp_path / "none.pt", "--out", out, *FAST], capsys)
    assert message.format(t=tmp_path) in err


@pytest.mark.parametrize("content, message", [
    (b"{not json", "is not valid JSON"),
    (b"[1, 2]", "must hold a JSON object, got a JSON array"),
    (b'"run"', "must hold a JSON object, got a JSON string"),
    (b"\xff\xfe\x00", "not UTF-8 text"),
    (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
])
def test_a_run_config_that_is_not_a_json_object_is_refused(tmp_path, capsys, content, message):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_bytes(content)
    err = refused(["eval", "--run-dir", run, *FAST], capsys)
    assert f"--run-dir {run}/config.json" in err and message in err


def test_read_json_object_is_the_one_reader_of_config_and_run_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="--config .*none.json: no such file"):
        read_json_object(tmp_path / "none.json", "--config")
    with pytest.raises(IsADirectoryError, match="a folder, not a JSON file"):
        read_json_object(tmp_path, "--config")
    (tmp_path / "ok.json").write_text('{"a": 1}')
    assert read_json_object(tmp_path / "ok.json", "--config") == {"a": 1}


def test_a_config_file_that_is_a_folder_gets_one_line(tmp_path, capsys):
    err = refused(["train", "--config", tmp_path, "--run-dir", tmp_path / "run"], capsys)
    assert "a folder, not a JSON file" in err


def test_an_out_path_that_is_a_pipe_or_device_is_refused_and_left_alone(tmp_path, capsys):
    """Writing atomically replaces the target: as root, ``--out /dev/full`` replaced the device node by a file."""
    import os
    import stat

    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    err = refused(["eval", "--checkpoint", tmp_path / "none.pt", "--out", fifo, *FAST], capsys)
    assert "exists and is not a regular file" in err and stat.S_ISFIFO(os.stat(fifo).st_mode)
    os.mkfifo(tmp_path / "r.csv")
    err = refused(["eval", "--checkpoint", tmp_path / "none.pt", "--out", tmp_path / "r.json", *FAST], capsys)
    assert "--out (its CSV)" in err and stat.S_ISFIFO(os.stat(tmp_path / "r.csv").st_mode)


@pytest.mark.skipif(not __import__("pathlib").Path("/proc/self").exists(), reason="needs Linux /proc")
def test_an_out_folder_where_no_file_can_be_created_is_refused_before_the_evaluation(tmp_path, capsys):
    err = refused(["eval", "--checkpoint", tmp_path / "none.pt", "--out", "/proc/lpgeom-test/r.json", *FAST], capsys)
    assert "cannot create files in /proc" in err


@pytest.mark.parametrize("argv, message", [
    (["--checkpoint", ""], "--checkpoint is empty"),
    (["--checkpoint", "{run}/model.pt", "--robustbench-threat", "L2"], "--robustbench-threat applies to RobustBench model names only"),
    (["--run-dir", "{run}", "--model-dir", "models"], "--model-dir applies to RobustBench model names only, not to --run-dir"),
    (["--run-dir", "{run}/config.json"], "is a file, not a training run's folder"),
    (["--run-dir", "{run}", "--seed", str(2**70)], "argument --seed: '1180591620717411303424' is not a seed"),
    (["--run-dir", "{run}", "--seed=-1"], "argument --seed: '-1' is not a seed"),
    (["--run-dir", "{run}", "--device", "meta"], "--device meta: lpgeom runs on cpu, cuda or cuda:N"),
    pytest.param(["--run-dir", "{run}", "--device", "mps"], "MPS is not available",
                 marks=pytest.mark.skipif(__import__("torch").backends.mps.is_available(), reason="has MPS")),
])
def test_options_that_would_be_ignored_or_cannot_work_are_refused(tmp_path, capsys, argv, message):
    run = fake_run(tmp_path)
    err = refused(["eval", *[a.format(run=run) for a in argv], *FAST], capsys)
    assert message in err


def test_the_report_refuses_to_replace_a_pipe(tmp_path):
    import os

    from lpgeom.evaluation import RobustnessReport

    report = RobustnessReport(model="m", n_points=1, clean_accuracy=1.0, robust_accuracy={"L2": 1.0}, union_accuracy=1.0,
                              eps={"L2": 0.5}, method="apgd", n_iter=1, seed=0, seconds=0.0)
    os.mkfifo(tmp_path / "r.json")
    for write in (report.to_json, report.to_csv):
        with pytest.raises(ValueError, match="not a regular file"):
            write(tmp_path / "r.json")
    with pytest.raises(ValueError, match="it is a folder"):
        report.to_json(tmp_path)


def test_out_never_replaces_a_runs_files_or_an_old_report_without_overwrite(tmp_path, capsys):
    run = fake_run(tmp_path, dataset="fashion_mnist-samples")
    weights = (run / "model.pt").read_bytes()
    config = (run / "config.json").read_text()
    args = ["eval", "--run-dir", run, "--n-points", "2", *FAST]
    assert "give a name ending in .json" in refused([*args, "--out", run / "model.pt"], capsys)
    assert "give a name ending in .json" in refused([*args, "--out", run / "metrics.jsonl"], capsys)
    assert "is the record of the training run" in refused([*args, "--out", run / "config.json", "--overwrite"], capsys)
    assert (run / "model.pt").read_bytes() == weights and (run / "config.json").read_text() == config
    old = tmp_path / "old.json"
    old.write_text('{"precious": true}')
    assert f"{old} already exists; give another name, or --overwrite" in refused([*args, "--out", old], capsys)
    (tmp_path / "new.csv").write_text("precious")
    assert "new.csv already exists" in refused([*args, "--out", tmp_path / "new.json"], capsys)
    assert old.read_text() == '{"precious": true}' and (tmp_path / "new.csv").read_text() == "precious"
    assert "--overwrite applies to the --out report only" in refused([*args, "--overwrite"], capsys)
    assert main([str(a) for a in [*args, "--out", old, "--overwrite"]]) == 0
    assert json.loads(old.read_text())["n_points"] == 2


@pytest.mark.parametrize("config", [
    {"arch": "small_cnn", "dataset": "fashion_mnist", "model_options": {"width": 16}},
    # a study run recorded before model_options were saved: its profile's width
    {"arch": "small_cnn", "dataset": "fashion_mnist", "unit": "linf_e5_s0", "profile": "cpu"},
])
def test_a_run_of_another_width_is_built_at_its_width(tmp_path, config):
    """A study run's width-16 small CNN is evaluated as such (eval built width 32 and refused the weights)."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(config))
    torch.save(build_model("small_cnn", width=16).state_dict(), run / "model.pt")
    assert main(["eval", "--run-dir", str(run), "--dataset", "fashion_mnist-samples", "--n-points", "4", *FAST]) == 0


def test_a_run_trained_on_the_samples_says_it_is_evaluated_on_its_training_images(tmp_path, capsys):
    run = fake_run(tmp_path, dataset="fashion_mnist-samples")
    out = tmp_path / "r.json"
    assert main(["eval", "--run-dir", str(run), "--n-points", "4", "--out", str(out), *FAST]) == 0
    assert "the images it trained on" in capsys.readouterr().err  # warnings go to stderr
    assert any("the images it trained on" in w for w in json.loads(out.read_text())["warnings"])


def test_the_report_names_the_weights_it_evaluated(tmp_path):
    """Which file, its digest, and whether lpgeom's own digest verified it (False for a foreign file)."""
    run = fake_run(tmp_path)
    out = tmp_path / "r.json"
    assert main(["eval", "--run-dir", str(run), "--dataset", "fashion_mnist-samples", "--n-points", "4",
                 "--out", str(out), *FAST]) == 0
    weights = json.loads(out.read_text())["weights"]
    assert weights["file"] == str(run / "model.pt") and len(weights["sha256"]) == 64 and weights["verified"] is False


def test_the_reported_digest_is_of_the_weights_evaluated_even_if_the_file_changes_meanwhile(tmp_path, monkeypatch):
    """The file was read again after the evaluation: replaced meanwhile (a run finishing into the same folder), the
    report named the new file's digest for numbers measured on the old weights."""
    import lpgeom.evaluation
    from lpgeom.models import read_weights

    run = fake_run(tmp_path)
    evaluated = read_weights(run / "model.pt").digest
    real = lpgeom.evaluation.evaluate_robustness

    def evaluate_while_the_file_is_replaced(*args, **kwargs):
        torch.manual_seed(1)
        torch.save(build_model("small_cnn").state_dict(), run / "model.pt")
        return real(*args, **kwargs)

    monkeypatch.setattr(lpgeom.evaluation, "evaluate_robustness", evaluate_while_the_file_is_replaced)
    out = tmp_path / "r.json"
    assert main(["eval", "--run-dir", str(run), "--dataset", "fashion_mnist-samples", "--n-points", "4",
                 "--out", str(out), *FAST]) == 0
    assert read_weights(run / "model.pt").digest != evaluated
    assert json.loads(out.read_text())["weights"]["sha256"] == evaluated


@pytest.mark.parametrize("field, value", [("dataset", 5), ("dataset", "mnist"), ("dataset", ["cifar10"]),
                                          ("arch", 5), ("arch", ["small_cnn"])])
def test_a_run_record_naming_no_known_dataset_or_architecture_gets_one_line(tmp_path, capsys, field, value):
    """An edited or damaged config.json gave a traceback (AttributeError, KeyError) instead of one line."""
    run = fake_run(tmp_path)
    record = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**record, field: value}))
    err = refused(["eval", "--run-dir", run, *FAST], capsys)
    assert f"{run / 'config.json'}" in err and f"{field} {json.dumps(value)}" in err
