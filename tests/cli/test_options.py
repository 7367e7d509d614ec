"""Options resolve to the paper's recipe unless given; explicit flags win over --config and the recipe."""
import json

import pytest

from lpgeom.__main__ import build_parser, parse
from lpgeom.cli.train import training_setup


def setup_of(*argv, scheme=None, kind="scratch"):
    args = parse(build_parser(), list(argv))
    name = scheme or getattr(args, "scheme", None) or "eat"
    return training_setup(args, name, kind)


def test_defaults_are_the_papers_recipe():
    config = setup_of("train", "--run-dir", "r", "--dataset", "cifar10").config
    assert (config.epochs, config.lr, config.milestones, config.batch_size, config.weight_decay, config.augment) == (
        80, 0.05, (70 / 80,), 128, 5e-4, True)
    ft = setup_of("finetune", "--checkpoint", "c.pt", "--run-dir", "r", kind="finetune").config
    assert (ft.epochs, ft.lr, ft.milestones, ft.augment) == (3, 0.05, (1 / 3, 2 / 3), False)
    large = setup_of("finetune", "--checkpoint", "c.pt", "--run-dir", "r", "--large-model", kind="finetune").config
    assert (large.epochs, large.lr) == (3, 0.01)


def test_imagenet_finetuning_recipe_and_explicit_flags_equal_to_other_defaults_win():
    setup = setup_of("finetune", "--checkpoint", "c.pt", "--run-dir", "r", "--dataset", "imagenet", kind="finetune")
    c = setup.config
    assert (c.epochs, c.lr, c.batch_size, c.weight_decay) == (1, 0.01, 256, 1e-4)
    assert [a.n_iter for a in setup.scheme.attacks] == [15, 5]
    # 3 epochs, lr 0.05, 10 steps are the CIFAR-10 defaults: given explicitly they must win over ImageNet's recipe
    setup = setup_of("finetune", "--checkpoint", "c.pt", "--run-dir", "r", "--dataset", "imagenet", "--epochs", "3",
                     "--lr", "0.05", "--steps", "10", "--l1-steps", "10", kind="finetune")
    assert (setup.config.epochs, setup.config.lr) == (3, 0.05) and [a.n_iter for a in setup.scheme.attacks] == [10, 10]


def test_config_file_fills_what_the_command_line_leaves_out(tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"epochs": 2, "lr": 0.01, "augment": True, "milestones": [0.5], "seed": 3,
                               "progress": False, "weight-decay": 0}))
    config = setup_of("train", "--config", str(cfg), "--run-dir", "r", "--lr", "0.05", "--seed", "0").config
    # lr 0.05 and seed 0 equal the defaults; given on the command line they still win over the file
    assert (config.epochs, config.lr, config.seed, config.augment, config.milestones) == (2, 0.05, 0, True, (0.5,))
    assert config.progress is False and config.weight_decay == 0


def test_switch_epoch_defaults_to_45_of_80_and_speed_and_selection_flags_reach_the_config():
    assert "@45" in setup_of("train", "--run-dir", "r", "--scheme", "l2-eat").scheme.name
    assert "@3" in setup_of("train", "--run-dir", "r", "--scheme", "l2-eat", "--epochs", "5").scheme.name
    config = setup_of("train", "--run-dir", "r", "--compile", "--workers", "2", "--amp", "--channels-last",
                      "--select", "best", "--holdout", "100").config
    assert (config.compile, config.workers, config.amp, config.channels_last, config.select, config.holdout) == (
        True, 2, True, True, "best", 100)


def test_eat_options_reach_the_scheme():
    scheme = setup_of("train", "--run-dir", "r", "--scheme", "eat-calibrated", "--calibrate-every", "50",
                      "--calibration-steps", "20", "--p-floor", "L1=0.3").scheme
    assert scheme.calibration.every == 50 and scheme.calibration.n_iter == 20 and scheme.calibration.n_points == 128
    assert scheme.describe()["p_floor"] == {"L1": 0.3, "Linf": 0.0}
    assert setup_of("train", "--run-dir", "r", "--p-floor", "0.2").scheme.describe()["p_floor"] == {"L1": 0.2,
                                                                                                     "Linf": 0.2}


def test_msd_is_the_papers_by_default():
    assert setup_of("train", "--run-dir", "r", "--scheme", "msd").scheme.attack.l1_step == "slide"
    assert setup_of("train", "--run-dir", "r", "--scheme", "msd-topk").scheme.attack.l1_step == "topk"


@pytest.mark.parametrize("argv, message", [
    (["train", "--run-dir", "r", "--scheme", "eat", "--switch-epoch", "3"], "--switch-epoch does not apply"),
    (["train", "--run-dir", "r", "--scheme", "natural", "--steps", "3"], "--steps does not apply"),
    (["train", "--run-dir", "r", "--select", "best"], "--select best needs --holdout"),
    (["train", "--run-dir", "r", "--holdout", "10"], "--holdout needs --select best"),
    (["train", "--run-dir", "r", "--p-floor", "L2=0.1"], "p_floor names ['L2']"),
])
def test_conflicting_options_are_refused(argv, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        setup_of(*argv)


@pytest.mark.parametrize("content, message", [
    ('{"resume": "no"}', "'resume' is an on/off option; give true or false, got \"no\""),
    ('{"progress": "false"}', "'progress' is an on/off option; give true or false, got \"false\""),
    ('{"n_train": true}', "'n_train' takes one value (a number or a string), got true"),
    ('{"lr": [0.1, 0.2]}', "'lr' takes one value"),
    ('{"lr": {"value": 0.1}}', "'lr' takes one value"),
    ('{"milestones": [true]}', "'milestones' takes a list of numbers or strings"),
    ('{"milestones": []}', "'milestones' takes a list of numbers or strings"),
    ('{"epochs": 1, "epochs": 3}', "the key 'epochs' appears more than once"),
])
def test_config_values_of_the_wrong_json_type_name_the_file_and_the_key(tmp_path, capsys, content, message):
    from lpgeom.__main__ import main

    cfg = tmp_path / "cfg.json"
    cfg.write_text(content)
    assert main(["train", "--config", str(cfg), "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and f"--config {cfg}" in err and message in err, err
    assert not (tmp_path / "run").exists()


def test_a_config_that_is_a_device_is_not_called_missing(tmp_path, capsys):
    from lpgeom.__main__ import main

    assert main(["train", "--config", "/dev/null", "--run-dir", str(tmp_path / "run")]) == 2
    assert "--config /dev/null is not a regular file" in capsys.readouterr().err


def test_a_fraction_beyond_the_float_range_is_an_argument_error():
    import argparse

    from lpgeom.cli.options import parse_number

    with pytest.raises(argparse.ArgumentTypeError, match="beyond the float range"):
        parse_number(f"{10**400}/3")


def test_a_config_path_given_as_a_number_is_refused_naming_the_key(tmp_path, capsys):
    """{"run_dir": 5} trained into ./5 relative to the current folder."""
    from lpgeom.__main__ import main

    config = tmp_path / "c.json"
    config.write_text('{"run_dir": 5}')
    assert main(["train", "--config", str(config), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "'run_dir' takes a string" in err and len(err.strip().splitlines()) == 1


def test_a_run_dir_under_an_unknown_users_home_is_refused(tmp_path, capsys):
    from lpgeom.__main__ import main

    assert main(["train", "--run-dir", "~nosuchuser_lpgeom/x", "--epochs", "1"]) == 2
    assert "no home folder" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["L1=0.3,L1=0.9", "L1=0.3, L1 =0.3"])
def test_a_probability_floor_naming_a_ball_twice_is_refused(text):
    """--p-floor L1=0.3,L1=0.9 trained with L1's floor 0.9 (the last one), silently."""
    import argparse

    from lpgeom.cli.train import parse_floor

    with pytest.raises(argparse.ArgumentTypeError, match=r"names L1 twice"):
        parse_floor(text)
    assert parse_floor("L1=0.3,Linf=0.1") == {"L1": 0.3, "Linf": 0.1}


@pytest.mark.parametrize("argv, arch", [
    (["--checkpoint", "Carmon2019Unlabeled"], "wrn-28-10"),
    (["--checkpoint", "Gowal2020Uncovering_extra", "--robustbench-threat", "L2"], "wrn-70-16"),
    (["--checkpoint", "Engstrom2019Robustness", "--dataset", "imagenet", "--data-root", "."], "resnet50"),
    (["--checkpoint", "cifar10_resnet18_standard"], "resnet18_kuangliu"),
])
def test_a_finetune_from_a_robustbench_model_records_its_architecture(argv, arch):
    """config.json's arch was None for a RobustBench start, so 'eval --run-dir' built the dataset's default network
    and refused the run's own weights as another architecture."""
    from lpgeom.cli.finetune import check_checkpoint_options
    from lpgeom.cli.options import model_architecture

    args = parse(build_parser(), ["finetune", "--dataset", "cifar10", *argv, "--run-dir", "r"])
    check_checkpoint_options(args)  # still a RobustBench name (or a shipped model), not a weights file
    assert model_architecture(args, None, args.checkpoint) == arch


def test_an_unknown_robustbench_name_has_no_architecture():
    from lpgeom.cli.options import model_architecture

    args = parse(build_parser(), ["finetune", "--dataset", "cifar10", "--checkpoint", "NoSuchModel", "--run-dir", "r"])
    assert model_architecture(args, None, args.checkpoint) is None
