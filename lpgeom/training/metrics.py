"""Metrics log of a run: one JSON object per line (step and epoch records), easy to plot."""
from __future__ import annotations

import json
import os
import pathlib

__all__ = ["MetricsLog", "read_metrics"]


class MetricsLog:
    """Append JSON lines to ``run_dir/metrics.jsonl`` (rank 0 only under DDP)."""

    def __init__(self, run_dir: str | os.PathLike, enabled: bool = True) -> None:
        self.path = pathlib.Path(run_dir) / "metrics.jsonl"
        self.enabled = enabled

    def write(self, record: dict) -> None:
        if not self.enabled:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a") as fh:
            fh.write(json.dumps(record, default=float) + "\n")

    def truncate_after(self, global_step: int) -> None:
        """On resume: drop records written after the checkpoint (they will be written again)."""
        if not self.enabled or not self.path.exists():
            return
        kept = [line for line in self.path.read_text().splitlines()
                if line.strip() and json.loads(line).get("global_step", 0) <= global_step]
        self.path.write_text("".join(line + "\n" for line in kept))


def read_metrics(run_dir: str | os.PathLike, kind: str | None = None) -> list[dict]:
    """Records of a run's metrics log (``kind="step"`` or ``"epoch"`` to filter)."""
    path = pathlib.Path(run_dir) / "metrics.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"no metrics log at {path}")
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in records if kind is None or r.get("kind") == kind]
