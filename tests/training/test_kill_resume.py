"""A real training process killed with SIGKILL mid-run resumes and ends with the uninterrupted run's weights."""
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from lpgeom.training import read_metrics

pytestmark = pytest.mark.slow

ARGS = ["--dataset", "fashion_mnist", "--n-train", "1536", "--epochs", "2", "--batch-size", "64", "--steps", "3",
        "--lr", "0.05", "--milestones", "0.5", "--checkpoint-every", "4", "--no-progress", "--seed", "7"]


def cli(run_dir, *extra):
    return [sys.executable, "-m", "lpgeom", "train", *ARGS, "--run-dir", str(run_dir), *extra]


def test_sigkill_then_resume_matches_uninterrupted_run(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    subprocess.run(cli(tmp_path / "full"), check=True, env=env, capture_output=True)

    killed = tmp_path / "killed"
    proc = subprocess.Popen(cli(killed), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not (killed / "last.pt").exists():
        time.sleep(0.02)
    time.sleep(0.3)  # let it run past the checkpoint, into unsaved work
    assert proc.poll() is None, "the run finished before it could be killed; make it longer"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    state = torch.load(killed / "last.pt", weights_only=True)
    assert 0 < int(state["global_step"]) < 48, "killed too late to test mid-run resumption"

    out = subprocess.run(cli(killed), check=True, env=env, capture_output=True, text=True)
    assert '"status": "finished"' in out.stdout
    a = torch.load(tmp_path / "full" / "model.pt", weights_only=True)
    b = torch.load(killed / "model.pt", weights_only=True)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), "resumed weights differ"

    def records(run_dir):  # every step and epoch record, timings aside
        return [{k: v for k, v in r.items() if k != "seconds"} for r in read_metrics(run_dir)]

    assert records(killed) == records(tmp_path / "full"), "resumed metrics differ (or an epoch summary is partial)"
