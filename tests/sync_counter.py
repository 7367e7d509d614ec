"""Count the calls that make the host wait for the device, without patching ``torch.Tensor``.

Patching ``torch.Tensor.__index__``/``__int__``/``__float__`` with ``monkeypatch`` leaves the
type's number slots changed after the undo (``torch.as_tensor`` of 0-d tensors then fails for
the rest of the session), so the counting is done by a ``TorchFunctionMode``: every tensor
method and torch function passes through it while it is active.
"""
from __future__ import annotations

import torch
from torch.overrides import TorchFunctionMode

SYNC_CALLS = frozenset({"item", "tolist", "__bool__", "__int__", "__float__", "__index__", "nonzero", "cpu",
                        "numpy", "masked_select"})


class SyncCounter(TorchFunctionMode):
    """``with SyncCounter() as c: ...`` then ``c.count``: host synchronisations seen (boolean-mask
    indexing included). ``forbid=True`` raises ``AssertionError`` at the first one instead."""

    def __init__(self, forbid: bool = False) -> None:
        super().__init__()
        self.count, self.forbid = 0, forbid

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        sync = name in SYNC_CALLS
        if name == "__getitem__" and len(args) > 1:
            parts = args[1] if isinstance(args[1], tuple) else (args[1],)
            sync = any(isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in parts)
        if sync:
            if self.forbid:
                raise AssertionError(f"host synchronisation: {name}")
            self.count += 1
        return func(*args, **(kwargs or {}))
