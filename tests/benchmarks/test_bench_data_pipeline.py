"""benchmarks/bench_data_pipeline.py runs at a tiny size and reports what it promises."""
import importlib.util
import pathlib

import pytest

pytestmark = pytest.mark.slow  # starts worker processes three times

SCRIPT = pathlib.Path(__file__).parents[2] / "benchmarks" / "bench_data_pipeline.py"


def test_quick_run_reports_rates_and_waits(capsys):
    spec = importlib.util.spec_from_file_location("bench_data_pipeline", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = bench.main(["--quick"])
    assert out["serial"]["batches"] == out["parallel"]["batches"] == 4
    assert out["serial"]["batches_per_s"] > 0 and out["parallel"]["batches_per_s"] > 0 and out["speedup_epoch"] > 0
    assert out["parallel_slow_step"]["mean_wait_ms"] >= 0 and out["decode_transform_ms_per_image"] > 0
    assert "batches/s over the epoch" in capsys.readouterr().out
