"""Timing helpers shared by the benchmarks: median of repeated runs after a warm-up."""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch


def median_seconds(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def synchronize(device: torch.device) -> None:
    """Wait for the work queued on ``device`` (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_median_seconds(fn: Callable[[], object], device: torch.device, repeats: int = 5, warmup: int = 1,
                          inner: int = 1) -> float:
    """Median over ``repeats`` of the time of ``inner`` back-to-back calls divided by ``inner``.

    The device is synchronised before and after each group of calls, so asynchronous GPU
    work is counted; ``inner`` > 1 amortises the synchronisation for sub-millisecond calls.
    """
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(inner):
            fn()
        synchronize(device)
        times.append((time.perf_counter() - t) / inner)
    return statistics.median(times)


def count_passes(model: torch.nn.Module, fn: Callable[[], object]) -> tuple[int, int]:
    """How many forward and backward passes of ``model`` one call of ``fn`` makes: ``(forwards, backwards)``.

    Counted with module hooks (removed afterwards), so a row's lower bound is the work the
    attack does, not the work it is assumed to do.
    """
    counts = [0, 0]

    def forward_hook(*_):
        counts[0] += 1

    def backward_hook(*_):
        counts[1] += 1

    handles = [model.register_forward_hook(forward_hook), model.register_full_backward_hook(backward_hook)]
    try:
        fn()
    finally:
        for handle in handles:
            handle.remove()
    return counts[0], counts[1]
