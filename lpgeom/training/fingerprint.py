"""What defines a run, so that a resume with anything else is refused, naming what changed.

A run's fingerprint is a JSON-able dict saved in every checkpoint: the training settings
(:meth:`TrainConfig.fingerprint`: recipe, seed, epochs, ...), the model (class, names and
shapes of parameters and buffers), the data (size and a digest of its identity), the extra
data, the scheme and its settings (``scheme.describe()``: threats, radii, ...), the attacks'
settings (type, steps, radius), the threats of best-checkpoint selection and the caller's
``describe`` (except the command line).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset, Subset

__all__ = ["RunConflictError", "run_fingerprint", "fingerprint_differences", "unchecked_fields", "model_identity", "data_identity", "attack_settings",
           "numerics_environment"]

# describe() entries that may change between a run and its resume
VOLATILE_DESCRIBE = ("command",)
# fields added to the fingerprint later (a checkpoint without them is resumed, with a warning that they are unchecked)
LATER_FIELDS = ("content_sha256", "select_threats")


class RunConflictError(ValueError):
    """``run_dir`` holds another run (another fingerprint, or none to check): resuming it is refused.

    A ``ValueError`` (bad input: the folder given), its own class so that a study running many
    units can skip the one whose folder is taken and go on with the others.
    """


def model_identity(model: nn.Module) -> dict[str, Any]:
    """The architecture: class name and a digest of every parameter's and buffer's name, shape and dtype."""
    digest = hashlib.sha256()
    for name, t in model.state_dict().items():
        digest.update(f"{name}{tuple(t.shape)}{t.dtype};".encode())
    return {"class": type(model).__name__, "tensors": len(model.state_dict()), "shapes_sha256": digest.hexdigest()}


def _base_and_indices(dataset: Dataset) -> tuple[Dataset, list[int] | None]:
    indices: list[int] | None = None
    while isinstance(dataset, Subset):
        own = [int(i) for i in dataset.indices]
        indices = own if indices is None else [own[i] for i in indices]
        dataset = dataset.dataset
    return dataset, indices


def data_identity(dataset: Dataset) -> dict[str, Any]:
    """Size and a SHA-256 of what the data is, cheap to compute for any size.

    In-memory data (``.tensors``): the first and last images and all labels, and under
    ``"content_sha256"`` every byte of the images and labels (hashed in place, no copy; about
    0.5 s per GB). Folder data (``.samples`` of (path, label), e.g. ImageFolder): every file
    name (relative to ``.root``) and label. Other datasets: the first and last items.
    Subsets: their indices too.
    """
    base, indices = _base_and_indices(dataset)
    n = len(dataset)
    pick = (lambda i: i) if indices is None else (lambda i: indices[i])
    digest = hashlib.sha256()
    if indices is not None:
        digest.update(json.dumps(indices).encode())
    if n == 0:
        return {"size": 0, "sha256": digest.hexdigest()}
    tensors = getattr(base, "tensors", None)
    samples = getattr(base, "samples", None)
    if tensors is not None:
        x, y = tensors[0], tensors[1]
        for i in (pick(0), pick(n - 1)):
            digest.update(x[i].cpu().contiguous().numpy().tobytes())  # data may live on a GPU
        labels = y if indices is None else y[torch.as_tensor(indices)]
        digest.update(labels.cpu().contiguous().numpy().tobytes())
        content = digest.copy()  # the base tensors whole (with the subset's indices above): every image counts
        for t in (x, y):
            t = t.detach().cpu().contiguous()
            content.update(t.reshape(-1).view(torch.uint8).numpy() if t.numel() else b"")
        return {"size": n, "sha256": digest.hexdigest(), "content_sha256": content.hexdigest()}
    elif samples is not None:
        root = str(getattr(base, "root", ""))
        for i in range(n):
            path, label = samples[pick(i)]
            digest.update(f"{str(path).removeprefix(root)}\t{label}\n".encode())
    else:
        for i in (0, n - 1):
            x, y = dataset[i]
            digest.update(torch.as_tensor(x).cpu().contiguous().numpy().tobytes())
            digest.update(str(int(y)).encode())
    return {"size": n, "sha256": digest.hexdigest()}


def attack_settings(scheme: Any) -> list[str]:
    """The attacks a scheme holds (found among its attributes), each as ``Type(n_iter=.., eps=..)``, sorted."""
    found: list[str] = []
    seen: set[int] = set()

    def visit(obj: Any, depth: int) -> None:
        if id(obj) in seen or depth > 3:
            return
        seen.add(id(obj))
        if isinstance(obj, (list, tuple)):
            for item in obj:
                visit(item, depth + 1)
            return
        if hasattr(obj, "n_iter") and callable(obj):
            threat = getattr(obj, "threat", None) or getattr(obj, "ball", None)
            parts = [f"n_iter={obj.n_iter}"]
            if threat is not None and hasattr(threat, "eps"):
                parts.append(f"{getattr(threat, 'name', 'threat')}={threat.eps!r}")
            found.append(f"{type(obj).__name__}({', '.join(parts)})")
            return
        if hasattr(obj, "__dict__") and not isinstance(obj, (torch.Tensor, nn.Module, type)):
            for value in vars(obj).values():
                visit(value, depth + 1)

    visit(scheme, 0)
    return sorted(found)


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


def run_fingerprint(model: nn.Module, dataset: Dataset, scheme: Any, config_fingerprint: Mapping[str, Any],
                    extra: Dataset | None = None, describe: Mapping[str, Any] | None = None,
                    select_threats: Any = None) -> dict[str, Any]:
    """Everything that defines a run, as a JSON-able dict (see the module docstring).

    ``select_threats`` (the threats of best-checkpoint selection, if any) enters as ``{name: eps}``.
    """
    selection = {} if select_threats is None else {"select_threats": {b.name: b.eps for b in select_threats}}
    return _jsonable({**selection,
        "config": dict(config_fingerprint),
        "model": model_identity(model),
        "data": data_identity(dataset),
        "extra_data": None if extra is None else data_identity(extra),
        "scheme": scheme.describe(),
        "attacks": attack_settings(scheme),
        "describe": {k: v for k, v in (describe or {}).items() if k not in VOLATILE_DESCRIBE},
    })


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(obj, Mapping):
        out: dict[str, Any] = {}
        for key, value in obj.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out if out or not prefix else {prefix: {}}
    return {prefix: obj}


def unchecked_fields(saved: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """Fields added to the fingerprint after ``saved`` was written (in ``now`` only): they cannot be compared."""
    a, b = _flatten(_jsonable(saved)), _flatten(_jsonable(now))
    return sorted(key for key in b.keys() - a.keys() if key.endswith(LATER_FIELDS) or key.startswith(LATER_FIELDS))


def fingerprint_differences(saved: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """The fields where two fingerprints differ, as ``"config.lr: 0.1 (saved) vs 0.05 (now)"`` lines.

    Fields of :func:`unchecked_fields` (added to lpgeom's fingerprint after ``saved`` was
    written) are left out: a run saved by an older lpgeom stays resumable.
    """
    a, b = _flatten(_jsonable(saved)), _flatten(_jsonable(now))
    absent = "(absent)"
    later = set(unchecked_fields(saved, now))
    return [f"{key}: {json.dumps(a.get(key, absent))} (saved) vs {json.dumps(b.get(key, absent))} (now)"
            for key in sorted(a.keys() | b.keys()) if key not in later and a.get(key, absent) != b.get(key, absent)]


def numerics_environment(device: torch.device | str) -> dict[str, Any]:
    """What else decides the exact floating-point results: torch version, intra-op threads, device.

    Not part of the fingerprint (a run may move to another machine), but a resume under
    another environment is no longer bit-identical to an uninterrupted run: on the CPU the
    thread count alone changes the summation order of convolutions (measured on the study's
    ``cpu`` l_inf-AT unit: 1 vs 2 threads give losses that differ from the 5th step on, in the
    7th significant digit, and by the 10th step one more example of 128 is counted non-robust).
    """
    return {"torch": str(torch.__version__), "threads": torch.get_num_threads(), "device": str(torch.device(device))}
