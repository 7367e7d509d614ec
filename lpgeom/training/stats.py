"""Per-step training statistics as one typed record, kept on the device until they are logged.

A scheme's ``training_loss`` returns a :class:`StepStats` next to its loss. Its numbers are
0-dim tensors on the training device, so building and accumulating them never waits for
the device; per-norm statistics are dicts keyed by ``ball.name``. The loop adds the loss
and the clean error, accumulates every step into :class:`StatsTotals` (on the device) and
reads numbers only at log steps and epoch ends, through :meth:`StepStats.to_floats` and
:meth:`StatsTotals.means`: one host synchronisation each.

The flat names are those of ``metrics.jsonl`` (recorded runs still read):

=======================  ========================================================================
``loss``, ``clean_err``  training loss, clean error of the batch after the step
``norm``                 the norm drawn for this batch (E-AT, SAT), a string
``phase``                the active sub-scheme (``SwitchAt``), a string
``p_<name>``             sampling probability of a norm (E-AT)
``rerr_<name>``          robust error: running (E-AT) or of this batch (MAX, AVG, single-norm AT)
``batch_rerr_<name>``    robust error of this batch against the drawn norm (E-AT, SAT)
``share_<name>``         share of the batch where a norm gave the highest loss (MAX, MSD)
anything in ``extra``    under its own flat name
=======================  ========================================================================
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch

__all__ = ["StepStats", "StatsTotals"]

Number = torch.Tensor | float | int

# flat prefix -> StepStats field holding a per-norm dict; longest prefix first ("batch_rerr_" before "rerr_")
_PER_NORM = (("batch_rerr_", "batch_rerr"), ("rerr_", "rerr"), ("share_", "share"), ("p_", "p"))
_TEXT = ("norm", "phase")


def _scalar(value: Number) -> torch.Tensor:
    """A 0-dim tensor of ``value`` (a tensor keeps its device; no host synchronisation)."""
    t = value if isinstance(value, torch.Tensor) else torch.tensor(float(value), dtype=torch.float64)
    if t.numel() != 1:
        raise ValueError(f"a statistic must hold one number, got a tensor of shape {tuple(t.shape)}")
    return t.detach().reshape(())


@dataclass
class StepStats:
    """Statistics of one training step (numbers as 0-dim tensors, read only when logged).

    Attributes
    ----------
    loss, clean_err : Tensor, shape (), optional
        Filled in by the loop (the schemes leave them None).
    rerr, batch_rerr, p, share : dict[str, Tensor]
        Per-norm statistics keyed by ``ball.name`` (flat names ``rerr_<name>``, ...).
    norm, phase : str, optional
        The norm drawn for the batch; the active phase of a switching scheme.
    extra : dict[str, Tensor]
        Scheme-specific numbers under their flat log names.
    """

    loss: torch.Tensor | None = None
    clean_err: torch.Tensor | None = None
    rerr: dict[str, torch.Tensor] = field(default_factory=dict)
    batch_rerr: dict[str, torch.Tensor] = field(default_factory=dict)
    p: dict[str, torch.Tensor] = field(default_factory=dict)
    share: dict[str, torch.Tensor] = field(default_factory=dict)
    norm: str | None = None
    phase: str | None = None
    extra: dict[str, torch.Tensor] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Number | str]) -> StepStats:
        """Build from flat names (``{"rerr_L1": 0.3, "norm": "L1", ...}``), the format schemes used to return.

        Raises
        ------
        TypeError
            If a value is neither a number, a one-number tensor, nor (for ``norm``/``phase``) a string.
        """
        if isinstance(values, StepStats):
            return values
        stats = cls()
        for key, value in values.items():
            if key in _TEXT:
                if not isinstance(value, str):
                    raise TypeError(f"statistic {key!r} must be a string, got {type(value).__name__}")
                setattr(stats, key, value)
                continue
            if not isinstance(value, (torch.Tensor, float, int)) or isinstance(value, bool):
                raise TypeError(f"statistic {key!r} must be a number or a 0-dim tensor, got {type(value).__name__}")
            if key in ("loss", "clean_err"):
                setattr(stats, key, _scalar(value))
                continue
            for prefix, name in _PER_NORM:
                if key.startswith(prefix):
                    getattr(stats, name)[key[len(prefix):]] = _scalar(value)
                    break
            else:
                stats.extra[key] = _scalar(value)
        return stats

    def replace(self, **changes) -> StepStats:
        """A copy with some fields changed (e.g. ``stats.replace(loss=loss, clean_err=err)``)."""
        return dataclasses.replace(self, **changes)

    def numbers(self) -> dict[str, torch.Tensor]:
        """Every numeric statistic under its flat log name, as 0-dim tensors (no synchronisation)."""
        out: dict[str, torch.Tensor] = {}
        for key in ("loss", "clean_err"):
            if getattr(self, key) is not None:
                out[key] = _scalar(getattr(self, key))
        for prefix, name in reversed(_PER_NORM):  # p_, share_, rerr_, batch_rerr_: the order logs had
            out.update({prefix + norm: _scalar(v) for norm, v in getattr(self, name).items()})
        out.update({k: _scalar(v) for k, v in self.extra.items()})
        return out

    def texts(self) -> dict[str, str]:
        """The string statistics (``norm``, ``phase``) that are set."""
        return {k: getattr(self, k) for k in _TEXT if getattr(self, k) is not None}

    def to_floats(self) -> dict[str, float | str]:
        """Flat log record ``{"loss": ..., "rerr_L1": ..., "norm": "L1", ...}``: one host synchronisation."""
        numbers = self.numbers()
        return {**self.texts(), **_read(numbers)}


def _read(numbers: Mapping[str, torch.Tensor]) -> dict[str, float]:
    """Python floats of 0-dim tensors, read in one transfer per device."""
    if not numbers:
        return {}
    by_device: dict[torch.device, list[str]] = {}
    for key, value in numbers.items():
        by_device.setdefault(value.device, []).append(key)
    out: dict[str, float] = {}
    for keys in by_device.values():
        values = torch.stack([numbers[k].to(torch.float64) for k in keys]).tolist()
        out.update(zip(keys, values))
    return {k: out[k] for k in numbers}


class StatsTotals:
    """Sums and counts of step statistics, kept on the device (an epoch's running means).

    Each flat statistic is averaged over the steps that reported it (E-AT reports
    ``batch_rerr_L1`` only on the steps that drew l_1). Sums are float64.

    Examples
    --------
    >>> totals = StatsTotals()
    >>> totals += StepStats(loss=torch.tensor(1.0), rerr={"L1": torch.tensor(0.5)})
    >>> totals += StepStats(loss=torch.tensor(2.0))
    >>> totals.means()
    {'loss': 1.5, 'rerr_L1': 0.5}
    """

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}

    def add(self, stats: StepStats) -> None:
        """Add one step's numbers (no host synchronisation)."""
        for key, value in stats.numbers().items():
            value = value.to(torch.float64)
            self.sums[key] = self.sums[key] + value if key in self.sums else value
            self.counts[key] = self.counts.get(key, 0) + 1

    def __iadd__(self, stats: StepStats) -> StatsTotals:
        self.add(stats)
        return self

    def means(self) -> dict[str, float]:
        """Mean of every statistic over the steps that reported it: one host synchronisation."""
        return _read({k: self.sums[k] / self.counts[k] for k in self.sums})

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Sums and counts as CPU tensors (saved in checkpoints, so a resumed epoch's summary covers it all)."""
        state = {f"sum.{k}": v.detach().cpu() for k, v in self.sums.items()}
        state.update({f"count.{k}": torch.tensor(c, dtype=torch.int64) for k, c in self.counts.items()})
        return state

    def load_state_dict(self, state: Mapping[str, torch.Tensor], device: torch.device | str = "cpu") -> None:
        """Restore what :meth:`state_dict` saved, with the sums on ``device``."""
        self.sums = {k[4:]: v.to(device=device, dtype=torch.float64) for k, v in state.items() if k.startswith("sum.")}
        self.counts = {k[6:]: int(v) for k, v in state.items() if k.startswith("count.")}
        if self.sums.keys() != self.counts.keys():
            raise ValueError(f"statistics totals have sums for {sorted(self.sums)} but counts for {sorted(self.counts)}")
