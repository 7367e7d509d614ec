"""Folder-data pipeline: batches per second of real-size JPEGs with 0 vs N worker processes, and data waits.

The data: foolbox's 20 real ImageNet test images (``lpgeom.data.sample_images``'s files),
upscaled to 500 x 375 (about ImageNet's mean size) and written as JPEGs (quality 90) into a
temporary ImageFolder, copied until there are ``--images`` files. They are read with
``lpgeom.data.imagenet``'s training transform (decode, RandomResizedCrop(224), flip, to
tensor) through :func:`lpgeom.data.training_batches`, the stream the training loop uses.

Printed, per number of workers: batches per second over one epoch (worker start-up
included) and in the steady state, and the mean time a training step waits for its next
batch when the step itself takes ``0`` ms (a model faster than decoding) or ``--step-ms``
(a model slower than decoding). The step is simulated by ``time.sleep``: a GPU step leaves
the CPU free for the workers, which a sleeping process does too.

Run: ``.venv/bin/python benchmarks/bench_data_pipeline.py`` (``--quick`` for a seconds-long check).
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import tempfile
import time

import torch


def write_image_folder(root: pathlib.Path, n_images: int, size: tuple[int, int] = (500, 375)) -> int:
    """Write ``n_images`` JPEGs of ``size`` (W, H) from the shipped ImageNet samples; returns the bytes written."""
    from PIL import Image

    from lpgeom.data import samples_folder

    sources = sorted(p for p in samples_folder().iterdir() if p.name.startswith("imagenet_"))
    total = 0
    for i in range(n_images):
        src = sources[i % len(sources)]
        label = src.stem.split("_")[-1]
        folder = root / "train" / f"n{int(label):08d}"
        folder.mkdir(parents=True, exist_ok=True)
        image = Image.open(src).convert("RGB").resize(size, Image.BICUBIC)
        if (i // len(sources)) % 2:  # copies differ a little, as real files do
            image = image.transpose(Image.FLIP_LEFT_RIGHT)
        path = folder / f"{i:05d}.JPEG"
        image.save(path, quality=90)
        total += path.stat().st_size
    return total


def measure(dataset, batch_size: int, workers: int, step_seconds: float, epochs: int = 1) -> dict:
    """Time one pass: seconds per batch (first batch apart) and mean wait for the next batch per step."""
    from lpgeom.data import BatchPlan, training_batches

    plan = BatchPlan(len(dataset), batch_size, seed=0)
    stream = training_batches(dataset, plan, 0, 0, epochs, workers=workers, prefetch=2)
    waits, arrivals, t_start = [], [], time.perf_counter()
    t = t_start
    for _ in stream:
        now = time.perf_counter()
        waits.append(now - t)
        arrivals.append(now)
        if step_seconds:
            time.sleep(step_seconds)
        t = time.perf_counter()
    total = time.perf_counter() - t_start
    # steady state: after the batches prepared ahead (workers x prefetch) have been used up
    ahead = workers * 2 + 1
    steady_rate = None
    if not step_seconds and len(arrivals) > ahead + 1:
        steady_rate = (len(arrivals) - 1 - ahead) / (arrivals[-1] - arrivals[ahead])
    return {"workers": workers, "step_ms": 1000 * step_seconds, "batches": len(waits),
            "batches_per_s": len(waits) / total, "first_batch_s": waits[0], "steady_batches_per_s": steady_rate,
            "mean_wait_ms": 1000 * statistics.mean(waits[1:] or waits)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=320, help="JPEG files in the folder (default 320)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="worker processes to compare with 0 (default 2)")
    parser.add_argument("--step-ms", type=float, default=None,
                        help="simulated step slower than decoding (default: 3x the measured per-batch decode time "
                             "divided by the workers)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a few seconds: checks the script runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.images, args.batch_size = 16, 4
    torch.set_num_threads(1)  # decoding is single-threaded per process; keep the main process honest too

    from lpgeom.data import imagenet

    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        written = write_image_folder(root, args.images)
        dataset = imagenet(root, "train")
        t = time.perf_counter()
        for i in range(min(len(dataset), 40)):
            dataset[i]
        per_image_ms = 1000 * (time.perf_counter() - t) / min(len(dataset), 40)
        serial = measure(dataset, args.batch_size, 0, 0.0)
        parallel = measure(dataset, args.batch_size, args.workers, 0.0)
        decode_batch_s = 1 / serial["batches_per_s"]  # decoding in the process: its epoch rate
        slow_step = args.step_ms / 1000 if args.step_ms is not None else 3 * decode_batch_s / max(args.workers, 1)
        slow = measure(dataset, args.batch_size, args.workers, slow_step)
        serial_slow = measure(dataset, args.batch_size, 0, slow_step)
    out = {"cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
           "images": args.images, "mean_jpeg_kb": written / args.images / 1024, "batch_size": args.batch_size,
           "decode_transform_ms_per_image": per_image_ms, "serial": serial, "parallel": parallel,
           "parallel_slow_step": slow, "serial_slow_step": serial_slow,
           "speedup_epoch": parallel["batches_per_s"] / serial["batches_per_s"],
           "speedup_steady": (parallel["steady_batches_per_s"] / serial["steady_batches_per_s"]
                              if parallel["steady_batches_per_s"] and serial["steady_batches_per_s"] else None)}
    print(f"{args.images} JPEGs of 500x375 (mean {out['mean_jpeg_kb']:.0f} kB), batch {args.batch_size}, "
          f"{out['cpus']} CPUs visible; decode + RandomResizedCrop + flip: {per_image_ms:.1f} ms/image in-process")
    for name, r in (("0 workers", serial), (f"{args.workers} workers", parallel)):
        steady = f"{r['steady_batches_per_s']:6.2f}" if r["steady_batches_per_s"] else "   n/a"
        print(f"  {name:10s}: {r['batches_per_s']:6.2f} batches/s over the epoch (first batch {r['first_batch_s']:.2f} s), "
              f"{steady} batches/s steady; a step taking 0 ms waits {r['mean_wait_ms']:.1f} ms")
    steady = f"{out['speedup_steady']:.2f}x" if out["speedup_steady"] else "n/a (epoch too short)"
    print(f"  speed-up with {args.workers} workers: {out['speedup_epoch']:.2f}x over the epoch, {steady} steady")
    print(f"  a step taking {1000 * slow_step:.0f} ms waits {slow['mean_wait_ms']:.1f} ms for data with {args.workers} "
          f"workers, {serial_slow['mean_wait_ms']:.1f} ms with 0 (decoding in the step's process)")
    print(json.dumps(out, default=float))
    return out


if __name__ == "__main__":
    main()
