"""Load weights safely (``weights_only=True``) with errors that say what is wrong, and verify lpgeom's own.

Every weights file lpgeom writes carries its digest (:func:`state_digest`, a digest of the
tensors' names, shapes, dtypes and bytes: what records call ``model_sha256``) inside: a
safetensors file (``*.safetensors``, written by :func:`write_state_dict`) in its metadata
(``lpgeom_sha256``), a torch state dict file (``model.pt``, ``best.pt``) as an attribute
of the saved ``OrderedDict`` (invisible to other tools, which read a plain state dict), a
training checkpoint (``last.pt``, ``previous.pt``) under the key ``"sha256"``. Beside a
weights file :func:`write_state_dict` writes ``<file>.sha256``: the sha256 of the file's
bytes in ``sha256sum``'s format, so ``sha256sum -c model.safetensors.sha256`` checks it
(older lpgeom wrote the content digest there; both are accepted on reading). Reading
verifies it; a file lpgeom wrote in a run folder that carries no digest is refused (it
cannot be told from a corrupt one). Files from elsewhere (RobustBench's layout, a plain
state dict) carry none: they are read and reported unverified (:attr:`WeightsFile.verified`).

RobustBench's layout: ``<model_dir>/<dataset>/<threat>/<Name>.pt``, state dicts possibly
under ``"state_dict"`` (or ``"model"``), keys possibly prefixed by ``module.`` or ``model.``.
"""
from __future__ import annotations

import hashlib
import os
import pathlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

__all__ = ["read_state_dict", "read_weights", "WeightsFile", "write_state_dict", "load_weights", "load_network_weights",
           "CheckpointError",
           "strip_prefixes", "state_digest", "split_digest", "digest_path", "RUN_CHECKPOINT_NAMES", "DIGEST_KEY",
           "file_sha256", "SAFETENSORS_SUFFIX"]

DIGEST_SUFFIX = ".sha256"
DIGEST_KEY = "sha256"  # a training checkpoint's digest entry
DIGEST_ATTRIBUTE = "lpgeom_sha256"  # a state dict file's digest, an attribute of the saved OrderedDict
# (and the metadata key of a safetensors file)
KEYS_METADATA = "lpgeom_keys"  # a safetensors file's tensor order (safetensors sorts them; the digest follows the order)
SAFETENSORS_SUFFIX = ".safetensors"
# the names lpgeom gives its weights files in a run folder, and the files that mark such a folder
RUN_CHECKPOINT_NAMES = ("model.safetensors", "best.safetensors", "model.pt", "best.pt", "last.pt", "previous.pt")
_RUN_MARKERS = ("metrics.jsonl", ".lock")


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: corrupt, truncated, unverifiable, or for another architecture."""


@dataclass(frozen=True)
class WeightsFile:
    """A state dict read from a file, with what is known of its integrity.

    Attributes
    ----------
    state : dict of str to Tensor
        The weights (wrapper keys and prefixes removed).
    digest : str
        :func:`state_digest` of the file's content as read (64 hexadecimal digits).
    verified : bool
        True if the file carried a digest lpgeom wrote and the content matched it; False for
        a file from elsewhere (no digest: its integrity is unknown).
    """

    state: dict[str, torch.Tensor]
    digest: str
    verified: bool


def split_digest(obj: Any) -> tuple[Any, str | None]:
    """The content of a loaded checkpoint and the digest lpgeom recorded in it (None if it carries none).

    A training checkpoint (a dict with a ``"sha256"`` string entry) gives the dict without
    that entry; a state dict written by :func:`write_state_dict` keeps its content and gives
    its ``lpgeom_sha256`` attribute.
    """
    if isinstance(obj, dict) and isinstance(obj.get(DIGEST_KEY), str):
        return {k: v for k, v in obj.items() if k != DIGEST_KEY}, obj[DIGEST_KEY]
    recorded = getattr(obj, DIGEST_ATTRIBUTE, None) if isinstance(obj, OrderedDict) else None
    return obj, recorded if isinstance(recorded, str) else None


def _in_run_folder(path: pathlib.Path) -> bool:
    """Whether ``path`` is one of the weights files of an lpgeom training run (which always carry a digest)."""
    path = path.resolve()  # a link to a run's file is that file
    return path.name in RUN_CHECKPOINT_NAMES and any((path.parent / m).exists() for m in _RUN_MARKERS)


def read_weights(path: str | os.PathLike, map_location: str | torch.device = "cpu",
                 require_digest: bool = False) -> WeightsFile:
    """Read a state dict with ``torch.load(..., weights_only=True)`` and verify it if it carries a digest.

    The digest is the one inside the file (what lpgeom writes), or, for files of older lpgeom
    versions, a ``<path>.sha256`` file beside it.

    Parameters
    ----------
    path : path-like
        A state dict file, a training checkpoint (its ``"model"`` entry) or a file holding
        the state dict under ``"state_dict"``, ``"model_state_dict"`` or ``"model"``.
    map_location : str or torch.device
    require_digest : bool
        Refuse a file without a digest. Always the case for a weights file of an lpgeom run
        (``model.pt``, ``best.pt``, ``last.pt``, ``previous.pt`` next to the run's
        ``metrics.jsonl`` or ``.lock``).

    Returns
    -------
    WeightsFile

    Raises
    ------
    FileNotFoundError
        If the file does not exist (``IsADirectoryError`` if it is a folder).
    CheckpointError
        If the file is corrupt or truncated, does not match its digest, carries none where
        one is required, or holds no state dict.
    """
    path = pathlib.Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"checkpoint {path} is a folder; give a weights file (e.g. {path / 'model.pt'})")
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        if path.suffix == SAFETENSORS_SUFFIX:
            obj, inside = _load_safetensors(path, map_location)
        else:
            obj, inside = split_digest(torch.load(path, map_location=map_location, weights_only=True))
    except Exception as err:  # any unreadable file: torch and safetensors raise many types
        raise CheckpointError(f"checkpoint {path} is corrupt or truncated ({type(err).__name__}: {err})") from None
    digest = state_digest(obj)
    recorded = {"the digest it carries": inside}
    if digest_path(path).is_file():
        text = digest_path(path).read_text(encoding="utf-8", errors="replace").split()  # damaged: a mismatch
        sidecar = text[0] if text else ""
        # the file's own sha256 (sha256sum format), or, from older lpgeom, the content digest
        recorded[f"its digest in {digest_path(path).name}"] = digest if sidecar in (digest, file_sha256(path)) else sidecar
    if all(value is None for value in recorded.values()) and (require_digest or _in_run_folder(path)):
        raise CheckpointError(f"checkpoint {path} carries no digest, so it cannot be verified (lpgeom writes one into "
                              "every checkpoint of a run: the file was replaced or damaged); train the run again, "
                              "or copy the file out of the run folder to load it as unverified weights")
    for where, value in recorded.items():
        if value is not None and value != digest:
            raise CheckpointError(f"checkpoint {path} does not match {where} (the file is corrupt or was replaced)")
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(obj, Mapping) and isinstance(obj.get(key), Mapping):
            obj = obj[key]
            break
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"checkpoint {path} does not hold a state dict of tensors")
    return WeightsFile(strip_prefixes(dict(obj)), digest, any(value is not None for value in recorded.values()))


def read_state_dict(path: str | os.PathLike, map_location: str | torch.device = "cpu",
                    require_digest: bool = False) -> dict[str, torch.Tensor]:
    """The state dict of :func:`read_weights` (verified where it carries a digest; see there)."""
    return read_weights(path, map_location, require_digest).state


def digest_path(path: str | os.PathLike) -> pathlib.Path:
    """Where the digest of a state-dict file also lives: ``<path>.sha256``."""
    path = pathlib.Path(path)
    return path.with_name(path.name + DIGEST_SUFFIX)


def write_state_dict(state: Mapping[str, torch.Tensor], path: str | os.PathLike) -> str:
    """Save a state dict atomically with its :func:`state_digest` inside, and ``<path>.sha256``; returns the digest.

    A path ending in ``.safetensors`` is written in the safetensors format (tensors only; the
    digest and the tensors' order in its metadata); any other as a torch file. ``<path>.sha256``
    holds the sha256 of the written file in ``sha256sum``'s format (``sha256sum -c`` checks it).

    Tensors are saved on the CPU whatever device they are on (the digest does not depend on
    the device), so weights written on a GPU load anywhere without ``map_location``.

    A torch file stays a plain state dict (an ``OrderedDict`` of tensors any tool reads); the
    digest is an attribute of it, checked by :func:`read_weights`. The ``.sha256`` file
    beside it is written after the weights.

    Raises
    ------
    OSError
        If a file cannot be written (one sentence naming it; no temporary file left).
    """
    from ..utils.files import atomic_torch_save, atomic_write_bytes, atomic_write_text, check_write_target, remove_file

    path = pathlib.Path(path)
    # CPU tensors: a file written by a GPU run loads with a bare torch.load on a machine without one
    payload = OrderedDict((k, v.detach().cpu() if isinstance(v, torch.Tensor) else v) for k, v in state.items())
    digest = state_digest(payload)
    check_write_target(path)  # a link there is refused before the old digest is removed
    check_write_target(digest_path(path))
    remove_file(digest_path(path))  # never an old digest next to new weights
    if path.suffix == SAFETENSORS_SUFFIX:
        atomic_write_bytes(path, _safetensors_bytes(payload, digest, path))
    else:
        setattr(payload, DIGEST_ATTRIBUTE, digest)
        atomic_torch_save(payload, path)
    atomic_write_text(digest_path(path), f"{file_sha256(path)}  {path.name}\n")  # what `sha256sum -c` checks
    return digest


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of the file's bytes (what ``sha256sum`` prints), read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _safetensors_bytes(payload: Mapping[str, Any], digest: str, path: pathlib.Path) -> bytes:
    """The safetensors serialisation of a flat state dict of tensors, digest and key order in its metadata."""
    import json

    from safetensors.torch import save

    others = [k for k, v in payload.items() if not isinstance(v, torch.Tensor)]
    if others:
        raise TypeError(f"{path.name}: a safetensors file holds tensors only, the state has other values under "
                        f"{', '.join(others[:3])}; write it as a .pt file")
    tensors = {k: v.contiguous().clone() for k, v in payload.items()}  # no shared storage (tied weights)
    return save(tensors, metadata={DIGEST_ATTRIBUTE: digest, KEYS_METADATA: json.dumps(list(tensors)),
                                   "format": "pt"})


def _load_safetensors(path: pathlib.Path, map_location: str | torch.device) -> tuple[dict[str, torch.Tensor], str | None]:
    """The tensors of a safetensors file in the order they were written, and the digest its metadata carries."""
    import json

    from safetensors import safe_open

    device = str(map_location) if not isinstance(map_location, torch.device) else str(map_location)
    with safe_open(str(path), framework="pt", device=device) as fh:
        metadata = fh.metadata() or {}
        names = list(fh.keys())
        order = json.loads(metadata[KEYS_METADATA]) if KEYS_METADATA in metadata else sorted(names)
        if sorted(order) != sorted(names):
            raise ValueError(f"its metadata lists other tensors than it holds")
        state = OrderedDict((name, fh.get_tensor(name)) for name in order)
    return state, metadata.get(DIGEST_ATTRIBUTE)


def strip_prefixes(state: dict[str, torch.Tensor], prefixes: tuple[str, ...] = ("module.", "model.")) -> dict[str, torch.Tensor]:
    """Remove DataParallel / wrapper prefixes shared by every key."""
    changed = True
    while changed and state:
        changed = False
        for prefix in prefixes:
            if all(k.startswith(prefix) for k in state):
                state = {k[len(prefix):]: v for k, v in state.items()}
                changed = True
    return state


def load_weights(model: nn.Module, state: Mapping[str, torch.Tensor], source: str = "checkpoint") -> nn.Module:
    """Load ``state`` into ``model`` strictly, explaining any mismatch.

    Raises
    ------
    CheckpointError
        Missing or unexpected keys, shape mismatches (the first few are listed), or NaN or
        infinite values.
    """
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
              for k in own if k in state and state[k].shape != own[k].shape]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing keys (e.g. {', '.join(missing[:3])})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys (e.g. {', '.join(unexpected[:3])})")
        if shapes:
            parts.append(f"{len(shapes)} shape mismatches (e.g. {'; '.join(shapes[:2])})")
        raise CheckpointError(f"{source} is for another architecture than {type(model).__name__}: " + ", ".join(parts))
    nonfinite = [k for k in own if state[k].is_floating_point() and not bool(torch.isfinite(state[k]).all())]
    if nonfinite:
        raise CheckpointError(f"{source} holds NaN or infinite values in {len(nonfinite)} tensor(s) (e.g. "
                              f"{', '.join(nonfinite[:3])}): a model with them gives no usable output")
    model.load_state_dict(state, strict=True)
    return model


def load_network_weights(model: nn.Module, state: Mapping[str, torch.Tensor], source: str = "checkpoint") -> nn.Module:
    """Load ``state`` into ``model`` (:func:`load_weights`), or into the network after its ``Normalize`` layer.

    A model built as ``Sequential(Normalize, net)`` takes weights of ``net`` alone (no key
    starting with ``"0."``: RobustBench's files, the shipped pretrained models) into ``net``;
    any other state is loaded into ``model`` itself. Returns ``model``.

    Raises
    ------
    CheckpointError
        As :func:`load_weights`.
    """
    network_only = isinstance(model, nn.Sequential) and not any(k.startswith("0.") for k in state)
    load_weights(model[-1] if network_only else model, state, source=source)
    return model


def state_digest(state: Any) -> str:
    """SHA-256 of a (nested) checkpoint: every tensor's name, size, dtype and bytes, every other value's repr.

    Dicts are walked in their order (``torch.save``/``torch.load`` keep it), lists and tuples
    by position; a tensor under ``"a.b"`` contributes ``"a.b(numel,)dtype"`` and its bytes. For
    a flat state dict of tensors this is the weights digest the study records
    (``model_sha256``), so the two agree.

    Parameters
    ----------
    state : Mapping, list, tuple, Tensor or plain value

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    digest = hashlib.sha256()
    _feed(digest, "", state)
    return digest.hexdigest()


def _feed(digest, name: str, value: Any) -> None:
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{name}{tuple(t.shape)}{t.dtype}".encode())
        digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _feed(digest, f"{name}.{key}" if name else str(key), item)
    elif isinstance(value, (list, tuple)):
        digest.update(f"{name}[{len(value)}]".encode())
        for i, item in enumerate(value):
            _feed(digest, f"{name}[{i}]", item)
    else:
        digest.update(f"{name}={value!r}".encode())
