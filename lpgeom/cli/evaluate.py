"""``python -m lpgeom eval``: clean, per-norm and union robust accuracy of a checkpoint or a training run."""
from __future__ import annotations

import argparse
import json
import pathlib
import sys
import warnings
from typing import get_args

from ..utils.seeds import SEED_RANGE
from .options import (DATASETS, RobustBenchThreat, add_data_options, add_device_options, add_threat_options,
                      check_output_path, dataset_of, is_robustbench_name, load_dataset, load_model, positive_int,
                      read_json_object, resolve_device, seed_value, threats_from_args)

DEFAULT_N_POINTS = 1000
RUN_FILES = ("model.pt", "last.pt", "metrics.jsonl")  # a folder holding one of these is a training run
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
    p.add_argument("--seed", type=seed_value, help=f"seeds every attack: {SEED_RANGE} (default 0)")
    p.add_argument("--out", type=pathlib.Path,
                   help="write the report to this .json file (and the table to the .csv next to it); an existing "
                        "file is replaced only with --overwrite")
    p.add_argument("--overwrite", action=argparse.BooleanOptionalAction,
                   help="replace an existing --out report and its CSV")
    p.add_argument("--other-radii", action="store_true",
                   help="with --run-dir: evaluate at --eps-inf/--eps2/--eps1 although the run was trained at other "
                        "radii (by default a run is evaluated at the radii in its config.json, and others are refused)")
    add_data_options(p, n_train=False)
    add_threat_options(p)
    add_device_options(p)
    p.set_defaults(run=run)
    return p


def _run_config(run_dir: pathlib.Path) -> dict:
    if run_dir.exists() and not run_dir.is_dir():
        raise NotADirectoryError(f"--run-dir {run_dir} is a file, not a training run's folder")
    if not run_dir.is_dir():
        raise FileNotFoundError(f"--run-dir {run_dir}: no such folder")
    if not (run_dir / "config.json").is_file():
        raise FileNotFoundError(f"--run-dir {run_dir} holds no config.json: not a training run of lpgeom")
    return read_json_object(run_dir / "config.json", "--run-dir")


def _model_options(config: dict) -> dict:
    """The run's architecture options (``config.json``'s ``model_options``; a study run recorded before they were
    saved gets its profile's, e.g. the width-16 small CNN of the ``cpu`` profile)."""
    options = config.get("model_options")
    if options is None and isinstance(config.get("profile"), str) and "unit" in config:
        from ..experiments.profiles import SIZES
        from ..experiments.study import model_options

        options = model_options(SIZES[config["profile"]]) if config["profile"] in SIZES else None
    if options is not None and not isinstance(options, dict):
        raise ValueError(f"the run's config.json has model_options {options!r}: expected an object")
    return options or {}


def _from_run(args: argparse.Namespace, config: dict) -> str | None:
    """The run's architecture and dataset, unless the command line names others (refused: the weights are the run's)."""
    arch, dataset = config.get("arch"), config.get("dataset")
    record = args.run_dir / "config.json"
    if arch is not None and not isinstance(arch, str):
        raise ValueError(f"{record} has arch {json.dumps(arch)}, not a model name (the record was edited or damaged); "
                         "give --arch")
    if dataset is not None and dataset not in DATASETS:
        raise ValueError(f"{record} has dataset {json.dumps(dataset)}, not one of {', '.join(DATASETS)} (the record "
                         "was edited or damaged)")
    if args.arch is not None and arch is not None and args.arch != arch:
        raise ValueError(f"--arch {args.arch}: the run in {args.run_dir} trained a {arch}; leave --arch out")
    if args.dataset is not None and dataset is not None and _base(args.dataset) != _base(dataset):
        raise ValueError(f"--dataset {args.dataset}: the run in {args.run_dir} was trained on {dataset}; leave "
                         f"--dataset out or give {_base(dataset)} (or {_base(dataset)}-samples)")
    if args.dataset is None and dataset is not None:
        args.dataset = dataset
    return args.arch or arch


def _run_radii(config: dict, run_dir: pathlib.Path) -> dict[str, float] | None:
    """The radii the run was trained at: ``config.json``'s ``threats`` (``lpgeom train``/``finetune``), else the study
    profile's (a run of ``lpgeom reproduce``); None for a run that records neither."""
    record = run_dir / "config.json"
    threats = config.get("threats")
    if threats is not None:
        if not isinstance(threats, dict) or not threats or not all(
                isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < float("inf")
                for k, v in threats.items()):
            raise ValueError(f"{record} has threats {json.dumps(threats)}, not radii per norm such as "
                             '{"Linf": 0.1, "L2": 1.0, "L1": 10.0} (the record was edited or damaged)')
        return {name: float(eps) for name, eps in threats.items()}
    profile = config.get("profile")
    if isinstance(profile, str) and "unit" in config:
        from ..experiments.profiles import SIZES
        from ..experiments.study import study_threats

        if profile in SIZES:
            return {ball.name: ball.eps for ball in study_threats(SIZES[profile])}
    return None


def _threats_of_run(args: argparse.Namespace, threats, radii: dict[str, float] | None):
    """``threats`` at the run's radii; a radius given on the command line that differs needs --other-radii."""
    from ..threats import LpBall, ThreatUnion

    if radii is None:
        if args.other_radii:
            raise ValueError(f"--other-radii: the run in {args.run_dir} records no radii to differ from; leave it out")
        args.radii_note = (f"the run in {args.run_dir} records no radii: evaluated at the dataset's preset radii "
                           "(and the ones given), which may not be the radii it was trained at")
        return threats
    given = {"Linf": ("--eps-inf", args.eps_inf), "L2": ("--eps2", args.eps2), "L1": ("--eps1", args.eps1)}
    balls = []
    for ball in threats:
        flag, value = given.get(ball.name, (None, None))
        recorded = radii.get(ball.name)
        if recorded is None:
            balls.append(ball)
        elif value is not None and abs(value - recorded) > 1e-12 * max(1.0, recorded):
            if not args.other_radii:
                raise ValueError(f"{flag} {value:g}: the run in {args.run_dir} was trained at {ball.name} radius "
                                 f"{recorded:g} (its config.json); leave {flag} out to evaluate at the run's radii, "
                                 "or add --other-radii to evaluate at another one")
            balls.append(ball)
        else:
            balls.append(LpBall(ball.p, recorded))
    if args.other_radii and all(v is None for _, v in given.values()):
        raise ValueError("--other-radii needs the radii to use: give --eps-inf, --eps2 or --eps1")
    return ThreatUnion(balls)


def _check_robustbench_options(args: argparse.Namespace) -> None:
    """Refuse --robustbench-threat / --model-dir where no RobustBench model is loaded (they would be ignored)."""
    given = [flag for flag, value in (("--robustbench-threat", args.robustbench_threat), ("--model-dir", args.model_dir))
             if value is not None]
    if not given:
        return
    checkpoint = args.checkpoint
    if not is_robustbench_name(checkpoint):
        source = f"--run-dir {args.run_dir}" if checkpoint is None else f"--checkpoint {checkpoint}"
        verb = "applies" if len(given) == 1 else "apply"
        raise ValueError(f"{' and '.join(given)} {verb} to RobustBench model names only, not to {source}")


def _check_out(out: pathlib.Path, overwrite: bool) -> None:
    """Refuse an --out that is not a new .json file (or, with --overwrite, an old report): never a run's own file."""
    check_output_path(out, "--out")
    if out.suffix.lower() != ".json":
        raise ValueError(f"--out {out}: give a name ending in .json (the report is JSON, its table goes to the .csv "
                         "next to it)")
    csv = out.with_suffix(".csv")
    check_output_path(csv, "--out (its CSV)")
    if out.name == "config.json" and any((out.parent / name).exists() for name in RUN_FILES):
        raise ValueError(f"--out {out} is the record of the training run in {out.parent}: give another name")
    existing = [str(path) for path in (out, csv) if path.exists()]
    if existing and not overwrite:
        verb = "already exists" if len(existing) == 1 else "already exist"
        raise ValueError(f"--out {out}: {' and '.join(existing)} {verb}; give another name, or --overwrite to "
                         "replace the old report")


def _base(dataset: str) -> str:
    return str(dataset).removesuffix("-samples")


def _n_points(args: argparse.Namespace, available: int) -> int:
    """``--n-points`` (refused above the test set), else the default capped at the test set (said so)."""
    if args.n_points is not None:
        if args.n_points > available:
            raise ValueError(f"--n-points {args.n_points}: the {dataset_of(args)} test set has only {available} "
                             "examples")
        return args.n_points
    if available < DEFAULT_N_POINTS and not getattr(args, "quiet", False):
        # said once the evaluation ran: an error before it stays one line on stderr
        args.points_note = (f"note: the {dataset_of(args)} test set has {available} examples; evaluating all of "
                            f"them (the default --n-points is {DEFAULT_N_POINTS})")
    return min(DEFAULT_N_POINTS, available)


def run(args: argparse.Namespace) -> int:
    from torch.utils.data import Subset

    from ..data import tensors
    from ..evaluation import evaluate_robustness
    from ..threats import check_radii_fit

    checkpoint, arch, options = args.checkpoint, args.arch, {}
    if args.out is not None:
        _check_out(args.out, bool(args.overwrite))
    elif args.overwrite is not None:
        raise ValueError("--overwrite applies to the --out report only; give --out")
    if checkpoint is not None and not checkpoint.strip():
        raise ValueError("--checkpoint is empty: give a .pt file, a RobustBench name or a shipped pretrained model")
    _check_robustbench_options(args)
    if args.other_radii and args.run_dir is None:
        raise ValueError("--other-radii applies to --run-dir only (a checkpoint records no radii)")
    radii = None
    if args.run_dir is not None:
        config = _run_config(args.run_dir)
        arch, options = _from_run(args, config), _model_options(config)
        checkpoint = str(args.run_dir / "model.pt")
        radii = _run_radii(config, args.run_dir)
    device = resolve_device(args.device)
    threats = threats_from_args(args)
    if args.run_dir is not None:
        threats = _threats_of_run(args, threats, radii)
    model, weights = load_model(args, arch, checkpoint, options)
    model = model.to(device).eval()
    dataset = load_dataset(args, train=False)
    n = _n_points(args, len(dataset))
    x, y = tensors(Subset(dataset, range(n)))
    check_radii_fit(threats, x[0].numel())
    with warnings.catch_warnings():  # the report's warnings are printed below, once each
        warnings.simplefilter("ignore", UserWarning)
        report = evaluate_robustness(model, x, y, threats, method=args.method or "autoattack", n_iter=args.n_iter,
                                     batch_size=args.batch_size or DEFAULT_BATCH_SIZE, device=device,
                                     seed=args.seed or 0, name=checkpoint)
    if weights is not None:  # the provenance of the evaluated weights, as they were read
        report.weights = {"file": str(checkpoint), "sha256": weights.digest, "verified": weights.verified}
    if getattr(args, "radii_note", None):
        report.warnings.append(args.radii_note)
    if args.run_dir is not None and str(config.get("dataset", "")).endswith("-samples"):
        report.warnings.append(f"the run trained on {config['dataset']}, whose images are one set (no test split): "
                               "these are the images it trained on, not held-out test images")
    if getattr(args, "points_note", None):
        print(args.points_note, file=sys.stderr)
    print(report.table())  # percent, one decimal; the radii and the sanity checks' verdict with them, always
    for w in report.warnings:
        if not w.startswith("FLAGGED"):  # the verdict is the table's last line already
            print("warning:", w, file=sys.stderr)
    if args.out:  # fractions rounded to 1/n (programs): lpgeom.evaluation.report
        out = report.to_json(args.out)
        report.to_csv(out.with_suffix(".csv"))
        if not getattr(args, "quiet", False):
            print(f"report written to {out} and {out.with_suffix('.csv').name} (fractions in [0, 1])", file=sys.stderr)
    return 0
