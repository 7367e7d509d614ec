"""Per-point boolean flags stored compactly in JSON: bit-packed, base64-encoded.

A robustness record keeps one flag per test point and per key ("clean", each norm, "union").
Written as JSON lists of 0/1 with an indent, 1000 points took 1000 lines per key; packed they
take one line of 168 characters. The packed form of N flags is::

    {"n": N, "packbits": "<base64 of numpy.packbits(flags, bitorder='big')>"}

(the last byte's unused low bits are zero). :func:`unpack_flags` is the one reader of every
record: it reads this form and the old one (a list of 0/1), so records written before the
conversion (``scripts/pack_per_point_records.py``) still load.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["pack_flags", "unpack_flags", "pack_flag_array", "unpack_flag_array", "is_packed"]


def _as_bool_array(values: Any, name: str) -> np.ndarray:
    """(N,) numpy bool array of ``values`` (a bool/0-1 tensor, array or sequence), else ValueError/TypeError."""
    if hasattr(values, "detach"):  # a torch tensor, on any device
        values = values.detach().cpu().numpy()
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name}: per-point flags must be one-dimensional, got shape {array.shape}")
    if array.dtype == np.bool_:
        return array
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name}: per-point flags must be booleans or the integers 0 and 1, got dtype {array.dtype}")
    if array.size and not np.isin(array, (0, 1)).all():
        raise ValueError(f"{name}: per-point flags must be 0 or 1, got {sorted(set(array.tolist()) - {0, 1})[:5]}")
    return array.astype(bool)


def pack_flag_array(values: Any, name: str = "flags") -> dict[str, Any]:
    """One key's flags as ``{"n": N, "packbits": base64}``.

    Parameters
    ----------
    values : torch.Tensor | numpy.ndarray | Sequence[bool | int]
        Shape (N,): booleans, or integers that are all 0 or 1.
    name : str
        What error messages call them.
    """
    bits = _as_bool_array(values, name)
    return {"n": int(bits.size), "packbits": base64.b64encode(np.packbits(bits, bitorder="big").tobytes()).decode("ascii")}


def unpack_flag_array(stored: Any, name: str = "flags") -> np.ndarray:
    """(N,) numpy bool array from a packed entry (or from the old list of 0/1); checked strictly.

    Raises ``ValueError`` for a length that does not match ``n``, bad base64, nonzero padding
    bits, or list entries other than 0/1; ``TypeError`` for anything else.
    """
    if isinstance(stored, Mapping):
        if set(stored) != {"n", "packbits"}:
            raise ValueError(f"{name}: a packed entry has exactly the keys 'n' and 'packbits', got {sorted(stored)}")
        n, text = stored["n"], stored["packbits"]
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"{name}: 'n' must be a non-negative integer, got {n!r}")
        if not isinstance(text, str):
            raise TypeError(f"{name}: 'packbits' must be a base64 string, got {type(text).__name__}")
        try:
            raw = base64.b64decode(text.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as err:
            raise ValueError(f"{name}: 'packbits' is not valid base64 ({err})") from None
        if len(raw) != (n + 7) // 8:
            raise ValueError(f"{name}: {len(raw)} packed bytes cannot hold n={n} flags (needs {(n + 7) // 8})")
        bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="big")
        if bits[n:].any():
            raise ValueError(f"{name}: the padding bits after the {n} flags are not zero (corrupted record?)")
        return bits[:n].astype(bool)
    if isinstance(stored, (list, tuple)):
        if any(isinstance(v, bool) or not isinstance(v, int) for v in stored):
            raise TypeError(f"{name}: an unpacked list of flags holds only the integers 0 and 1")
        return _as_bool_array(np.asarray(stored, dtype=np.int64), name)
    raise TypeError(f"{name}: per-point flags are a packed entry or a list of 0/1, got {type(stored).__name__}")


def pack_flags(flags: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every key's flags packed: ``{"clean": {"n": N, "packbits": ...}, "Linf": ..., ...}`` (order kept)."""
    if not isinstance(flags, Mapping):
        raise TypeError(f"flags must be a mapping from names to (N,) flags, got {type(flags).__name__}")
    return {str(key): pack_flag_array(value, name=f"per_point[{key!r}]") for key, value in flags.items()}


def unpack_flags(stored: Mapping[str, Any]):
    """The one reader of per-point flags: ``{key: (N,) torch.bool tensor}`` from a record's ``per_point``.

    Parameters
    ----------
    stored : Mapping[str, dict | list]
        A record's ``per_point``: each value packed (:func:`pack_flags`) or, in records written
        before the conversion, a list of 0/1.

    Returns
    -------
    dict[str, torch.Tensor]
        Shape (N,) each, dtype ``torch.bool``, on the CPU, in the stored order.
    """
    import torch

    if not isinstance(stored, Mapping):
        raise TypeError(f"per_point must be a mapping from names to flags, got {type(stored).__name__}")
    return {key: torch.from_numpy(unpack_flag_array(value, name=f"per_point[{key!r}]").copy())
            for key, value in stored.items()}


def is_packed(stored: Mapping[str, Any]) -> bool:
    """True when every value of a ``per_point`` mapping is in the packed form."""
    return all(isinstance(v, Mapping) and set(v) == {"n", "packbits"} for v in stored.values())
