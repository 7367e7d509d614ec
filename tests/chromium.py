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


def run_chromium(url: str, tmp_path: pathlib.Path, *extra: str) -> subprocess.CompletedProcess:
    args = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
            f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=20000", *extra, url]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)
