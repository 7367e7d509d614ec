"""``python -m lpgeom finetune``: the paper's fine-tuning recipe from any checkpoint.

``--target union`` runs E-AT (multiple-norm robustness); ``--target linf|l2|l1`` runs
single-norm AT (transfer l_p -> l_q, Table 4); ``--scheme`` runs any registered scheme.
The recipe (:func:`lpgeom.training.paper_recipe`): CIFAR-10 3 epochs, lr 0.05 divided by
10 every third of training; ImageNet 1 epoch, lr 0.01, batch 256, weight decay 1e-4, APGD 5
steps (15 for l_1). Flags given on the command line win.
"""
from __future__ import annotations

import argparse
import pathlib
from typing import Literal, get_args

from .options import RobustBenchThreat, add_data_options, add_device_options, add_threat_options
from .train import add_training_options, run_training

Target = Literal["union", "linf", "l2", "l1"]
TARGET_SCHEME: dict[str, str] = {"union": "eat", "linf": "linf", "l2": "l2", "l1": "l1"}


def add_parser(subparsers) -> argparse.ArgumentParser:
    from ..training import scheme_names

    p = subparsers.add_parser("finetune", help="fine-tune a (robust) model with E-AT or for another norm",
                              description="Fine-tune from --checkpoint with the paper's recipe: 3 epochs (CIFAR-10) or "
                                          "1 (ImageNet), lr divided by 10 every third of training.")
    p.add_argument("--checkpoint", required=True,
                   help="weights: a .pt state dict, a RobustBench model name (with --model-dir), or a shipped "
                        "pretrained model (cifar10_resnet18_standard, imagenet_efficientnet_lite0)")
    p.add_argument("--model-dir", help="RobustBench model folder (default: models)")
    p.add_argument("--robustbench-threat", choices=get_args(RobustBenchThreat),
                   help="threat model folder of the RobustBench checkpoint (default: Linf)")
    p.add_argument("--large-model", action=argparse.BooleanOptionalAction,
                   help="the paper's recipe for large networks (WRN-28-10 and up): lr 0.01 instead of 0.05")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--target", choices=get_args(Target),
                       help="union: E-AT for all norms (default); linf/l2/l1: single-norm fine-tuning")
    which.add_argument("--scheme", choices=scheme_names(), help="any registered scheme instead of --target")
    add_data_options(p)
    add_threat_options(p)
    add_training_options(p, "fine-tuning")
    add_device_options(p)
    p.set_defaults(run=run)
    return p


def check_checkpoint_options(args: argparse.Namespace) -> None:
    """Refuse options that the kind of ``--checkpoint`` would ignore.

    ``--robustbench-threat`` and ``--model-dir`` locate a RobustBench model by name; ``--arch``
    builds the network for a weights file. A shipped pretrained model fixes its architecture.
    A weights file inside ``--run-dir`` is refused: the fine-tuned run would share (and could
    delete) its source's folder.

    Raises
    ------
    ValueError
        Naming the option, the checkpoint and why it does not apply.
    """
    from ..models import PRETRAINED
    from .options import is_robustbench_name

    checkpoint = args.checkpoint
    if checkpoint in PRETRAINED:
        kind = "a shipped pretrained model"
    elif is_robustbench_name(checkpoint):
        kind = "robustbench"
    else:
        kind = "a weights file"
    if kind != "robustbench":
        for flag, value in (("--robustbench-threat", args.robustbench_threat), ("--model-dir", args.model_dir)):
            if value is not None:
                raise ValueError(f"{flag} {value} does not apply to --checkpoint {checkpoint} ({kind}): it locates a "
                                 "RobustBench model given by name; leave it out")
    if kind != "a weights file" and args.arch is not None:
        what = kind if kind != "robustbench" else "a RobustBench model"
        raise ValueError(f"--arch {args.arch} does not apply to --checkpoint {checkpoint} ({what}, whose architecture "
                         "is fixed); leave it out")
    if kind == "a weights file" and args.run_dir is not None:
        source, run_dir = pathlib.Path(checkpoint).resolve(), pathlib.Path(args.run_dir).resolve()
        if run_dir in source.parents:
            raise ValueError(f"--checkpoint {checkpoint} lies inside --run-dir {args.run_dir}: give the fine-tuned run "
                             "a folder of its own")


def run(args: argparse.Namespace) -> int:
    check_checkpoint_options(args)
    scheme = args.scheme or TARGET_SCHEME[args.target or "union"]
    return run_training(args, checkpoint=args.checkpoint, scheme_name=scheme, recipe_kind="finetune")
