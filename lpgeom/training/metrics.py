"""Metrics of a run: ``metrics.jsonl``, one JSON object per line (step and epoch records), easy to plot.

:class:`MetricsLog` appends records (rank 0 only under DDP). A kill during an append can
leave a torn last line: :func:`read_metrics` skips it (it never was a complete record), and
a resume drops it with every record after the checkpoint. A malformed line elsewhere is an
error that names the file and the line. :class:`RunLog` is what the training loop writes:
step records at log steps, epoch summaries over the whole epoch (resumes included), and the
progress bar.
"""
from __future__ import annotations

import errno
import json
import os
import pathlib
import time

from ..utils.files import LinkRefusedError, atomic_write_text, check_write_target, open_append, os_error, remove_file
from .stats import StatsTotals, StepStats

__all__ = ["MetricsLog", "read_metrics", "RunLog", "METRICS_NAME"]

METRICS_NAME = "metrics.jsonl"


def _read_text(path: pathlib.Path) -> str:
    """The metrics file as text; bytes that are not UTF-8 (records are ASCII) in a torn last line are dropped,
    elsewhere they are an error naming the file and the line."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        if b"\n" not in data[err.start:]:  # inside the last, unfinished line: an append that was cut short
            return data[:data.rfind(b"\n") + 1].decode("utf-8", errors="replace")
        line = data[:err.start].count(b"\n") + 1
        raise ValueError(f"{path} line {line} is not text (byte {err.start} is not UTF-8): the file is damaged"
                         ) from None


def _parse(path: pathlib.Path, text: str) -> list[dict]:
    """Records of a metrics file's text; a torn last line is dropped, any other bad line is an error."""
    lines = text.split("\n")
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):  # the last line has no newline: an append that was cut short
                continue
            raise ValueError(f"{path} line {number} is not a JSON record: {line[:80]!r}") from None
        if not isinstance(record, dict):
            raise ValueError(f"{path} line {number} is not a JSON object: {line[:80]!r}")
        records.append(record)
    return records


class MetricsLog:
    """Append JSON lines to ``run_dir/metrics.jsonl`` (rank 0 only under DDP)."""

    def __init__(self, run_dir: str | os.PathLike, enabled: bool = True) -> None:
        self.path = pathlib.Path(run_dir) / METRICS_NAME
        self.enabled = enabled

    def write(self, record: dict) -> None:
        """Append one record.

        Raises
        ------
        OSError
            If the file cannot be written (disk full, read-only), naming it.
        """
        if not self.enabled:
            return
        line = json.dumps(record, default=float) + "\n"
        try:
            with open_append(self.path) as fh:  # O_NOFOLLOW: never appends through a link
                fh.write(line)
        except LinkRefusedError:
            raise
        except OSError as err:
            raise os_error(err.errno or errno.EIO, f"could not append to {self.path}: {err.strerror or err}") from err

    def _refuse_folder(self) -> None:
        if self.path.is_dir():
            raise IsADirectoryError(f"{self.path} is a folder, not the run's metrics log: remove or rename it")

    def clear(self) -> None:
        """Start an empty log (a fresh run)."""
        if self.enabled:
            self._refuse_folder()
            remove_file(self.path)

    def truncate_after(self, global_step: int) -> None:
        """On resume: keep the records up to ``global_step`` (later ones will be written again) and drop a torn line."""
        if not self.enabled:
            return
        check_write_target(self.path)  # a link is refused before it is read
        if not self.path.exists():
            return
        self._refuse_folder()
        records = _parse(self.path, _read_text(self.path))
        for record in records:
            step = record.get("global_step", 0)
            if isinstance(step, bool) or not isinstance(step, (int, float)):
                raise ValueError(f"{self.path} holds a record whose global_step is {step!r}, not a number: the file "
                                 "was edited or damaged")
        kept = [r for r in records if r.get("global_step", 0) <= global_step]
        atomic_write_text(self.path, "".join(json.dumps(r, default=float) + "\n" for r in kept))


def read_metrics(run_dir: str | os.PathLike, kind: str | None = None) -> list[dict]:
    """Records of a run's metrics log (``kind="step"`` or ``"epoch"`` to filter).

    A torn last line (a run killed while appending) is skipped.

    Raises
    ------
    FileNotFoundError
        If the run has no metrics log.
    ValueError
        If a line other than the last is not a JSON object (the file and line are named), or
        ``kind`` is not None, ``"step"`` or ``"epoch"``.
    """
    if kind not in (None, "step", "epoch"):
        raise ValueError(f"kind must be None, 'step' or 'epoch', got {kind!r}")
    path = pathlib.Path(run_dir) / METRICS_NAME
    if not path.exists():
        raise FileNotFoundError(f"no metrics log at {path}")
    records = _parse(path, _read_text(path))
    return [r for r in records if kind is None or r.get("kind") == kind]


class RunLog:
    """What the loop reports: step records every ``log_every`` steps, epoch summaries, a progress bar.

    Numbers are read from the device only here (at log steps and epoch ends). The epoch's
    sums live in :attr:`totals`, saved with checkpoints (:meth:`state_dict`), so the summary
    of an epoch resumed in the middle covers all of it.
    """

    def __init__(self, log: MetricsLog, log_every: int, steps_per_epoch: int, bar=None) -> None:
        self.log, self.log_every, self.steps_per_epoch, self.bar = log, log_every, steps_per_epoch, bar
        self.totals = StatsTotals()
        self.seconds_before = 0.0  # of the current epoch, before this process resumed it
        self._t0 = time.perf_counter()

    def start_epoch(self, resumed: dict | None = None) -> None:
        """Reset the sums and clock, or restore those of a checkpoint taken inside the epoch."""
        self.totals = StatsTotals()
        self.seconds_before = 0.0
        if resumed:
            self.totals.load_state_dict(resumed.get("totals", {}))
            self.seconds_before = float(resumed.get("seconds", 0.0))
        self._t0 = time.perf_counter()

    def state_dict(self) -> dict:
        """The epoch so far: statistics sums and elapsed seconds."""
        return {"totals": self.totals.state_dict(), "seconds": self.seconds_before + time.perf_counter() - self._t0}

    def step(self, stats: StepStats, epoch: int, step: int, global_step: int, lr: float) -> dict[str, float | str] | None:
        """Accumulate a step; at log steps (and an epoch's last step) write its record and return it."""
        self.totals.add(stats)
        record = None
        if global_step % self.log_every == 0 or step == self.steps_per_epoch - 1:
            values = stats.to_floats()
            record = {"kind": "step", "epoch": epoch, "step": step, "global_step": global_step, "lr": lr,
                      **{k: values[k] for k in ("loss", "clean_err") if k in values},
                      **{k: v for k, v in values.items() if k not in ("loss", "clean_err")}}
            self.log.write(record)
            if self.bar is not None:
                self.bar.set_postfix({k: (f"{v:.3f}" if isinstance(v, float) else v) for k, v in values.items()
                                      if k in ("loss", "clean_err", "norm") or k.startswith(("rerr", "p_"))})
        if self.bar is not None:
            self.bar.update(1)
        return record

    def epoch_summary(self, epoch: int, global_step: int) -> dict:
        """The epoch summary (means over every step of the epoch, seconds); the caller writes it."""
        return {"kind": "epoch", "epoch": epoch, "global_step": global_step,
                "seconds": self.seconds_before + time.perf_counter() - self._t0, **self.totals.means()}

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
