"""Cost ratios: the paper's Table 1 next to recorded benchmarks; a missing GPU record is said, not invented."""
import pytest

import lpgeom.experiments.cost as cost


def test_paper_ratios_and_missing_gpu_record(monkeypatch):
    def record(name):
        if name == "gpu":
            raise FileNotFoundError(name)
        return {"ratios": {"eat/linf": 0.97, "max/eat": 2.79}, "provenance": {"machine": {"cpu": "X"}, "ended": "t"}}

    monkeypatch.setattr(cost, "benchmark_record", record)
    frame = cost.cost_ratios_frame()
    assert frame.loc["E-AT / l_inf-AT", "paper (s / s)"] == "170 / 151"
    assert frame.loc["MAX / E-AT", "paper ratio"] == pytest.approx(466 / 170)
    assert frame.loc["MAX / E-AT", "CPU (recorded)"] == 2.79
    assert not any("GPU" in c for c in frame.columns)
    assert any("has not been recorded yet" in n and "bench_gpu.py" in n for n in frame.attrs["notes"])


def test_gpu_ratios_come_from_its_measured_steps(monkeypatch):
    steps = {"linf fp32": 80.0, "eat fp32": 100.0, "linf bf16+cl": 100.0, "eat bf16+cl": 120.0, "l1 fp32": 120.0,
             "max bf16+cl": 300.0}

    def record(name):
        if name == "gpu":
            return {"raw": {"training_step_ms": steps, "training_step_window_ms": {"linf fp32": [80.0, 88.0],
                                                                                  "eat fp32": [100.0, 100.0]}},
                    "provenance": {"device": "H100", "date": "d"}}
        raise FileNotFoundError(name)

    monkeypatch.setattr(cost, "benchmark_record", record)
    frame = cost.cost_ratios_frame()
    assert frame.loc["E-AT / l_inf-AT", "GPU fp32 (recorded)"] == pytest.approx(1.25)
    assert frame.loc["E-AT / l_inf-AT", "GPU bf16+cl (recorded)"] == pytest.approx(1.2)
    assert frame.loc["l_1-AT / l_inf-AT", "GPU fp32 (recorded)"] == pytest.approx(1.5)
    assert frame["GPU fp32 (recorded)"].isna()["MAX / E-AT"]
    assert frame.loc["MAX / E-AT", "GPU bf16+cl (recorded)"] == pytest.approx(2.5)
    assert frame["GPU bf16+cl (recorded)"].isna()["AVG / E-AT"]
    assert any("H100" in n for n in frame.attrs["notes"])
    assert any("differ by up to 10 %" in n for n in frame.attrs["notes"])


def test_window_spread():
    assert cost.window_spread({"a": [100.0, 110.0], "b": [50.0, 60.0, 55.0]}) == pytest.approx(0.2)
    assert cost.window_spread({"a": [100.0]}) is None
    assert cost.window_spread({}) is None
