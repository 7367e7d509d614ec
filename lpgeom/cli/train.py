"""``python -m lpgeom train``: adversarial training with any registered scheme (the paper's recipe by default).

Values come from, in order of precedence: the command line, a ``--config`` JSON file, the
paper's recipe (:func:`lpgeom.training.paper_recipe`), the defaults stated in ``--help``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

from ..utils.seeds import SEED_RANGE
from .options import (add_data_options, add_device_options, add_threat_options, command_line, dataset_of,
                      fraction, load_dataset, load_model, model_architecture, non_negative_float, non_negative_int,
                      positive_float, positive_int, resolve_device, seed_value, threats_from_args)

if TYPE_CHECKING:
    from ..threats import ThreatUnion
    from ..training import Recipe, Scheme, TrainConfig
    from ..training.recipes import RecipeKind

Selection = Literal["last", "best"]


def parse_floor(text: str) -> float | dict[str, float]:
    """``0.3`` (every norm) or ``L1=0.3`` / ``L1=0.3,Linf=0.1`` (per ball name) for ``--p-floor``."""
    def number(part: str) -> float:
        value = float(part)
        if not 0 <= value <= 1:
            raise ValueError
        return value

    try:
        if "=" not in text:
            return number(text)
        pairs = [(name.strip(), number(value)) for name, value in (item.split("=", 1) for item in text.split(","))]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a probability floor: give a number in [0, 1] or "
                                         "NAME=P pairs such as L1=0.3,Linf=0.1") from None
    names = [name for name, _ in pairs]
    twice = next((name for name in names if names.count(name) > 1), None)
    if twice is not None:  # a dict would keep the last value silently
        raise argparse.ArgumentTypeError(f"{text!r} names {twice} twice: give each ball's floor once")
    return dict(pairs)


def folder_path(text: str) -> str:
    """A folder path for ``--run-dir``: not empty; ``~`` expanded (a ``--config`` file's value reaches no shell)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not a folder path: name the run's folder")
    expanded = os.path.expanduser(text)
    if expanded.startswith("~"):  # ~user of no such user: expanduser leaves it, a literal '~user' folder would appear
        raise argparse.ArgumentTypeError(f"{text!r}: no home folder for {text.split('/')[0]!r}; give the path in full")
    return expanded


def add_training_options(p: argparse.ArgumentParser, recipe: str) -> None:
    """Options of ``train`` and ``finetune``; every default None, filled from the ``recipe`` kind."""
    g = p.add_argument_group(f"training (defaults: the paper's {recipe} recipe for the dataset)")
    g.add_argument("--arch", help="architecture (default: small_cnn for Fashion-MNIST, preact_resnet18 for CIFAR-10)")
    g.add_argument("--epochs", type=positive_int)
    g.add_argument("--batch-size", type=positive_int)
    g.add_argument("--lr", type=positive_float, help="initial learning rate")
    g.add_argument("--milestones", type=fraction, nargs="*",
                   help="increasing fractions of training where the lr is divided by 10")
    g.add_argument("--weight-decay", type=non_negative_float)
    g.add_argument("--steps", type=positive_int, help="attack steps per batch (paper: 10; ImageNet: 5)")
    g.add_argument("--l1-steps", type=positive_int, help="attack steps for l_1 if different (ImageNet: 15)")
    g.add_argument("--augment", action=argparse.BooleanOptionalAction,
                   help="random crop + flip (default: on for CIFAR-10)")
    g.add_argument("--seed", type=seed_value,
                   help=f"seeds initial weights, data order, every draw: {SEED_RANGE} (default 0)")
    g.add_argument("--run-dir", type=folder_path,
                   help="folder for config.json, metrics.jsonl, checkpoints, model.pt (required: on the command line "
                        "or as run_dir in --config)")
    g.add_argument("--resume", action=argparse.BooleanOptionalAction,
                   help="continue from --run-dir's checkpoint if present (default: yes); --no-resume is refused "
                        "where --run-dir holds a run")
    g.add_argument("--overwrite", action=argparse.BooleanOptionalAction,
                   help="start afresh even if --run-dir holds a run (finished or not), deleting its checkpoints, "
                        "weights and metrics (default: no, an earlier run is never deleted)")
    g.add_argument("--checkpoint-every", type=non_negative_int, help="also checkpoint every N steps (default 0: epoch ends)")
    g.add_argument("--stop-after-steps", type=positive_int, help="stop (checkpointed) after N steps in total")
    g.add_argument("--estimate", action="store_true",
                   help="time a few steps of this run here, print what the whole run would cost, and exit "
                        "(every run prints this before it starts, unless --quiet)")
    g.add_argument("--progress", action=argparse.BooleanOptionalAction, help="progress bar (default: yes)")
    g.add_argument("--select", choices=get_args(Selection),
                   help="last: model.pt is the final weights (default); best: also keep best.pt, the epoch with the "
                        "highest robust accuracy on --holdout held-out training examples (the paper's selection)")
    g.add_argument("--holdout", type=positive_int, help="training examples held out for --select best")
    g.add_argument("--extra-data", help="Carmon et al.'s ti_500K_pseudo_labeled.pickle: half of every batch from it "
                                        "(the paper's setup for models trained with extra data)")
    g.add_argument("--config", help="JSON file with option values (command-line flags win)")
    e = p.add_argument_group("E-AT sampling (beyond the paper)")
    e.add_argument("--p-floor", type=parse_floor,
                   help="lower bound of each norm's probability: P for every norm, or NAME=P pairs (L1=0.3)")
    e.add_argument("--calibrate-every", type=positive_int,
                   help="eat-calibrated: measure the robust errors with a stronger attack every N steps (default 200)")
    e.add_argument("--calibration-points", type=positive_int, help="eat-calibrated: examples measured (default 128)")
    e.add_argument("--calibration-steps", type=positive_int,
                   help="eat-calibrated: APGD steps of the measuring attack, random start (default 100)")
    _add_scheme_options(p)
    s = p.add_argument_group("speed")
    s.add_argument("--amp", action=argparse.BooleanOptionalAction,
                   help="bf16 mixed precision (autocast on CUDA and on the CPU; recorded in config.json)")
    s.add_argument("--channels-last", action=argparse.BooleanOptionalAction, help="channels-last memory format (CUDA)")
    s.add_argument("--compile", action=argparse.BooleanOptionalAction, help="run the model through torch.compile")
    s.add_argument("--workers", type=non_negative_int,
                   help="data-loading worker processes (default: 0 for in-memory data, more for files)")


def _add_scheme_options(p: argparse.ArgumentParser) -> None:
    """The flags the registered schemes declare (``register_scheme(..., options=...)``), each once."""
    from ..training import scheme_options

    options = scheme_options()
    if not options:
        return
    g = p.add_argument_group("scheme settings (declared by the schemes; each applies to the schemes that take it)")
    for option in options:
        if option.boolean:
            g.add_argument(option.flag, dest=option.dest, action=argparse.BooleanOptionalAction, help=option.help)
        else:
            g.add_argument(option.flag, dest=option.dest, type=option.type, help=option.help)


def _declared_settings(args: argparse.Namespace) -> dict[str, tuple[str, object]]:
    """``{setting: (flag, value)}`` of the scheme-declared flags given (a setting declared by several schemes once)."""
    from ..training import scheme_options

    out: dict[str, tuple[str, object]] = {}
    for option in scheme_options():
        value = getattr(args, option.dest, None)
        if value is not None or option.setting not in out:
            out[option.setting] = (option.flag, value)
    return out


def add_parser(subparsers) -> argparse.ArgumentParser:
    from ..training import scheme_names

    p = subparsers.add_parser("train", help="adversarial training (single norm, E-AT, MAX, AVG, MSD, SAT)",
                              description="Train a model from scratch with one of the schemes of the paper "
                                          "(its recipe: 80 epochs, lr 0.05 divided by 10 at epoch 70). "
                                          "Resumes from --run-dir/last.pt if present.")
    p.add_argument("--scheme", choices=scheme_names(), help="training scheme (default: eat)")
    p.add_argument("--switch-epoch", type=non_negative_int,
                   help="l2-eat: epoch at which E-AT takes over (default: 45/80 of the epochs, as the paper)")
    add_data_options(p)
    add_threat_options(p)
    add_training_options(p, "from-scratch")
    add_device_options(p)
    p.set_defaults(run=run)
    return p


def _calibration(args: argparse.Namespace):
    values = {"every": args.calibrate_every, "n_points": args.calibration_points, "n_iter": args.calibration_steps}
    if all(v is None for v in values.values()):
        return None
    from ..training import EATCalibration

    return EATCalibration(**{k: v for k, v in values.items() if v is not None})


@dataclass
class TrainingSetup:
    """What the options resolve to, before any data is read: recipe, threats, scheme, config."""

    recipe: Recipe
    threats: ThreatUnion
    scheme: Scheme
    config: TrainConfig


def training_setup(args: argparse.Namespace, scheme_name: str, recipe_kind: RecipeKind) -> TrainingSetup:
    """Resolve the options: command line (already merged with ``--config``) over the paper's recipe.

    Raises
    ------
    ValueError
        For options that conflict or do not apply to the scheme, naming the flags.
    """
    from ..training import paper_recipe, scheme_spec

    recipe = paper_recipe(recipe_kind, dataset_of(args), large_model=bool(getattr(args, "large_model", False))).replace(
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
        milestones=tuple(args.milestones) if args.milestones is not None else None, augment=args.augment)
    if (args.select == "best") != (args.holdout is not None):
        raise ValueError("--select best needs --holdout N (training examples held out to pick the best epoch), and "
                         f"--holdout needs --select best; got --select {args.select} and --holdout {args.holdout}")
    if args.run_dir is None:
        raise ValueError("--run-dir is required (the run's folder), on the command line or as run_dir in --config")
    if args.overwrite and args.resume:
        raise ValueError("--overwrite starts afresh and --resume continues the run in --run-dir: give one of them")
    threats = threats_from_args(args)
    _check_switch_epoch(scheme_name, getattr(args, "switch_epoch", None), recipe)
    settings = {"n_iter": ("--steps", args.steps), "l1_steps": ("--l1-steps", args.l1_steps),
                "switch_epoch": ("--switch-epoch", getattr(args, "switch_epoch", None)),
                "p_floor": ("--p-floor", args.p_floor), "calibration": ("--calibrate-every, --calibration-*",
                                                                        _calibration(args)), **_declared_settings(args)}
    accepted = scheme_spec(scheme_name).settings
    for setting, (flag, value) in settings.items():
        if value is not None and setting not in accepted:
            takes = ", ".join(settings[k][0] for k in accepted if k in settings) or "none of the scheme options"
            raise ValueError(f"{flag} does not apply to the scheme {scheme_name!r} (it takes {takes})")
    scheme = recipe.build_scheme(scheme_name, threats, **{k: v for k, (_, v) in settings.items()})
    config = recipe.train_config(seed=args.seed or 0, checkpoint_every=args.checkpoint_every or 0, amp=bool(args.amp),
                                 channels_last=bool(args.channels_last), device=resolve_device(args.device),
                                 progress=args.progress is not False, stop_after_steps=args.stop_after_steps,
                                 compile=bool(args.compile), workers=args.workers, select=args.select or "last",
                                 holdout=args.holdout or 0)
    return TrainingSetup(recipe, threats, scheme, config)


def _check_switch_epoch(scheme_name: str, given: int | None, recipe: Recipe) -> None:
    """Refuse a switch epoch (given, or the recipe's 45/80 of the epochs) at which the switch would never happen."""
    from ..training import scheme_spec

    if "switch_epoch" not in scheme_spec(scheme_name).settings:
        return
    switch, epochs = (given if given is not None else recipe.switch_epoch()), recipe.epochs
    if switch is None:
        return
    if epochs < 2:
        raise ValueError(f"--scheme {scheme_name} needs --epochs >= 2 (l_2 training first, then E-AT from the "
                         f"switch epoch), got --epochs {epochs}")
    if not 1 <= switch <= epochs - 1:
        raise ValueError(f"--switch-epoch {switch} must be in [1, {epochs - 1}] for --epochs {epochs} (the epoch "
                         f"where E-AT takes over; at 0 l_2 training never happens, at {epochs} or later E-AT never does)")


def _init_provenance(model, weights) -> dict:
    """What the run starts from: the model's weights digest and whether the file's own digest verified them
    (``weights``: the file as :func:`~lpgeom.cli.options.load_model` read it, None where there is no file)."""
    from ..models.checkpoints import state_digest

    return {"init_sha256": state_digest(model.state_dict()), "init_verified": weights is not None and weights.verified}


#: a run estimated longer than this prints its cost before it starts (shorter ones start silently)
COST_THRESHOLD_SECONDS = 120.0


def _print_cost(model, setup: TrainingSetup, dataset, estimate_only: bool) -> None:
    """Time two steps of the run here and say on stderr what the run will cost (before it starts), for runs
    estimated over :data:`COST_THRESHOLD_SECONDS` or with ``--estimate``."""
    from ..training.cost import estimate_training, format_duration

    config = setup.config
    try:
        cost = estimate_training(model, setup.scheme, dataset, config.batch_size, config.epochs, device=config.device,
                                 holdout=config.holdout)
    except (ValueError, TypeError, RuntimeError):
        if estimate_only:
            raise
        return  # inputs the run itself refuses: train() says what is wrong, in its words
    if not estimate_only and cost.seconds <= COST_THRESHOLD_SECONDS:
        return
    line = f"cost: {cost.describe()}"
    if config.stop_after_steps is not None and config.stop_after_steps < cost.steps:
        line += (f"; --stop-after-steps {config.stop_after_steps} stops this invocation after about "
                 f"{format_duration(config.stop_after_steps * cost.seconds_per_step)}")
    if not estimate_only and cost.seconds > 600:
        line += " (a resumed run only does the steps left; Ctrl-C stops it resumably; --epochs makes it shorter)"
    print(line, file=sys.stderr, flush=True)


def run_training(args: argparse.Namespace, checkpoint: str | None, scheme_name: str, recipe_kind: RecipeKind) -> int:
    """Train ``scheme_name`` with the options in ``args`` over the paper's ``recipe_kind`` recipe."""
    from ..threats import check_radii_fit
    from ..training import train
    from ..training.step import TrainingDiverged

    setup = training_setup(args, scheme_name, recipe_kind)
    threats, seed = setup.threats, setup.config.seed
    dataset = load_dataset(args, train=True)
    check_radii_fit(threats, dataset[0][0].numel())
    import torch

    torch.manual_seed(seed)  # the initial weights depend on the seed only
    model, weights = load_model(args, args.arch, checkpoint)
    describe = {"command": command_line(), "dataset": dataset_of(args), "init": checkpoint,
                "arch": model_architecture(args, args.arch, checkpoint), "threats": {b.name: b.eps for b in threats},
                "n_train": len(dataset), "recipe": recipe_kind, **(_init_provenance(model, weights) if checkpoint
                                                                   else {})}
    extra = None
    if args.extra_data:
        from ..data import pseudo_labelled_extra

        extra = pseudo_labelled_extra(args.extra_data)
        describe["extra_data"] = str(args.extra_data)
    if args.estimate or not getattr(args, "quiet", False):
        _print_cost(model, setup, dataset, estimate_only=args.estimate)
        if args.estimate:
            return 0
    try:
        result = train(model, dataset, setup.scheme, setup.config, args.run_dir, resume=args.resume is not False,
                       describe=describe, extra=extra, select_threats=threats if setup.config.select == "best" else None,
                       overwrite=bool(args.overwrite))
    except TrainingDiverged as err:  # the run failed, not its input: exit 1, one line
        print("error: " + " ".join(str(err).split()), file=sys.stderr)
        return 1
    status = "finished" if result.finished else f"stopped after {result.global_step} steps (resumable)"
    print(json.dumps({"run_dir": str(result.run_dir), "status": status,
                      "last_epoch": result.epochs[-1] if result.epochs else None}, default=float))
    return 0


def run(args: argparse.Namespace) -> int:
    return run_training(args, checkpoint=None, scheme_name=args.scheme or "eat", recipe_kind="scratch")
