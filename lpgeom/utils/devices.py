"""The one resolution of a device argument (``--device``, ``device=``), used by the CLI, training and evaluation.

A device is ``"cpu"``, ``"cuda"``, ``"cuda:N"`` (and ``"mps"`` where a caller allows it), as a
string or a ``torch.device``; one this machine lacks is refused at once with a sentence naming
the argument, instead of failing later inside a kernel.
"""
from __future__ import annotations

__all__ = ["default_device", "resolve_device", "DEVICE_TYPES"]

DEVICE_TYPES = ("cpu", "cuda", "mps")


def default_device() -> str:
    """``"cuda"`` if a CUDA device is available, else ``"cpu"``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _accepted(types: tuple[str, ...]) -> str:
    base = " or ".join(n for t, n in (("cpu", "cpu"), ("cuda", "cuda")) if t in types)
    base = "cpu, cuda or cuda:N" if base == "cpu or cuda" else base
    return base + (" (and mps)" if "mps" in types else "")


def resolve_device(device, name: str = "device", types: tuple[str, ...] = DEVICE_TYPES):
    """``device`` checked and parsed; ``None`` gives :func:`default_device`.

    Parameters
    ----------
    device : str, torch.device or None
    name : str
        What messages call it (``"--device"`` on the command line).
    types : tuple of str
        The device types the caller runs on (a subset of ``("cpu", "cuda", "mps")``).

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If ``device`` is not a device (a number, ``"gpu:0"``), of a type outside ``types``, or
        one this machine lacks (no CUDA, a CUDA index beyond the count, no MPS).
    """
    import torch

    accepted = _accepted(types)
    if device is None:
        return torch.device(default_device())
    if not isinstance(device, (str, torch.device)):
        raise ValueError(f"{name} {device!r} is not a device ({type(device).__name__}); give {accepted}")
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError):
        raise ValueError(f"{name} {device!r} is not a device; give {accepted}") from None
    if parsed.type not in types or (parsed.type == "cpu" and parsed.index not in (None, 0)):
        raise ValueError(f"{name} {device}: lpgeom runs on {accepted}, not on {parsed}")
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{name} {device}: CUDA is not available on this machine; give cpu")
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise ValueError(f"{name} {device}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if parsed.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"{name} {device}: MPS is not available on this machine; give cpu")
    return parsed
