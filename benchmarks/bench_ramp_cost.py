"""Cost of a RAMP training step against E-AT's, measured in one run: time per step and passes counted by hooks.

Issue 30's expectation at paper scale: RAMP makes about 20 attack forward+backward passes
plus 3 forward and 1 backward per step against E-AT's 10 + 1 (roughly 1.8-2x per step),
plus one clean epoch per epoch with gradient projection. Here: the small CNN on real
Fashion-MNIST images, batch 128, 10 attack steps, on this machine's CPU (the passes are
counted with module hooks on the model, the times are medians over a few steps of the
same process, E-AT and RAMP interleaved). A backward pass is counted per forward graph it
runs through: RAMP's one ``loss.backward()`` over its three training forward passes counts 3.
With ``--gp-epoch``, gradient projection's extra clean epoch is timed as one epoch of RAMP
with and without it on a small training set.

Run: ``PYTHONPATH=. python benchmarks/bench_ramp_cost.py`` (about 2 minutes on a quiet 2-core CPU).
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
from torch.utils.data import TensorDataset

from _timing import count_passes
from lpgeom.data import fashion_mnist, subset, tensors
from lpgeom.models import build_model
from lpgeom.threats import fashion_mnist_threats
from lpgeom.training import TrainConfig, build_scheme, train
from lpgeom.training.step import StepSettings, training_step


def _step(model, optimizer, scheme, x, y, settings, global_step):
    return training_step(model, model, optimizer, scheme, x, y, 0.01, 0, global_step, settings)


def per_step(steps: int, batch: int) -> dict:
    """Median seconds per step and the (forward, backward) passes of one step, E-AT and RAMP interleaved."""
    x_all, y_all = tensors(subset(fashion_mnist(True), batch * steps, seed=0))
    threats, settings = fashion_mnist_threats(), StepSettings(torch.device("cpu"), seed=0)
    out = {}
    runs = {}
    for name in ("eat", "ramp"):
        torch.manual_seed(0)
        model = build_model("small_cnn")
        runs[name] = (model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9),
                      build_scheme(name, threats, n_iter=10))
        model_, opt, scheme = runs[name]
        passes = count_passes(model_, lambda: _step(model_, opt, scheme, x_all[:batch], y_all[:batch], settings, 0))
        out[name] = {"passes": passes, "seconds": []}
    for t in range(steps):
        x, y = x_all[t * batch:(t + 1) * batch], y_all[t * batch:(t + 1) * batch]
        for name, (model, opt, scheme) in runs.items():
            start = time.perf_counter()
            _step(model, opt, scheme, x, y, settings, t + 1)
            out[name]["seconds"].append(time.perf_counter() - start)
    for name in out:
        out[name]["median"] = statistics.median(out[name]["seconds"])
    return out


def epoch_with_projection(n_train: int, batch: int) -> dict:
    """Seconds of one epoch of RAMP without and with gradient projection (its clean epoch included)."""
    x, y = tensors(subset(fashion_mnist(True), n_train, seed=1))
    data, threats, out = TensorDataset(x, y), fashion_mnist_threats(), {}
    for gp in (False, True):
        torch.manual_seed(0)
        scheme = build_scheme("ramp", threats, n_iter=10, gradient_projection=gp)
        with tempfile.TemporaryDirectory() as run:
            start = time.perf_counter()
            train(build_model("small_cnn"), data, scheme, TrainConfig(epochs=1, batch_size=batch, progress=False), run)
            out["ramp+gp" if gp else "ramp"] = time.perf_counter() - start
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3, help="timed steps per scheme (default 3)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--gp-epoch", action="store_true", help="also time one epoch of RAMP with and without GP")
    parser.add_argument("--epoch-examples", type=int, default=256, help="training set of the GP epoch timing")
    args = parser.parse_args()
    print(f"small CNN, real Fashion-MNIST, batch {args.batch}, 10 attack steps, {torch.get_num_threads()} CPU threads")
    steps = per_step(args.steps, args.batch)
    for name, row in steps.items():
        fwd, bwd = row["passes"]
        print(f"  {name:>4}: {row['median'] * 1000:7.1f} ms/step (median of {args.steps}), passes of the model per "
              f"step: {fwd} forward, {bwd} backward")
    ratio = steps["ramp"]["median"] / steps["eat"]["median"]
    pass_ratio = sum(steps["ramp"]["passes"]) / sum(steps["eat"]["passes"])
    print(f"RAMP / E-AT time per step: {ratio:.2f}x (passes: {pass_ratio:.2f}x; issue's paper-scale expectation "
          "about 1.8-2x)")
    if not args.gp_epoch:
        return
    epochs = epoch_with_projection(args.epoch_examples, args.batch)
    print(f"one epoch of {args.epoch_examples} examples: RAMP {epochs['ramp']:.1f} s, RAMP+GP {epochs['ramp+gp']:.1f} s "
          f"({epochs['ramp+gp'] / epochs['ramp']:.2f}x: the clean epoch of gradient projection)")


if __name__ == "__main__":
    main()
