"""``python -m lpgeom eval``: clean, per-norm and union robust accuracy of a checkpoint."""
from __future__ import annotations

import argparse

from ._common import add_data_options, add_device_options, add_threat_options, load_dataset, load_model, resolve_device, threats_from_args


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("eval", help="evaluate robustness per norm and in the union (AutoAttack)",
                              description="Robust accuracy under each threat model and in their union, per point. "
                                          "--method autoattack is the paper's evaluation (APGD-CE + APGD-T, 100 steps).")
    p.add_argument("--checkpoint", help="a .pt state dict, a RobustBench name, or a shipped pretrained model "
                                        "(e.g. cifar10_resnet18_standard); omit for a run dir's model.pt via --run-dir")
    p.add_argument("--run-dir", help="evaluate run_dir/model.pt with the run's architecture")
    p.add_argument("--arch", help="architecture (default from the dataset, or the run's config)")
    p.add_argument("--model-dir", default="models")
    p.add_argument("--robustbench-threat", default="Linf", choices=("Linf", "L2", "L1"))
    p.add_argument("--method", default="autoattack", choices=("autoattack", "apgd"))
    p.add_argument("--n-points", type=int, default=1000, help="first N test points (default 1000, as the paper)")
    p.add_argument("--n-iter", type=int, help="attack iterations (default 100 for autoattack, 20 for apgd)")
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="write the report as JSON (and CSV next to it)")
    add_data_options(p)
    add_threat_options(p)
    add_device_options(p)
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    import json
    import pathlib

    from ..data import tensors
    from ..evaluation import evaluate_robustness

    checkpoint, arch = args.checkpoint, args.arch
    if args.run_dir:
        config = json.loads((pathlib.Path(args.run_dir) / "config.json").read_text())
        checkpoint, arch = str(pathlib.Path(args.run_dir) / "model.pt"), arch or config.get("arch")
    if checkpoint is None:
        raise ValueError("give --checkpoint or --run-dir")
    device = resolve_device(args.device)
    model = load_model(args, arch, checkpoint).to(device).eval()
    dataset = load_dataset(args, train=False)
    n = min(args.n_points, len(dataset))
    if args.n_points < 1:
        raise ValueError(f"--n-points must be positive, got {args.n_points}")
    from torch.utils.data import Subset

    x, y = tensors(Subset(dataset, range(n)))
    report = evaluate_robustness(model, x, y, threats_from_args(args), method=args.method, n_iter=args.n_iter,
                                 batch_size=args.batch_size, device=device, seed=args.seed, name=checkpoint)
    print(report.to_frame().round(2).to_string())
    for w in report.warnings:
        print("warning:", w)
    if args.out:
        out = report.to_json(args.out)
        report.to_csv(out.with_suffix(".csv"))
        print(f"report written to {out}")
    return 0
