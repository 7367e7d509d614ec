"""Options the commands share: argument types that refuse bad values, data/model/threat/device options, --config.

Every option default is ``None`` ("not given"): the command fills it from the paper's
recipe or a stated default, so an explicit flag equal to a default still wins over a
recipe or a ``--config`` file. A bad value is refused by argparse with one line naming the
flag, the value and what is accepted (exit code 2).
"""
from __future__ import annotations

import argparse
import json
import math
import pathlib
import sys
import tempfile
from collections.abc import Callable
from fractions import Fraction
from typing import Literal

from ..datasets import DATASETS as REGISTRY
from ..datasets import dataset_spec
from ..utils.seeds import MAX_SEED, SEED_RANGE

__all__ = ["Dataset", "DATASETS", "positive_int", "non_negative_int", "positive_float", "non_negative_float",
           "fraction", "seed_value", "parse_number", "positive_radius", "add_data_options", "add_threat_options",
           "add_device_options", "resolve_device", "threats_from_args", "load_dataset", "load_model", "model_architecture",
           "is_robustbench_name",
           "dataset_of", "command_line", "read_json_object", "check_output_path", "config_file_arguments"]

# every registered dataset (lpgeom.datasets), then the 20 real test images a package ships of those that have them
DATASETS: tuple[str, ...] = (tuple(spec.name for spec in REGISTRY.values())
                             + tuple(f"{spec.sample_set}-samples" for spec in REGISTRY.values() if spec.sample_set))
Dataset = Literal[DATASETS]  # type: ignore[valid-type]  # the names above, as a type
DEFAULT_DATASET: Dataset = "fashion_mnist"
# the architecture built when --arch is not given: the registry's, or the shipped pretrained model's for samples
DEFAULT_ARCH = {**{spec.name: spec.default_arch for spec in REGISTRY.values()},
                **{f"{spec.sample_set}-samples": spec.samples_arch or spec.default_arch
                   for spec in REGISTRY.values() if spec.sample_set}}
RobustBenchThreat = Literal["Linf", "L2", "L1"]


def _number_type(name: str, accept: Callable[[float], bool], convert: Callable[[str], float]):
    def parse(text: str):
        try:
            value = convert(text)
        except (ValueError, ZeroDivisionError, ArithmeticError):
            raise argparse.ArgumentTypeError(f"{text!r} is not {name}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not {name}")
        return value

    parse.__name__ = name
    return parse


def parse_number(text: str) -> float:
    """Parse ``12``, ``0.5``, ``8/255``, ``inf`` into a float (argparse type)."""
    cleaned = text.strip().lower()
    if cleaned in {"inf", "infinity"}:
        return math.inf
    try:
        return float(Fraction(cleaned)) if "/" in cleaned else float(cleaned)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"not a number or fraction: {text!r} (examples: 12, 0.5, 8/255)") from None
    except OverflowError:  # a fraction whose value is beyond the float range
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is beyond the float range (about 1.8e308)") from None


positive_int = _number_type("an integer >= 1", lambda v: v >= 1, int)
non_negative_int = _number_type("an integer >= 0", lambda v: v >= 0, int)
positive_float = _number_type("a finite number > 0", lambda v: math.isfinite(v) and v > 0, float)
non_negative_float = _number_type("a finite number >= 0", lambda v: math.isfinite(v) and v >= 0, float)
fraction = _number_type("a fraction of training in (0, 1)", lambda v: 0 < v < 1, float)
seed_value = _number_type(f"a seed ({SEED_RANGE})", lambda v: 0 <= v <= MAX_SEED, int)


def positive_radius(text: str) -> float:
    """A radius: a finite number > 0, fractions accepted (``8/255``)."""
    value = parse_number(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a radius (a finite number > 0, e.g. 12, 0.5, 8/255)")
    return value


def add_data_options(p: argparse.ArgumentParser, n_train: bool = True) -> None:
    g = p.add_argument_group("data")
    g.add_argument("--dataset", choices=DATASETS,
                   help=f"{DEFAULT_DATASET} (embedded default), cifar10 / cifar100 (torchvision), imagenet (ImageFolder at "
                        "--data-root), *-samples: the 20 real test images installed packages ship (smoke runs)")
    g.add_argument("--data-root", type=pathlib.Path,
                   help="dataset folder (cifar10: holds cifar-10-batches-py; cifar100: cifar-100-python; "
                        "imagenet: holds train/ and val/; "
                        "fashion_mnist: holds the four files or FashionMNIST/raw); must exist if given")
    g.add_argument("--download", action=argparse.BooleanOptionalAction,
                   help="let torchvision download CIFAR-10 / CIFAR-100 / Fashion-MNIST (network)")
    if n_train:
        g.add_argument("--n-train", type=positive_int, help="use a seeded random subset of this many training examples")


def add_threat_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("threat models (defaults: the dataset's preset)")
    g.add_argument("--eps-inf", type=positive_radius, help="l_inf radius, fractions accepted (CIFAR-10: 8/255)")
    g.add_argument("--eps2", type=positive_radius, help="l_2 radius (CIFAR-10: 0.5)")
    g.add_argument("--eps1", type=positive_radius, help="l_1 radius (CIFAR-10: 12)")


def add_device_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("device")
    g.add_argument("--device", help="cpu, cuda, cuda:1, mps (default: cuda if available, else cpu)")


def resolve_device(name: str | None) -> str:
    """The device to run on: ``name``, or cuda if available, else cpu (``lpgeom.utils.resolve_device``).

    Raises
    ------
    ValueError
        If ``name`` is not a device torch knows, not one lpgeom runs on (cpu, cuda, mps), or one
        this machine lacks.
    """
    from ..utils import resolve_device as resolve

    if name is None:
        return str(resolve(None, "--device"))
    resolve(name, "--device")  # refuses what is not a device, or one this machine lacks
    return name


def dataset_of(args: argparse.Namespace) -> Dataset:
    return args.dataset or DEFAULT_DATASET


def _registered(name: str) -> str:
    """The registered dataset a --dataset value stands for (``cifar10-samples`` -> ``cifar10``)."""
    stem = name.removesuffix("-samples")
    return next((spec.name for spec in REGISTRY.values() if stem in (spec.name, spec.sample_set)), stem)


def threats_from_args(args: argparse.Namespace):
    """The dataset's preset radii with the ones given on the command line."""
    from ..threats import PRESETS, LpBall, ThreatUnion

    preset = PRESETS[_registered(dataset_of(args))]()
    given = {"Linf": args.eps_inf, "L2": args.eps2, "L1": args.eps1}
    return ThreatUnion([ball if given.get(ball.name) is None else LpBall(ball.p, given[ball.name]) for ball in preset])


def _check_data_root(name: str, root: pathlib.Path | None) -> None:
    """Refuse a --data-root that does not exist or does not hold the dataset (no silent fallback elsewhere)."""
    if root is None:
        return
    if not root.is_dir():
        raise FileNotFoundError(f"--data-root {root}: no such folder")
    if name == "fashion_mnist":
        from ..data import find_fashion_mnist

        try:
            found = find_fashion_mnist(root)
        except FileNotFoundError:
            found = None
        if found is None or root.resolve() not in (found.resolve(), *found.resolve().parents):
            raise FileNotFoundError(f"--data-root {root} holds no Fashion-MNIST files (looked in {root} and "
                                    f"{root / 'FashionMNIST' / 'raw'})")


def load_dataset(args: argparse.Namespace, train: bool):
    """The dataset the options name, as a Dataset of (x in [0,1], y); ``--n-train`` applies to training data.

    Raises
    ------
    FileNotFoundError
        If ``--data-root`` is given but missing or without the data.
    ValueError
        If ``--n-train`` exceeds the training set, or ImageNet has no ``--data-root``.
    """
    from torch.utils.data import TensorDataset

    from .. import data

    name, root = dataset_of(args), args.data_root
    if name.endswith("-samples"):
        if root is not None:
            raise ValueError(f"--data-root is not used with --dataset {name} (the images ship with installed packages)")
        x, y = data.sample_images(name.removesuffix("-samples"))
        ds = TensorDataset(x, y)
    else:
        _check_data_root(name, root)
        if root is None and not dataset_spec(name).downloadable:
            raise ValueError(f"--dataset {name} needs --data-root: it cannot be downloaded (imagenet: a folder with "
                             "train/ and val/ ImageFolder trees)")
        ds = data.load_dataset(name, train, root=root, download=bool(args.download))
    n_train = getattr(args, "n_train", None)
    if train and n_train is not None:
        if n_train > len(ds):
            raise ValueError(f"--n-train {n_train}: the {name} training set has only {len(ds)} examples")
        ds = data.subset(ds, n_train, seed=getattr(args, "seed", None) or 0)
        if not isinstance(ds, TensorDataset) and isinstance(getattr(ds, "dataset", None), TensorDataset):
            x, y = data.tensors(ds)
            ds = TensorDataset(x, y)
    return ds


def is_robustbench_name(checkpoint: str | None) -> bool:
    """Whether ``--checkpoint`` names a RobustBench model (not a shipped pretrained model, not a ``.pt`` path or an
    existing file): :func:`load_model` then reads it from RobustBench's layout."""
    from ..models import PRETRAINED

    path = pathlib.Path(checkpoint) if checkpoint else None
    return path is not None and checkpoint not in PRETRAINED and path.suffix != ".pt" and not path.exists()


def model_architecture(args: argparse.Namespace, arch: str | None, checkpoint: str | None) -> str | None:
    """The architecture :func:`load_model` builds: a shipped model's, a RobustBench model's (None for a name
    RobustBench's table lacks, which does not load), else ``arch`` or the dataset's default."""
    from .. import models

    if checkpoint and checkpoint in models.PRETRAINED:
        return models.PRETRAINED[checkpoint][0]
    if is_robustbench_name(checkpoint):
        threat = getattr(args, "robustbench_threat", None) or "Linf"
        return models.ROBUSTBENCH_ARCHITECTURES.get((_registered(dataset_of(args)), threat, checkpoint))
    return arch or DEFAULT_ARCH[dataset_of(args)]


def load_model(args: argparse.Namespace, arch: str | None, checkpoint: str | None, options: dict | None = None):
    """Build the architecture and load weights: a file path, a RobustBench name, or a shipped pretrained model.

    ``options``: the architecture's options (e.g. ``{"width": 16}`` for the small CNN), as a run recorded them.

    Returns
    -------
    model : torch.nn.Module
    weights : lpgeom.models.WeightsFile or None
        The weights file as it was read for ``model`` (its digest and whether lpgeom verified
        it), the provenance to report; None for a RobustBench model, a shipped pretrained
        model or no checkpoint. The file is read once: a later change of it does not alter this.

    Raises
    ------
    FileNotFoundError
        If a checkpoint file is missing.
    ValueError
        If it is unreadable or does not fit the architecture (``CheckpointError``), or the
        architecture or RobustBench name is unknown.
    """
    from .. import models

    if checkpoint and checkpoint in models.PRETRAINED:
        return models.load_pretrained(checkpoint), None
    # the dataset's number of classes (the registry's), unless the run's recorded options say otherwise
    options = {"num_classes": dataset_spec(_registered(dataset_of(args))).num_classes, **(options or {})}
    model = models.build_model(arch or DEFAULT_ARCH[dataset_of(args)], **options)
    if not checkpoint:
        return model, None
    path = pathlib.Path(checkpoint)
    if is_robustbench_name(checkpoint):
        threat = getattr(args, "robustbench_threat", None) or "Linf"
        return models.load_robustbench(checkpoint, _registered(dataset_of(args)), threat,
                                       getattr(args, "model_dir", None) or "models"), None
    weights = models.read_weights(path)
    models.load_network_weights(model, weights.state, source=str(path))
    return model, weights


def command_line() -> str:
    """The command as typed: ``lpgeom ...`` from the console script, ``python -m lpgeom ...`` otherwise."""
    name = "lpgeom" if pathlib.Path(sys.argv[0]).name == "lpgeom" else "python -m lpgeom"
    return " ".join([name, *sys.argv[1:]])


def read_json_object(path: pathlib.Path, flag: str) -> dict:
    """The JSON object stored in ``path``, read for the option ``flag`` (named in every error).

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    IsADirectoryError
        If ``path`` is a folder.
    ValueError
        If it cannot be read, is not UTF-8 JSON, or holds something other than an object.
    """
    if path.is_dir():
        raise IsADirectoryError(f"{flag} {path}: a folder, not a JSON file")
    if path.exists() and not path.is_file():
        raise ValueError(f"{flag} {path} is not a regular file (a device, a pipe or a socket): give a JSON file")
    if not path.is_file():
        raise FileNotFoundError(f"{flag} {path}: no such file")
    try:
        value = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_unique_keys)
    except _DuplicateKey as err:
        raise ValueError(f"{flag} {path}: the key {err.args[0]!r} appears more than once (which value is meant?)") from None
    except UnicodeDecodeError as err:
        raise ValueError(f"{flag} {path} is not valid JSON: not UTF-8 text (byte {err.start})") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{flag} {path} is not valid JSON: {err}") from None
    except RecursionError:
        raise ValueError(f"{flag} {path} is not valid JSON for lpgeom: nested too deeply") from None
    except OSError as err:
        raise ValueError(f"{flag} {path}: cannot be read ({err.strerror or err})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{flag} {path} must hold a JSON object, got a JSON {_json_kind(value)}")
    return value


class _DuplicateKey(Exception):
    """A JSON object names a key twice (``json`` would silently keep the last value)."""


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [key for key, _ in pairs]
    duplicate = next((key for key in keys if keys.count(key) > 1), None)
    if duplicate is not None:
        raise _DuplicateKey(duplicate)
    return dict(pairs)


def _json_kind(value: object) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


def check_output_path(path: pathlib.Path, flag: str) -> pathlib.Path:
    """Refuse an output file that cannot be written, before any work is done.

    Raises
    ------
    IsADirectoryError
        If ``path`` is a folder.
    NotADirectoryError
        If a folder on its way is a file.
    ValueError
        If ``path`` exists but is not a regular file (writing would replace a device node), or
        no file can be created in the nearest existing folder on its way.
    """
    if path.is_dir():
        raise IsADirectoryError(f"{flag} {path} is a folder: give a file name, e.g. {path / 'report.json'}")
    if path.exists() and not path.is_file():
        raise ValueError(f"{flag} {path} exists and is not a regular file (a device, a pipe or a socket): "
                         "give the name of a file")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise NotADirectoryError(f"{flag} {path}: {folder} is a file, not a folder")
    try:  # the truth about writing there (permissions, read-only or virtual file systems), at no cost
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise ValueError(f"{flag} {path}: cannot create files in {folder} ({err.strerror or err})") from None
    return path


def config_file_arguments(path: pathlib.Path, known: argparse.Namespace,
                          parser: argparse.ArgumentParser | None = None) -> list[str]:
    """The options of a JSON ``--config`` file as command-line arguments (placed before the real ones, which win).

    Keys are option names with ``_`` or ``-`` (``"batch_size"``); booleans become ``--flag`` /
    ``--no-flag``, lists several values, null leaves the option unset.

    Raises
    ------
    ValueError
        If the file is missing, not a JSON object, names an option the command lacks, or gives an
        option a value of the wrong JSON type (checked against ``parser``'s options when given:
        an on/off option takes true/false, a one-value option a number or a string, a list
        option a list of them).
    """
    options = read_json_object(path, "--config")
    # argparse has no public view of an option's arity; its action list has been stable since Python 3.2
    actions = {action.dest: action for action in parser._actions} if parser is not None else {}
    argv: list[str] = []
    for key, value in options.items():
        dest = str(key).replace("-", "_")
        if dest not in vars(known) or dest in ("config", "run"):
            raise ValueError(f"--config {path}: unknown option {key!r}")
        flag = "--" + dest.replace("_", "-")
        if value is None:
            continue
        if parser is not None:
            _check_config_value(path, key, value, actions.get(dest))
        if value is False and dest in actions and not isinstance(actions[dest], argparse.BooleanOptionalAction):
            continue  # a store_true option without a --no- form: false leaves it unset
        if isinstance(value, bool):
            argv.append(flag if value else "--no-" + dest.replace("_", "-"))
        elif isinstance(value, list):
            argv += [flag, *map(str, value)]
        else:
            argv += [flag, str(value)]
    return argv


def _check_config_value(path: pathlib.Path, key: str, value: object, action: argparse.Action | None) -> None:
    """One sentence naming the file and the key when ``value``'s JSON type cannot fill ``action``."""
    if action is None:
        return
    scalar = (str, int, float)
    if action.nargs == 0:  # --flag / --no-flag
        if not isinstance(value, bool):
            raise ValueError(f"--config {path}: {key!r} is an on/off option; give true or false, got {json.dumps(value)}")
    elif action.nargs in (None, "?"):
        if isinstance(value, bool) or not isinstance(value, scalar):
            raise ValueError(f"--config {path}: {key!r} takes one value (a number or a string), got {json.dumps(value)}")
        if action.type in (None, pathlib.Path) or getattr(action.type, "__name__", "").endswith("path"):
            if not isinstance(value, str):  # a path (or free text): {"run_dir": 5} would train into ./5
                raise ValueError(f"--config {path}: {key!r} takes a string, got {json.dumps(value)}")
    else:
        values = value if isinstance(value, list) else [value]
        if not values or any(isinstance(v, bool) or not isinstance(v, scalar) for v in values):
            raise ValueError(f"--config {path}: {key!r} takes a list of numbers or strings, got {json.dumps(value)}")
