"""``python -m lpgeom eval``: clean, per-norm and union robust accuracy of a checkpoint or a training run."""
from __future__ import annotations

import argparse
import json
import pathlib
from typing import get_args

from .options import (RobustBenchThreat, add_data_options, add_device_options, add_threat_options, load_dataset,
                      load_model, non_negative_int, positive_int, resolve_device, threats_from_args)

DEFAULT_N_POINTS = 1000
DEFAULT_BATCH_SIZE = 500


def add_parser(subparsers) -> argparse.ArgumentParser:
    from ..evaluation import METHODS

    p = subparsers.add_parser("eval", help="evaluate robustness per norm and in the union (AutoAttack)",
                              description="Robust accuracy under each threat model and in their union, per point. "
                                          "--method autoattack is the paper's evaluation (APGD-CE + APGD-T, 100 "
                                          "steps); autoattack-standard adds FAB-T and Square.")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="a .pt state dict, a RobustBench name, or a shipped pretrained model "
                                             "(e.g. cifar10_resnet18_standard)")
    source.add_argument("--run-dir", type=pathlib.Path,
                        help="a training run: its model.pt with the run's architecture and dataset")
    p.add_argument("--arch", help="architecture (default from the dataset, or the run's config)")
    p.add_argument("--model-dir", help="RobustBench model folder (default: models)")
    p.add_argument("--robustbench-threat", choices=get_args(RobustBenchThreat), help="default: Linf")
    p.add_argument("--method", choices=METHODS, help="default: autoattack")
    p.add_argument("--n-points", type=positive_int, help=f"first N test points (default {DEFAULT_N_POINTS}, as the paper)")
    p.add_argument("--n-iter", type=positive_int, help="attack iterations (default 100 for autoattack, 20 for apgd)")
    p.add_argument("--batch-size", type=positive_int, help=f"default {DEFAULT_BATCH_SIZE}")
    p.add_argument("--seed", type=non_negative_int, help="default 0")
    p.add_argument("--out", type=pathlib.Path, help="write the report as JSON (and CSV next to it)")
    add_data_options(p, n_train=False)
    add_threat_options(p)
    add_device_options(p)
    p.set_defaults(run=run)
    return p


def _run_config(run_dir: pathlib.Path) -> dict:
    path = run_dir / "config.json"
    if not run_dir.is_dir():
        raise FileNotFoundError(f"--run-dir {run_dir}: no such folder")
    if not path.is_file():
        raise FileNotFoundError(f"--run-dir {run_dir} holds no config.json: not a training run of lpgeom")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"--run-dir {run_dir}: config.json is not valid JSON ({err})") from None
    if not isinstance(config, dict):
        raise ValueError(f"--run-dir {run_dir}: config.json does not hold a run's record")
    return config


def run(args: argparse.Namespace) -> int:
    from torch.utils.data import Subset

    from ..data import tensors
    from ..evaluation import evaluate_robustness
    from ..threats import check_radii_fit

    checkpoint, arch = args.checkpoint, args.arch
    if args.run_dir is not None:
        config = _run_config(args.run_dir)
        checkpoint, arch = str(args.run_dir / "model.pt"), arch or config.get("arch")
        if args.dataset is None and config.get("dataset") is not None:
            args.dataset = config["dataset"]
    device = resolve_device(args.device)
    threats = threats_from_args(args)
    model = load_model(args, arch, checkpoint).to(device).eval()
    dataset = load_dataset(args, train=False)
    n = min(args.n_points or DEFAULT_N_POINTS, len(dataset))
    x, y = tensors(Subset(dataset, range(n)))
    check_radii_fit(threats, x[0].numel())
    report = evaluate_robustness(model, x, y, threats, method=args.method or "autoattack", n_iter=args.n_iter,
                                 batch_size=args.batch_size or DEFAULT_BATCH_SIZE, device=device, seed=args.seed or 0,
                                 name=checkpoint)
    print(report.to_frame().round(2).to_string())
    for w in report.warnings:
        print("warning:", w)
    if args.out:
        out = report.to_json(args.out)
        report.to_csv(out.with_suffix(".csv"))
        print(f"report written to {out}")
    return 0
