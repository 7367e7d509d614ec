"""Options shared by the train / finetune / eval commands: datasets, models, radii, devices."""
from __future__ import annotations

import argparse
import json
import pathlib
import sys

from .radii import parse_number

DATASETS = ("fashion_mnist", "cifar10", "imagenet", "cifar10-samples", "imagenet-samples", "fashion_mnist-samples")
DEFAULT_ARCH = {"fashion_mnist": "small_cnn", "cifar10": "preact_resnet18", "imagenet": "resnet50",
                "cifar10-samples": "resnet18_kuangliu", "imagenet-samples": "efficientnet_lite0",
                "fashion_mnist-samples": "small_cnn"}
PRESET_OF = {"fashion_mnist": "fashion_mnist", "cifar10": "cifar10", "imagenet": "imagenet",
             "cifar10-samples": "cifar10", "imagenet-samples": "imagenet", "fashion_mnist-samples": "fashion_mnist"}


def add_data_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data")
    g.add_argument("--dataset", choices=DATASETS, default="fashion_mnist",
                   help="fashion_mnist (embedded default), cifar10 (torchvision), imagenet (ImageFolder at --data-root), "
                        "*-samples: the 20 real test images installed packages ship (smoke runs)")
    g.add_argument("--data-root", help="dataset folder (cifar10: holds cifar-10-batches-py; imagenet: holds train/ and val/)")
    g.add_argument("--download", action="store_true", help="let torchvision download CIFAR-10 / Fashion-MNIST (network)")
    g.add_argument("--n-train", type=int, help="use a seeded random subset of this many training examples")


def add_threat_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("threat models (defaults: the dataset's preset)")
    g.add_argument("--eps-inf", type=parse_number, help="l_inf radius, fractions accepted (CIFAR-10: 8/255)")
    g.add_argument("--eps2", type=parse_number, help="l_2 radius (CIFAR-10: 0.5)")
    g.add_argument("--eps1", type=parse_number, help="l_1 radius (CIFAR-10: 12)")


def add_device_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("device")
    g.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: cuda if available, else cpu)")
    g.add_argument("--amp", action="store_true", help="bf16 mixed precision (CUDA)")
    g.add_argument("--channels-last", action="store_true", help="channels-last memory format (CUDA)")


def resolve_device(name: str | None) -> str:
    import torch

    if name is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device {name}: CUDA is not available on this machine")
    return name


def threats_from_args(args):
    from ..threats import PRESETS, LpBall, ThreatUnion

    preset = PRESETS[PRESET_OF[args.dataset]]()
    balls = []
    for ball, value in zip(preset, (args.eps_inf, args.eps2, args.eps1)):
        balls.append(ball if value is None else LpBall(ball.p, value))
    return ThreatUnion(balls)


def load_dataset(args, train: bool):
    """The dataset the options name, as a Dataset of (x in [0,1], y)."""
    from torch.utils.data import TensorDataset

    from .. import data

    name = args.dataset
    if name.endswith("-samples"):
        x, y = data.sample_images(name.removesuffix("-samples"))
        ds = TensorDataset(x, y)
    elif name == "fashion_mnist":
        ds = data.fashion_mnist(train, root=args.data_root, download=args.download)
    elif name == "cifar10":
        ds = data.cifar10(train, root=args.data_root, download=args.download)
    else:
        if not args.data_root:
            raise ValueError("--dataset imagenet needs --data-root (a folder with train/ and val/ ImageFolder trees)")
        ds = data.imagenet(args.data_root, "train" if train else "val")
    if train and getattr(args, "n_train", None):
        ds = data.subset(ds, args.n_train, seed=getattr(args, "seed", 0))
        if not isinstance(ds, TensorDataset) and hasattr(ds, "dataset") and isinstance(ds.dataset, TensorDataset):
            x, y = data.tensors(ds)
            ds = TensorDataset(x, y)
    return ds


def load_model(args, arch: str | None, checkpoint: str | None):
    """Build the architecture and load weights: a file path, a RobustBench name, or a shipped pretrained model."""
    from .. import models

    if checkpoint and checkpoint in models.PRETRAINED:
        return models.load_pretrained(checkpoint)
    model = models.build_model(arch or DEFAULT_ARCH[args.dataset])
    if checkpoint:
        path = pathlib.Path(checkpoint)
        if path.suffix != ".pt" and not path.exists():
            threat = getattr(args, "robustbench_threat", "Linf")
            return models.load_robustbench(checkpoint, PRESET_OF[args.dataset].split("-")[0], threat,
                                           getattr(args, "model_dir", "models"))
        state = models.read_state_dict(path)
        target = model[-1] if hasattr(model, "__getitem__") and not any(k.startswith("0.") for k in state) else model
        models.load_weights(target, state, source=str(path))
    return model


def command_line() -> str:
    return " ".join(["python -m lpgeom", *sys.argv[1:]])


def load_config_file(path: str | None) -> dict:
    if not path:
        return {}
    p = pathlib.Path(path)
    if not p.is_file():
        raise ValueError(f"--config {path}: no such file")
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"--config {path} is not valid JSON: {err}") from None
