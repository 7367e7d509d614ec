"""StepStats and StatsTotals: flat log names, device accumulation, one read, checkpointable totals."""
import pytest
import torch
from sync_counter import SyncCounter

from lpgeom.training.stats import StatsTotals, StepStats


def test_flat_names_are_those_of_recorded_logs():
    stats = StepStats(loss=torch.tensor(0.5), clean_err=torch.tensor(0.25), norm="L1",
                      p={"L1": torch.tensor(0.4), "Linf": torch.tensor(0.6)},
                      rerr={"L1": torch.tensor(0.3)}, batch_rerr={"L1": torch.tensor(0.2)},
                      share={"L2": torch.tensor(1.0)}, extra={"rerr_union": torch.tensor(0.1)})
    flat = stats.to_floats()
    assert flat == pytest.approx({"norm": "L1", "loss": 0.5, "clean_err": 0.25, "p_L1": 0.4, "p_Linf": 0.6,
                                  "share_L2": 1.0, "rerr_L1": 0.3, "batch_rerr_L1": 0.2, "rerr_union": 0.1})
    assert all(isinstance(v, float) for k, v in flat.items() if k != "norm")


def test_from_mapping_reads_the_old_dicts_back():
    old = {"norm": "Linf", "p_L1": 0.5, "p_Linf": 0.5, "rerr_L1": 0.1, "rerr_Linf": 0.2, "batch_rerr_Linf": 0.3,
           "share_L1": 0.25, "rerr_union": 0.7, "phase": "E-AT"}
    stats = StepStats.from_mapping(old)
    assert stats.norm == "Linf" and stats.phase == "E-AT" and set(stats.p) == {"L1", "Linf"}
    assert set(stats.batch_rerr) == {"Linf"} and set(stats.rerr) == {"L1", "Linf", "union"}
    assert stats.to_floats() == pytest.approx(old)
    with pytest.raises(TypeError, match="statistic 'norm' must be a string"):
        StepStats.from_mapping({"norm": 1})
    with pytest.raises(TypeError, match="statistic 'x' must be a number"):
        StepStats.from_mapping({"x": "a"})
    with pytest.raises(ValueError, match="one number"):
        StepStats.from_mapping({"x": torch.ones(2)})


def test_totals_average_each_statistic_over_the_steps_that_reported_it():
    totals = StatsTotals()
    values = [0.1, 0.2, 0.7]
    for i, v in enumerate(values):
        extra = {"batch_rerr": {"L1": torch.tensor(v)}} if i != 1 else {}
        totals += StepStats(loss=torch.tensor(v, dtype=torch.float32), **extra)
    means = totals.means()
    assert means["loss"] == sum(float(torch.tensor(v)) for v in values) / 3  # float64 sums of the float32 values
    assert means["batch_rerr_L1"] == pytest.approx((0.1 + 0.7) / 2)
    restored = StatsTotals()
    restored.load_state_dict(totals.state_dict())
    assert restored.means() == means and restored.counts == {"loss": 3, "batch_rerr_L1": 2}


def test_adding_does_not_synchronise():
    totals = StatsTotals()
    with SyncCounter(forbid=True):  # any host synchronisation raises AssertionError
        for _ in range(3):
            totals.add(StepStats(loss=torch.tensor(1.0), rerr={"L1": torch.tensor(0.5)}))
    assert totals.means() == {"loss": 1.0, "rerr_L1": 0.5}
