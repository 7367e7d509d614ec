"""Load weights safely (``weights_only=True``) with errors that say what is wrong.

Also reads checkpoints in RobustBench's layout: ``<model_dir>/<dataset>/<threat>/<Name>.pt``,
state dicts possibly under ``"state_dict"`` (or ``"model"``), keys possibly prefixed by
``module.`` or ``model.``.
"""
from __future__ import annotations

import hashlib
import os
import pathlib
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

__all__ = ["read_state_dict", "write_state_dict", "load_weights", "CheckpointError", "strip_prefixes", "state_digest",
           "digest_path"]

DIGEST_SUFFIX = ".sha256"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: corrupt, truncated, or for another architecture."""


def read_state_dict(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """Read a state dict from ``path`` with ``torch.load(..., weights_only=True)``.

    If a digest file ``<path>.sha256`` lies next to it (:func:`write_state_dict` writes one),
    the content is checked against it.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    CheckpointError
        If the file is corrupt or truncated, does not match its digest, or holds no state dict.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # any unreadable file: torch raises many types
        raise CheckpointError(f"checkpoint {path} is corrupt or truncated ({type(err).__name__}: {err})") from None
    recorded = digest_path(path)
    if recorded.is_file():
        expected = recorded.read_text().split()[0] if recorded.read_text().strip() else ""
        if state_digest(obj) != expected:
            raise CheckpointError(f"checkpoint {path} does not match its digest in {recorded.name} (the file is corrupt "
                                  "or was replaced without its digest)")
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(obj, Mapping) and isinstance(obj.get(key), Mapping):
            obj = obj[key]
            break
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"checkpoint {path} does not hold a state dict of tensors")
    return strip_prefixes(dict(obj))


def digest_path(path: str | os.PathLike) -> pathlib.Path:
    """Where the digest of a state-dict file lives: ``<path>.sha256``."""
    path = pathlib.Path(path)
    return path.with_name(path.name + DIGEST_SUFFIX)


def write_state_dict(state: Mapping[str, torch.Tensor], path: str | os.PathLike) -> str:
    """Save a state dict atomically, with its :func:`state_digest` in ``<path>.sha256``; returns the digest.

    The file stays a plain state dict (any tool reads it); :func:`read_state_dict` checks it
    against the digest file when that is present.

    Raises
    ------
    OSError
        If a file cannot be written (one sentence naming it; no temporary file left).
    """
    from ..utils.files import atomic_torch_save, atomic_write_text

    path = pathlib.Path(path)
    digest = state_digest(state)
    digest_path(path).unlink(missing_ok=True)  # never an old digest next to new weights
    atomic_torch_save(dict(state), path)
    atomic_write_text(digest_path(path), f"{digest}  {path.name}\n")
    return digest


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
        Missing or unexpected keys, or shape mismatches (the first few are listed).
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
    model.load_state_dict(state, strict=True)
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
