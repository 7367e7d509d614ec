"""A Part I notebook as a reader sees it in JupyterLab 4 (not the static book): MyST renders, solutions are
folded, the notebook runs, and the widget panel answers its controls with the exact preset values.

JupyterLab runs from .venv on a free loopback port with a token; Playwright (playwright-core, fetched by
scripts/fetch_web_assets.sh into .playwright/) drives Debian's Chromium (tests/book/jupyterlab_probe.cjs).
"""
import json
import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from chromium import chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAYWRIGHT = ROOT / ".playwright" / "node_modules" / "playwright-core"
NOTEBOOK = ROOT / "book" / "part1" / "union_vs_hull_2d.ipynb"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """JupyterLab serving a copy of the notebook (running it must not rewrite the repository's file)."""
    if not PLAYWRIGHT.is_dir():
        pytest.fail(f"{PLAYWRIGHT} missing: run scripts/fetch_web_assets.sh (npm install of playwright-core)")
    if shutil.which("node") is None:
        pytest.fail("node is needed to drive Chromium with Playwright (scripts/setup.sh installs npm, which brings it)")
    root = tmp_path / "lab"
    (root / "part1").mkdir(parents=True)
    shutil.copy(NOTEBOOK, root / "part1" / NOTEBOOK.name)
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, PYTHONPATH=str(ROOT), LPGEOM_PROFILE="smoke", JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    # render every cell (not only those scrolled into view), so that the checks see the whole notebook
    tracker = tmp_path / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    env.pop("LPGEOM_STATIC_BOOK", None)  # a live kernel: the panel's controls must be live
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}", "--ip=127.0.0.1",
         f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
         "--ServerApp.port_retries=0"], cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("JupyterLab exited:\n" + (tmp_path / "lab.log").read_text()[-3000:])
                time.sleep(0.5)
        yield f"{base}/lab/tree/part1/{NOTEBOOK.name}?token={token}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_part1_notebook_reads_runs_and_reacts_in_jupyterlab(lab, tmp_path):
    env = dict(os.environ, PLAYWRIGHT_CORE=str(PLAYWRIGHT), LAB_URL=lab, CHROMIUM=chromium(),
               SHOT=str(tmp_path / "lab.png"))
    proc = subprocess.run(["node", str(pathlib.Path(__file__).with_name("jupyterlab_probe.cjs"))], env=env,
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(json.dumps(result, indent=1, ensure_ascii=False))
    assert "error" not in result, result
    opened = result["opened"]
    # MyST renders: no role, directive, option, fence or label shows as raw text
    assert opened["rendered_myst"] == opened["markdown_cells"] > 0, opened
    assert not opened["raw"], f"raw MyST visible in JupyterLab: {opened['raw'][:5]}"
    # solutions folded until opened: the hidden code cells and the dropdown explanations
    assert opened["hidden_cells"] >= 2 and opened["folded"] == opened["hidden_cells"], opened
    assert opened["visible_solution_code"] == 0, opened
    assert opened["dropdowns"] >= 2 and opened["open_dropdowns"] == 0 and opened["visible_dropdown_body"] == 0, opened
    # it runs, and the panel answers: a p step changes the radii table; the preset gives the paper's exact radii
    assert not result["errors_in_outputs"], result["errors_in_outputs"]
    assert "l2 radii" in result["table_before"], result["table_before"]
    assert result["table_after_slider"] != result["table_before"], "moving the p slider changed nothing"
    after = result["table_after_preset"]
    assert "d=3072" in after and "PASS" in after, after
    assert "ε1=12," in after and "ε∞=0.0313725," in after and "0.613773" in after, after
    assert [float(v) for v in result["inputs_after_preset"][:2]] == [12.0, 8 / 255], result["inputs_after_preset"]
    assert not result["page_errors"], result["page_errors"]
