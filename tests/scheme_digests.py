"""A few training steps of every registered scheme on a tiny CPU model: final weights digest and metrics.

Used by ``test_scheme_digests.py`` to hold the loop's behaviour fixed across refactors.
Run as a script (``python tests/scheme_digests.py OUT.json``) it writes the fixture;
``tests/training/data/scheme_digests_c0a141d.json`` was written so at commit c0a141d, before the loop's
extension point was added. It uses only names that existed there.
"""
import hashlib
import json
import sys
import tempfile

import torch
from torch import nn
from torch.utils.data import TensorDataset

from lpgeom.threats import LpBall, ThreatUnion
from lpgeom.training import TrainConfig, build_scheme, read_metrics, train

# settings per scheme beyond n_iter (kept small: a run is a few seconds)
EXTRA = {"l2-eat": {"switch_epoch": 1}}
# (label, scheme, TrainConfig overrides): every scheme plain, a few also with bf16 autocast or augmentation
VARIANTS = [("plain", None, {})] + [("amp", s, {"amp": True}) for s in ("eat", "max")] + [
    ("augment", "linf", {"augment": True})]


def tiny_model() -> nn.Module:
    """Conv + BatchNorm + linear, 1x12x12 inputs, 10 classes (BatchNorm: train/eval modes matter)."""
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 36, 10))


def threats() -> ThreatUnion:
    return ThreatUnion([LpBall("inf", 0.1), LpBall(2, 1.0), LpBall(1, 4.0)])


def data() -> TensorDataset:
    gen = torch.Generator().manual_seed(0)
    return TensorDataset(torch.rand(32, 1, 12, 12, generator=gen), torch.randint(0, 10, (32,), generator=gen))


def state_digest(state: dict) -> str:
    h = hashlib.sha256()
    for key in sorted(state):
        h.update(key.encode())
        h.update(state[key].detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def scheme_settings(name: str) -> dict:
    settings = {"n_iter": 3, **EXTRA.get(name, {})}
    if name == "eat-calibrated":
        from lpgeom.training import EATCalibration

        settings["calibration"] = EATCalibration(every=2, n_points=4, n_iter=3)
    if name == "natural":
        settings = {}
    return settings


def run(name: str, run_dir, **overrides) -> dict:
    """Train ``name`` 2 epochs x 2 steps (batch 16, seed 3, one thread); the weights digest and the metrics."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(1)
        model = tiny_model()
        config = TrainConfig(**{"epochs": 2, "batch_size": 16, "lr": 0.1, "milestones": (0.5,), "seed": 3,
                                "progress": False, "log_every": 1, **overrides})
        scheme = build_scheme(name, threats(), **scheme_settings(name))
        train(model, data(), scheme, config, run_dir, resume=False)
        records = [{k: v for k, v in r.items() if k != "seconds"} for r in read_metrics(run_dir)]
        return {"weights": state_digest(model.state_dict()), "metrics": records}
    finally:
        torch.set_num_threads(threads)


def all_runs(names) -> dict:
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, only, overrides in VARIANTS:
            for name in ([only] if only else names):
                out[f"{label}/{name}"] = run(name, f"{tmp}/{label}-{name}", **overrides)
    return out


if __name__ == "__main__":
    from lpgeom.training import scheme_names

    result = {"torch": torch.__version__, "runs": all_runs(scheme_names())}
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")
