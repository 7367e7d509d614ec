"""``python -m lpgeom finetune``: the paper's fine-tuning recipe from any checkpoint.

``--target union`` runs E-AT (multiple-norm robustness); ``--target linf|l2|l1`` runs
single-norm AT (transfer l_p -> l_q, Table 4).
"""
from __future__ import annotations

import argparse

from ._common import add_data_options, add_device_options, add_threat_options
from .train import add_training_options, run_training


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("finetune", help="fine-tune a (robust) model with E-AT or for another norm",
                              description="Fine-tune from --checkpoint with the paper's recipe: 3 epochs (CIFAR-10) or "
                                          "1 (ImageNet), lr divided by 10 every third of training.")
    p.add_argument("--checkpoint", required=True,
                   help="weights: a .pt state dict, a RobustBench model name (with --model-dir), or a shipped "
                        "pretrained model (cifar10_resnet18_standard, imagenet_efficientnet_lite0)")
    p.add_argument("--model-dir", default="models", help="RobustBench model folder")
    p.add_argument("--robustbench-threat", default="Linf", choices=("Linf", "L2", "L1"),
                   help="threat model folder of the RobustBench checkpoint")
    p.add_argument("--target", default="union", choices=("union", "linf", "l2", "l1"),
                   help="union: E-AT for all norms; linf/l2/l1: single-norm fine-tuning")
    add_data_options(p)
    add_threat_options(p)
    add_training_options(p, dict(epochs=3, batch_size=128, lr=0.05, milestones=(1 / 3, 2 / 3), weight_decay=5e-4))
    add_device_options(p)
    p.set_defaults(run=run, parser_defaults={a.dest: a.default for a in p._actions})
    return p


def run(args: argparse.Namespace) -> int:
    if args.dataset == "imagenet":
        # the ImageNet recipe: 1 epoch, lr 0.01, batch 256, wd 1e-4, APGD 5 steps (15 for l_1)
        for key, paper, default in (("epochs", 1, 3), ("lr", 0.01, 0.05), ("batch_size", 256, 128),
                                    ("weight_decay", 1e-4, 5e-4), ("steps", 5, 10)):
            if getattr(args, key) == default:
                setattr(args, key, paper)
        args.l1_steps = args.l1_steps or 15
    scheme = "eat" if args.target == "union" else args.target
    return run_training(args, checkpoint=args.checkpoint, scheme_name=scheme)
