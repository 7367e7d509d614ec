"""Where a recorded result came from: command, commit, seed, versions, machine, profile, time."""
from __future__ import annotations

import datetime as dt
import functools
import importlib.metadata
import os
import pathlib
import platform
import subprocess
import sys

__all__ = ["provenance", "start_clock", "package_versions", "machine", "code_state"]

PACKAGES = ("torch", "torchvision", "numpy", "pyautoattack", "lpgeom")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def machine() -> dict[str, object]:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"platform": platform.platform(), "cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "gpu": gpu, "gpus": torch.cuda.device_count()}


@functools.lru_cache(maxsize=1)
def code_state() -> dict[str, object]:
    """The git commit of the lpgeom source and whether ``lpgeom/`` had uncommitted changes.

    Taken once per process, at the first call, and reused: a long study calls it before it
    trains anything, so its records name the code the process imported, not whatever the
    checkout holds when each record is written (edits and commits made during a run used
    to be attributed to it).
    """
    root = pathlib.Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "lpgeom"], cwd=root, capture_output=True,
                                    text=True).stdout.strip())
        return {"commit": commit, "dirty": dirty}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}


def start_clock() -> dt.datetime:
    """The start of a recorded run: now (UTC), with the code state fixed for this process.

    Pass the result to :func:`provenance` when the run ends; every recorded run starts this
    way, so its record names the code it imported even if the checkout changes meanwhile.
    """
    code_state()
    return dt.datetime.now(dt.timezone.utc)


def provenance(profile: str, seed: int | None, started: dt.datetime, command: str | None = None) -> dict:
    """A provenance record for a result finished now (``profile`` may name a benchmark)."""
    ended = dt.datetime.now(dt.timezone.utc)
    return {"command": command or " ".join([os.path.basename(sys.executable), *sys.argv]), **code_state(),
            "commit_taken_at": "process start", "seed": seed, "profile": profile, "versions": package_versions(),
            "machine": machine(), "started": started.isoformat(timespec="seconds"), "ended": ended.isoformat(timespec="seconds"),
            "wall_seconds": round((ended - started).total_seconds(), 2)}
