"""Cost of one epoch per training scheme, same model / data / attack steps, measured in one run.

Targets (issue): E-AT / l_inf-AT <= 1.10 (paper's GPU: 170 s / 151 s = 1.13); MAX / E-AT and
AVG / E-AT >= 2.5; MSD in between. Peak memory of E-AT within 10% of single-norm AT
(CPU: peak resident-set growth during the epoch, from /proc/self/status VmHWM after a reset).
Model: the small CNN on 2,048 real Fashion-MNIST training images, batch 128, 10 attack steps.
"""
from __future__ import annotations

import json
import os
import time

import torch
from torch.utils.data import TensorDataset

from lpgeom.data import fashion_mnist, subset, tensors
from lpgeom.experiments.paper_tables import RESULTS_DIR
from lpgeom.experiments.provenance import provenance, start_clock
from lpgeom.models import build_model
from lpgeom.threats import fashion_mnist_threats
from lpgeom.training import TrainConfig, build_scheme, train


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def _peak_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main(n_train: int = 2048) -> None:
    import tempfile

    started = start_clock()
    x, y = tensors(subset(fashion_mnist(True), n_train, seed=0))
    data = TensorDataset(x, y)
    threats = fashion_mnist_threats()
    print(f"small CNN, {n_train} Fashion-MNIST images, batch 128, 10 attack steps, {torch.get_num_threads()} threads")
    times, peaks = {}, {}
    for name in ("linf", "eat", "msd", "max", "avg"):
        torch.manual_seed(0)
        model = build_model("small_cnn")
        _reset_peak()
        with tempfile.TemporaryDirectory() as run:
            t = time.perf_counter()
            train(model, data, build_scheme(name, threats, n_iter=10), TrainConfig(epochs=1, batch_size=128, progress=False),
                  run, resume=False)
            times[name] = time.perf_counter() - t
        peaks[name] = _peak_mib()
        print(f"  {name:>5}: {times[name]:6.1f} s/epoch, peak RSS {peaks[name]:7.0f} MiB")
    print(f"E-AT / l_inf-AT = {times['eat'] / times['linf']:.2f} (target <= 1.10; paper 1.13)")
    print(f"MAX / E-AT = {times['max'] / times['eat']:.2f}, AVG / E-AT = {times['avg'] / times['eat']:.2f} (target >= 2.5)")
    print(f"MSD / E-AT = {times['msd'] / times['eat']:.2f} (expected between 1 and MAX's)")
    print(f"peak memory E-AT / l_inf-AT = {peaks['eat'] / peaks['linf']:.3f} (target within 10%)")
    record = {"seconds_per_epoch": times, "peak_rss_mib": peaks, "n_train": n_train, "model": "small_cnn",
              "ratios": {"eat/linf": times["eat"] / times["linf"], "max/eat": times["max"] / times["eat"],
                         "avg/eat": times["avg"] / times["eat"], "msd/eat": times["msd"] / times["eat"],
                         "peak eat/linf": peaks["eat"] / peaks["linf"]},
              "provenance": provenance("bench", 0, started, command="python benchmarks/bench_training_cost.py")}
    out = RESULTS_DIR.parent / "benchmarks" / "training_cost.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1, default=float))
    print(f"recorded in {out}")


if __name__ == "__main__":
    main(int(os.environ.get("BENCH_N_TRAIN", "2048")))
