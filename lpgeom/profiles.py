"""Size profiles: how big a notebook or experiment runs.

``LPGEOM_PROFILE`` selects one of

``smoke``  seconds: tiny subsets, a few steps; what the tests and CI run;
``cpu``    the recorded study at the scale 2 CPU cores allow (hours);
``full``   the paper's scale, on one or several GPUs.

The notebooks and :mod:`lpgeom.experiments` read the active profile; every result
records which profile produced it. What each Part II chapter runs at each profile is its
plan, :func:`lpgeom.experiments.plans.chapter_plan`.
"""
from __future__ import annotations

import os

PROFILES: tuple[str, ...] = ("smoke", "cpu", "full")
DEFAULT_PROFILE = "smoke"
ENV_VAR = "LPGEOM_PROFILE"


def active_profile(override: str | None = None) -> str:
    """Return the active profile name.

    Parameters
    ----------
    override : str, optional
        Use this profile instead of the environment variable.

    Returns
    -------
    str
        One of ``"smoke"``, ``"cpu"``, ``"full"``; ``"smoke"`` when nothing is set.

    Raises
    ------
    ValueError
        If the name (from ``override`` or ``LPGEOM_PROFILE``) is not a known profile.
    """
    name = override if override is not None else os.environ.get(ENV_VAR, DEFAULT_PROFILE)
    name = name.strip().lower()
    if name not in PROFILES:
        source = "argument" if override is not None else f"environment variable {ENV_VAR}"
        raise ValueError(f"unknown profile {name!r} (from the {source}); choose one of {', '.join(PROFILES)}")
    return name
