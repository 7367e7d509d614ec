"""``python -m lpgeom finetune``: the paper's fine-tuning recipe from any checkpoint.

``--target union`` runs E-AT (multiple-norm robustness); ``--target linf|l2|l1`` runs
single-norm AT (transfer l_p -> l_q, Table 4); ``--scheme`` runs any registered scheme.
The recipe (:func:`lpgeom.training.paper_recipe`): CIFAR-10 3 epochs, lr 0.05 divided by
10 every third of training; ImageNet 1 epoch, lr 0.01, batch 256, weight decay 1e-4, APGD 5
steps (15 for l_1). Flags given on the command line win.
"""
from __future__ import annotations

import argparse
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


def run(args: argparse.Namespace) -> int:
    scheme = args.scheme or TARGET_SCHEME[args.target or "union"]
    return run_training(args, checkpoint=args.checkpoint, scheme_name=scheme, recipe_kind="finetune")
