"""Headless Debian Chromium for the browser tests (tests/ is on pytest's pythonpath)."""
import pathlib
import shutil
import subprocess

import pytest


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Chromium is needed for the browser tests (scripts/setup.sh installs Debian's chromium)")
    return path


def run_chromium(url: str, tmp_path: pathlib.Path, *extra: str, budget_ms: int = 20000) -> subprocess.CompletedProcess:
    """Load ``url`` headless; the page's timers get ``budget_ms`` of virtual time before Chromium returns."""
    args = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
            f"--user-data-dir={tmp_path / 'profile'}", f"--virtual-time-budget={budget_ms}", *extra, url]
    return subprocess.run(args, capture_output=True, text=True, timeout=120 + budget_ms / 1000)
