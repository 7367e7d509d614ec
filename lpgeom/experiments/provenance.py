"""Where a recorded result came from: command, commit, code revision, seed, versions, machine, profile, time."""
from __future__ import annotations

import datetime as dt
import functools
import importlib.metadata
import os
import pathlib
import platform
import subprocess
import sys

__all__ = ["provenance", "start_clock", "package_versions", "machine", "code_state", "CODE_REVISION", "CODE_REVISIONS",
           "record_revision"]

PACKAGES = ("torch", "torchvision", "numpy", "pyautoattack", "lpgeom")

#: Generations of the attack and training code. Results of different revisions are different
#: experiments (the attacks that train and evaluate the models changed) and never share a table
#: unlabelled; the study keeps them in separate folders (``<profile>/`` for 1, ``<profile>/r<N>/``
#: after). Bump the revision, with a line here, when a change alters what training or evaluation
#: computes (not for refactors whose results are bit-identical).
CODE_REVISIONS: dict[int, str] = {
    1: "lpgeom's first APGD (uniform-radius random start; l_1 checkpoints at 0.22 n): the cpu study of 2026-11-25, "
       "commits up to 95dd669",
    2: "APGD faithful to AutoAttack's reference rules (random start, checkpoints, l_1 sparsity adaptation; issue 12), "
       "which changes l_1 training and E-AT's sampling; MSD with SLIDE's l_1 step",
}
CODE_REVISION = max(CODE_REVISIONS)


def record_revision(record: dict) -> int:
    """The code revision a recorded result came from (records written before revisions existed are revision 1)."""
    return int(record.get("provenance", {}).get("code_revision", 1))


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

    The imported package is a checkout only if the folder above it has a ``.git`` and a
    ``pyproject.toml`` naming lpgeom (an editable install). An installed wheel (or a
    checkout git cannot read) gives ``commit: None`` and says so in ``source``, with the
    package version: a git repository that merely contains ``site-packages`` is never taken
    for lpgeom's.
    """
    from ..utils.locations import package_dir

    root = package_dir().parent
    try:
        version = importlib.metadata.version("lpgeom")
    except importlib.metadata.PackageNotFoundError:
        version = "not installed"
    project = root / "pyproject.toml"
    try:
        is_checkout = (root / ".git").exists() and project.is_file() and 'name = "lpgeom"' in project.read_text()
    except (OSError, UnicodeDecodeError):
        is_checkout = False
    if not is_checkout:
        return {"commit": None, "dirty": None,
                "source": f"installed package lpgeom {version} at {package_dir()}, not a git checkout"}
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "lpgeom"], cwd=root, capture_output=True,
                                    text=True).stdout.strip())
        return {"commit": commit, "dirty": dirty, "source": f"git checkout (lpgeom {version})"}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None,
                "source": f"lpgeom {version} in {root}, a checkout whose commit git could not read"}


def start_clock() -> dt.datetime:
    """The start of a recorded run: now (UTC), with the code state fixed for this process.

    Pass the result to :func:`provenance` when the run ends; every recorded run starts this
    way, so its record names the code it imported even if the checkout changes meanwhile.
    """
    code_state()
    return dt.datetime.now(dt.timezone.utc)


def provenance(profile: str, seed: int | None, started: dt.datetime, command: str | None = None) -> dict:
    """A provenance record for a result finished now (``profile`` may name a benchmark)."""
    if not isinstance(started, dt.datetime):
        raise TypeError(f"provenance started must be a datetime.datetime (start_clock()), got {started!r}")
    ended = dt.datetime.now(dt.timezone.utc)
    return {"command": command or " ".join([os.path.basename(sys.executable), *sys.argv]), **code_state(),
            "commit_taken_at": "process start", "code_revision": CODE_REVISION, "seed": seed, "profile": profile, "versions": package_versions(),
            "machine": machine(), "started": started.isoformat(timespec="seconds"), "ended": ended.isoformat(timespec="seconds"),
            "wall_seconds": round((ended - started).total_seconds(), 2)}
