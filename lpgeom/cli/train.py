"""``python -m lpgeom train``: adversarial training with any scheme (defaults from the paper)."""
from __future__ import annotations

import argparse

from ._common import (add_data_options, add_device_options, add_threat_options, command_line, load_config_file,
                      load_dataset, load_model, resolve_device, threats_from_args)


def add_training_options(p: argparse.ArgumentParser, defaults: dict) -> None:
    g = p.add_argument_group("training")
    g.add_argument("--arch", help="architecture (default: small_cnn for Fashion-MNIST, preact_resnet18 for CIFAR-10)")
    g.add_argument("--epochs", type=int, default=defaults["epochs"])
    g.add_argument("--batch-size", type=int, default=defaults["batch_size"])
    g.add_argument("--lr", type=float, default=defaults["lr"])
    g.add_argument("--milestones", type=float, nargs="*", default=list(defaults["milestones"]),
                   help="fractions of training where the lr is divided by 10 (default: %(default)s)")
    g.add_argument("--weight-decay", type=float, default=defaults["weight_decay"])
    g.add_argument("--steps", type=int, default=10, help="attack steps per batch (paper: 10; ImageNet: 5)")
    g.add_argument("--l1-steps", type=int, help="attack steps for l_1 if different (ImageNet: 15)")
    g.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                   help="random crop + flip (default: on for CIFAR-10)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--run-dir", required=True, help="folder for config.json, metrics.jsonl, checkpoints, model.pt")
    g.add_argument("--no-resume", action="store_true", help="start afresh even if --run-dir holds a checkpoint")
    g.add_argument("--checkpoint-every", type=int, default=0, help="also checkpoint every N steps")
    g.add_argument("--stop-after-steps", type=int, help="stop (checkpointed) after N steps in total")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    g.add_argument("--extra-data", help="Carmon et al.'s ti_500K_pseudo_labeled.pickle: half of every batch from it "
                                        "(the paper's setup for models trained with extra data)")
    g.add_argument("--config", help="JSON file with option values (command-line flags win)")


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("train", help="adversarial training (single norm, E-AT, MAX, AVG, MSD, SAT)",
                              description="Train a model from scratch with one of the schemes of the paper. "
                                          "Resumes from --run-dir/last.pt if present.")
    from ..training import SCHEMES

    p.add_argument("--scheme", default="eat", help=f"one of {', '.join(SCHEMES)} (default: eat)")
    p.add_argument("--switch-epoch", type=int, help="for l2-eat: epoch at which E-AT takes over")
    add_data_options(p)
    add_threat_options(p)
    add_training_options(p, dict(epochs=80, batch_size=128, lr=0.05, milestones=(70 / 80,), weight_decay=5e-4))
    add_device_options(p)
    p.set_defaults(run=run, parser_defaults={a.dest: a.default for a in p._actions})
    return p


def apply_config_file(args: argparse.Namespace, parser_defaults: dict) -> None:
    for key, value in load_config_file(getattr(args, "config", None)).items():
        key = key.replace("-", "_")
        if not hasattr(args, key):
            raise ValueError(f"--config: unknown option {key!r}")
        if getattr(args, key) == parser_defaults.get(key):
            setattr(args, key, value)


def run_training(args: argparse.Namespace, checkpoint: str | None, scheme_name: str) -> int:
    import json

    from ..training import TrainConfig, build_scheme, train

    apply_config_file(args, getattr(args, "parser_defaults", {}))
    threats = threats_from_args(args)
    scheme = build_scheme(scheme_name, threats, n_iter=args.steps, switch_epoch=getattr(args, "switch_epoch", None),
                          l1_steps=args.l1_steps)
    dataset = load_dataset(args, train=True)
    from ..threats import check_radii_fit

    check_radii_fit(threats, dataset[0][0].numel())
    import torch

    torch.manual_seed(args.seed)  # the initial weights depend on the seed only
    model = load_model(args, args.arch, checkpoint)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, milestones=tuple(args.milestones),
                         weight_decay=args.weight_decay, seed=args.seed,
                         augment=args.augment if args.augment is not None else args.dataset == "cifar10",
                         checkpoint_every=args.checkpoint_every, amp=args.amp, channels_last=args.channels_last,
                         device=resolve_device(args.device), progress=not args.no_progress,
                         stop_after_steps=args.stop_after_steps)
    describe = {"command": command_line(), "dataset": args.dataset, "arch": args.arch, "init": checkpoint,
                "threats": {b.name: b.eps for b in threats}, "n_train": len(dataset)}
    extra = None
    if args.extra_data:
        from ..data import pseudo_labelled_extra

        extra = pseudo_labelled_extra(args.extra_data)
        describe["extra_data"] = str(args.extra_data)
    result = train(model, dataset, scheme, config, args.run_dir, resume=not args.no_resume, describe=describe, extra=extra)
    status = "finished" if result.finished else f"stopped after {result.global_step} steps (resumable)"
    print(json.dumps({"run_dir": str(result.run_dir), "status": status, "last_epoch": result.epochs[-1] if result.epochs else None},
                     default=float))
    return 0


def run(args: argparse.Namespace) -> int:
    return run_training(args, checkpoint=None, scheme_name=args.scheme)
