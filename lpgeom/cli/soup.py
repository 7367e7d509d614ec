"""``python -m lpgeom soup``: union robustness along the interpolation path between two fine-tuned runs.

Model soups (Croce et al., CVPR 2023): the weights ``(1 - alpha) A + alpha B`` of two runs
fine-tuned from one parent (e.g. ``finetune --target linf`` and ``--target l1`` from one
l_inf-robust model), evaluated for each ``--alphas`` value on the same test points. Runs of
other architectures are refused, and so are runs whose records name different parents
(``init_sha256`` in their ``config.json``).
"""
from __future__ import annotations

import argparse
import pathlib
import warnings

from ..utils.seeds import SEED_RANGE
from .evaluate import DEFAULT_BATCH_SIZE, _from_run, _model_options, _n_points, _run_config
from .options import (add_data_options, add_device_options, add_threat_options, check_output_path, load_dataset,
                      load_model, positive_int, resolve_device, seed_value, threats_from_args)


def _alpha(text: str) -> float:
    """An alpha in [0, 1] (``0`` and ``1`` included, unlike a fraction of training)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a mixing weight: give a number in [0, 1]")
    return value


def add_parser(subparsers) -> argparse.ArgumentParser:
    from ..models import BATCHNORM_RULES

    p = subparsers.add_parser("soup", help="interpolate two fine-tuned runs' weights and evaluate along the path",
                              description="Model soups (Croce et al. 2023): clean, per-norm and union robust accuracy "
                                          "of (1 - alpha) A + alpha B for each --alphas value.")
    p.add_argument("--run-dirs", type=pathlib.Path, nargs=2, required=True, metavar=("A", "B"),
                   help="two training runs of one architecture, fine-tuned from one parent")
    p.add_argument("--alphas", type=_alpha, nargs="+", help="mixing weights in [0, 1] (default: 0 0.25 0.5 0.75 1)")
    p.add_argument("--batchnorm", choices=BATCHNORM_RULES,
                   help="interpolate: average the running statistics like the weights (default); recompute: "
                        "re-estimate them for every soup on --bn-points training images")
    p.add_argument("--bn-points", type=positive_int, help="training images for --batchnorm recompute (default 512)")
    p.add_argument("--method", choices=("apgd", "autoattack", "autoattack-standard"), help="default: apgd")
    p.add_argument("--n-points", type=positive_int, help="first N test points (default 1000)")
    p.add_argument("--n-iter", type=positive_int, help="attack iterations (default 100 for autoattack, 20 for apgd)")
    p.add_argument("--batch-size", type=positive_int, help=f"default {DEFAULT_BATCH_SIZE}")
    p.add_argument("--seed", type=seed_value, help=f"seeds every attack: {SEED_RANGE} (default 0)")
    p.add_argument("--out", type=pathlib.Path, help="write the table to this .csv file (refused if it exists)")
    add_data_options(p, n_train=False)
    add_threat_options(p)
    add_device_options(p)
    p.set_defaults(run=run)
    return p


def _ingredients(args: argparse.Namespace):
    """Both runs' state dicts in one architecture, refusing other architectures or parents; the model."""
    from ..models import check_same_parent

    first, second = args.run_dirs
    configs = [_run_config(d) for d in (first, second)]
    for key in ("arch", "dataset", "model_options"):
        if configs[0].get(key) != configs[1].get(key):
            raise ValueError(f"--run-dirs: {first} and {second} differ in {key} ({configs[0].get(key)!r} vs "
                             f"{configs[1].get(key)!r}); a soup needs one architecture")
    if not check_same_parent([c.get("init_sha256") for c in configs], names=[str(first), str(second)]):
        warnings.warn("the runs' records do not both name the weights they were fine-tuned from (init_sha256): "
                      "that they share a parent is not checked", stacklevel=2)
    args.run_dir, args.arch = first, None
    arch, options = _from_run(args, configs[0]), _model_options(configs[0])
    model, _ = load_model(args, arch, str(first / "model.pt"), options)
    other, _ = load_model(args, arch, str(second / "model.pt"), options)
    return model, model.state_dict(), other.state_dict()


def run(args: argparse.Namespace) -> int:
    from torch.utils.data import Subset

    from ..data import tensors
    from ..evaluation import soup_path
    from ..threats import check_radii_fit
    from ..utils.files import atomic_write_text

    if args.out is not None:
        check_output_path(args.out, "--out")
        if args.out.exists():
            raise ValueError(f"--out {args.out} already exists; give another name")
    if args.bn_points is not None and args.batchnorm != "recompute":
        raise ValueError("--bn-points applies to --batchnorm recompute only")
    model, state_a, state_b = _ingredients(args)
    device = resolve_device(args.device)
    threats = threats_from_args(args)
    test = load_dataset(args, train=False)
    x, y = tensors(Subset(test, range(_n_points(args, len(test)))))
    check_radii_fit(threats, x[0].numel())
    bn_data = None
    if args.batchnorm == "recompute":
        train = load_dataset(args, train=True)
        bn_data, _ = tensors(Subset(train, range(min(args.bn_points or 512, len(train)))))
    batch_size = args.batch_size or DEFAULT_BATCH_SIZE
    frame = soup_path(model.to(device), state_a, state_b, x, y, threats,
                      alphas=tuple(args.alphas or (0.0, 0.25, 0.5, 0.75, 1.0)), method=args.method or "apgd",
                      n_iter=args.n_iter, batch_size=batch_size, device=device, seed=args.seed or 0,
                      batchnorm=args.batchnorm or "interpolate", batchnorm_data=bn_data)
    print(frame.round(2).to_string(index=False))
    if args.out is not None:
        atomic_write_text(args.out, frame.to_csv(index=False))
        print(f"table written to {args.out}")
    return 0
