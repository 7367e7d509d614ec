"""Every row of issue 11's GPU table, measured in one run, with its target and PASS/FAIL.

    python benchmarks/bench_gpu.py            # on a CUDA machine: full size (meant to take under 5 minutes on one H100)
    python benchmarks/bench_gpu.py --tiny     # tiny sizes (automatic without CUDA): checks that it runs

A full CUDA run records every row and the raw timings in ``data/benchmarks/gpu.json`` with
provenance (device, torch/CUDA versions, command, git commit, date). A tiny or CPU run
never writes that file (``--out PATH`` writes its record elsewhere).

Needs only torch, torchvision, numpy, scipy, tqdm and (for the comparison rows)
pyautoattack: a bare GPU image. Models have random weights and the data are synthetic
(CIFAR-10 and ImageNet shapes, uniform pixels, random labels): speed does not depend on
them. Timings synchronise the device at the edges of each timed window only. Settings
are PyTorch's defaults: fp32 convolutions use TF32, fp32 matrix products do not.

What a row measures
-------------------
- training step: one step of lpgeom's training loop (:func:`lpgeom.training.train`):
  batch to the device, the scheme's attack (10 steps), loss, backward, SGD step, clean
  error, logging. Timed between the starts of consecutive ``training_loss`` calls after
  warm-up steps: the median of the timed windows' mean step times (robust to a window that
  the host disturbed); a ratio row's detail gives the range the windows allow.
- forward+backward: PreAct ResNet-18 in eval mode, the gradient of the cross-entropy with
  respect to the input (what one attack step costs); 11 of them (10 attack steps + the
  training pass) are the lower bound of an AT step.
- APGD: 10 iterations on the full batch (kuangliu ResNet-18, fp32), against the passes it
  makes, counted by module hooks (10 forward+backward and 1 forward: the last iterate's loss
  needs no gradient) at the measured forward+backward and forward times; pyautoattack's
  ``APGDAttack.attack_single_run`` on the same batch (its ``perturb`` attacks only the
  correctly classified points).
- projections: :func:`lpgeom.threats.project_l1_box` / ``project_l2_box`` with their
  default backend (compiled on CUDA) vs ``pyautoattack``'s ``L1_projection`` and vs the
  eager code.
- data pipeline: ImageNet-size JPEGs (synthetic, smooth content) decoded by
  :func:`lpgeom.data.loaders.training_batches` with 0 and N worker processes.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import io
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from _timing import count_passes, device_median_seconds, synchronize
from torch import nn
from torch.utils.data import TensorDataset

from lpgeom.attacks import APGD
from lpgeom.data.loaders import BatchPlan, default_workers, training_batches
from lpgeom.models import build_model
from lpgeom.threats import cifar10_threats, imagenet_threats, project_l1_box, project_l2_box
from lpgeom.training import TrainConfig, build_scheme, train
from lpgeom.utils import atomic_write_json

ROOT = pathlib.Path(__file__).resolve().parent.parent
RECORD = ROOT / "data" / "benchmarks" / "gpu.json"
IMAGENET_EAT_MS_BEFORE = 392.0  # issue 11: ResNet-50, batch 64, bf16 + channels_last, E-AT step on one H100


@dataclass(frozen=True)
class Sizes:
    """Problem sizes of one run (``FULL``: the issue's; ``TINY``: a check that everything runs)."""

    batch: int
    image: int
    attack_steps: int
    model: str
    model_kwargs: dict = field(default_factory=dict)
    apgd_model: str = "resnet18_kuangliu"
    apgd_kwargs: dict = field(default_factory=dict)
    warmup_steps: int = 3  # training steps before timing (the first ones compile, allocate)
    window: int = 5  # steps per timed window
    windows: int = 8  # the first H100 runs (4 windows) spread by up to 22 % within one scheme
    imagenet_batch: int = 64
    imagenet_image: int = 224
    imagenet_model: str = "resnet50"
    imagenet_kwargs: dict = field(default_factory=dict)
    imagenet_warmup: int = 2
    imagenet_window: int = 3
    imagenet_windows: int = 2
    l1_projections: tuple[tuple[int, int, float], ...] = ((128, 3072, 12.0), (32, 150528, 255.0))
    l2_projection: tuple[int, int, float] = (128, 3072, 0.5)
    repeats: int = 7
    jpegs: int = 640
    jpeg_size: tuple[int, int] = (500, 375)
    jpeg_batch: int = 32
    workers: int | None = None  # None: lpgeom's default for folder data
    compile_model: bool = True


FULL = Sizes(batch=128, image=32, attack_steps=10, model="preact_resnet18")
TINY = Sizes(batch=4, image=16, attack_steps=2, model="small_cnn", model_kwargs={"in_channels": 3, "image_size": 16},
             apgd_model="small_cnn", apgd_kwargs={"in_channels": 3, "image_size": 16}, warmup_steps=1, window=1,
             windows=2, imagenet_batch=2, imagenet_image=32, imagenet_model="small_cnn",
             imagenet_kwargs={"in_channels": 3, "image_size": 32}, imagenet_warmup=1, imagenet_window=1,
             imagenet_windows=1, l1_projections=((4, 768, 2.0), (2, 3072, 12.0)), l2_projection=(4, 768, 0.5),
             repeats=2, jpegs=8, jpeg_size=(64, 48), jpeg_batch=4, workers=2, compile_model=False)


@dataclass
class Row:
    """One line of the table: measured value, target and verdict (PASS, FAIL, INFO, SKIP or ERROR)."""

    name: str
    value: float | None
    unit: str
    target: str
    status: str
    detail: str = ""

    def formatted_value(self) -> str:
        if self.value is None:
            return "-"
        if self.unit == "x":
            return f"{self.value:.3f}x"
        if self.unit == "ms":
            return f"{self.value:.3f} ms" if self.value < 10 else f"{self.value:.1f} ms"
        if self.unit == "diff":
            return f"{self.value:.1e}"
        return f"{self.value:.1f} {self.unit}"


def check(name: str, value: float, op: str, bound: float, unit: str, detail: str = "") -> Row:
    """A row with a target ``value op bound`` (op one of <=, <, >=, >)."""
    passed = {"<=": value <= bound, "<": value < bound, ">=": value >= bound, ">": value > bound}[op]
    target = f"{op} {bound:g}{'x' if unit == 'x' else ' ms' if unit == 'ms' else ''}"
    return Row(name, value, unit, target, "PASS" if passed else "FAIL", detail)


def info(name: str, value: float | None, unit: str, detail: str = "") -> Row:
    return Row(name, value, unit, "-", "INFO", detail)


class Bench:
    """Runs the sections, keeps the rows and the raw measurements of one run."""

    def __init__(self, sizes: Sizes, device: torch.device, tiny: bool) -> None:
        self.sizes, self.device, self.tiny = sizes, device, tiny
        self.rows: dict[str, list[Row]] = {}
        self.raw: dict[str, object] = {}
        self.started = time.perf_counter()

    def section(self, key: str, fn: Callable[[], list[Row]]) -> None:
        t = time.perf_counter()
        print(f"[{time.perf_counter() - self.started:6.1f}s] {key} ...", flush=True)
        try:
            self.rows[key] = fn()
        except Exception as err:  # noqa: BLE001 - one broken section must not lose the others' rows
            traceback.print_exc()
            self.rows[key] = [Row(key, None, "", "-", "ERROR", f"{type(err).__name__}: {str(err)[:300]}")]
        self.raw.setdefault("section_seconds", {})[key] = time.perf_counter() - t
        for row in self.rows[key]:
            print(f"         {row.status:5} {row.name}: {row.formatted_value()} {row.detail}", flush=True)

    def ms(self, fn: Callable[[], object], repeats: int | None = None, inner: int = 1, warmup: int = 2) -> float:
        return 1e3 * device_median_seconds(fn, self.device, repeats or self.sizes.repeats, warmup, inner)

    # --- projections --------------------------------------------------------------------
    def projections(self) -> list[Row]:
        try:
            from pyautoattack.autopgd_base import L1_projection
        except ImportError:
            L1_projection = None
        rows = []
        gen = torch.Generator(device=self.device).manual_seed(0)
        for batch, d, eps in self.sizes.l1_projections:
            x = torch.rand(batch, d, device=self.device, generator=gen)
            v = x + 0.05 * torch.randn(batch, d, device=self.device, generator=gen)
            ours = project_l1_box(v, x, eps)  # default backend: compiled on CUDA (compiles here)
            eager = project_l1_box(v, x, eps, backend="eager")
            t_ours = self.ms(lambda: project_l1_box(v, x, eps), inner=10)
            t_eager = self.ms(lambda: project_l1_box(v, x, eps, backend="eager"), repeats=3)
            size = f"{batch}x{d}"
            self.raw[f"project_l1_box {size} ms"] = {"default": t_ours, "eager": t_eager}
            rows.append(check(f"project_l1_box {size}: default vs eager, max |diff|", (ours - eager).abs().max().item(),
                              "<=", 1e-6, "diff", f"(eager {t_eager:.3f} ms, default {t_ours:.3f} ms)"))
            if L1_projection is None:
                rows.append(Row(f"project_l1_box {size} vs pyautoattack", None, "x", ">= 10x", "SKIP",
                                "pyautoattack is not installed"))
                continue
            ref = v + L1_projection(x, v - x, eps)
            t_ref = self.ms(lambda: L1_projection(x, v - x, eps), repeats=3)
            self.raw[f"project_l1_box {size} ms"]["pyautoattack"] = t_ref
            rows.append(check(f"project_l1_box {size}: speed-up over pyautoattack L1_projection", t_ref / t_ours, ">=",
                              10, "x", f"({t_ours:.3f} vs {t_ref:.3f} ms)"))
            rows.append(check(f"project_l1_box {size}: same result as pyautoattack, max |diff|",
                              (ours - ref).abs().max().item(), "<=", 1e-6, "diff"))
        batch, d, eps = self.sizes.l2_projection
        x = torch.rand(batch, d, device=self.device, generator=gen)
        v = x + 0.05 * torch.randn(batch, d, device=self.device, generator=gen)
        ours = project_l2_box(v, x, eps)
        eager = project_l2_box(v, x, eps, backend="eager")
        t_ours = self.ms(lambda: project_l2_box(v, x, eps), inner=10)
        t_eager = self.ms(lambda: project_l2_box(v, x, eps, backend="eager"), repeats=3)
        self.raw[f"project_l2_box {batch}x{d} ms"] = {"default": t_ours, "eager": t_eager}
        rows.append(check(f"project_l2_box {batch}x{d}", t_ours, "<=", 0.2, "ms", f"(eager {t_eager:.3f} ms)"))
        rows.append(check(f"project_l2_box {batch}x{d}: default vs eager, max |diff|",
                          (ours - eager).abs().max().item(), "<=", 1e-6, "diff"))
        return rows

    # --- forward + backward -------------------------------------------------------------
    def _batch(self, batch: int, image: int, classes: int) -> tuple[torch.Tensor, torch.Tensor]:
        gen = torch.Generator(device=self.device).manual_seed(1)
        x = torch.rand(batch, 3, image, image, device=self.device, generator=gen)
        return x, torch.randint(classes, (batch,), device=self.device, generator=gen)

    def input_gradient_ms(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, amp: bool) -> float:
        def fwd_bwd():
            xr = x.detach().requires_grad_(True)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=amp and self.device.type == "cuda"):
                loss = F.cross_entropy(model(xr).float(), y)
            return torch.autograd.grad(loss, xr)[0]

        return self.ms(fwd_bwd, warmup=3)

    def forward_backward(self) -> list[Row]:
        s = self.sizes
        torch.manual_seed(0)
        model = build_model(s.model, **s.model_kwargs).to(self.device).eval()
        x, y = self._batch(s.batch, s.image, 10)
        fb = {"fp32 (TF32 conv)": self.input_gradient_ms(model, x, y, amp=False)}
        model_cl = model.to(memory_format=torch.channels_last)
        x_cl = x.contiguous(memory_format=torch.channels_last)
        fb["bf16 + channels_last"] = self.input_gradient_ms(model_cl, x_cl, y, amp=True)
        self.raw["forward_backward_ms"] = fb
        fastest = min(fb, key=fb.get)
        return [info(f"forward+backward {s.model} batch {s.batch}: {name}", value, "ms",
                     "(fastest)" if name == fastest else "") for name, value in fb.items()]

    def compiled_forward_backward(self) -> list[Row]:
        """The compiled forward+backward: run last, since compiling can take minutes on a fresh machine."""
        s = self.sizes
        name = f"forward+backward {s.model} batch {s.batch}: compiled bf16 + channels_last"
        if not s.compile_model:
            return [Row(name, None, "ms", "-", "SKIP", "not compiled (tiny run or --no-compile-model)")]
        torch.manual_seed(0)
        model = build_model(s.model, **s.model_kwargs).to(self.device).eval().to(memory_format=torch.channels_last)
        x, y = self._batch(s.batch, s.image, 10)
        value = self.input_gradient_ms(torch.compile(model), x.contiguous(memory_format=torch.channels_last), y, amp=True)
        eager = self.raw.get("forward_backward_ms", {})
        self.raw["compiled_forward_backward_ms"] = value
        fastest = "(fastest)" if all(value < v for v in eager.values()) else ""
        return [info(name, value, "ms", fastest)]

    # --- training steps -------------------------------------------------------------------
    def step_ms(self, scheme_name: str, threats, model: nn.Module, batch: int, image: int, classes: int,
                amp: bool, warmup: int, window: int, windows: int) -> tuple[float, list[float]]:
        """Median over the timed windows of a window's mean step time, and every window's mean (ms)."""
        scheme = build_scheme(scheme_name, threats, n_iter=self.sizes.attack_steps)
        marks = [warmup + i * window for i in range(windows + 1)]  # training_loss calls that start/end windows
        stamps: list[float] = []
        calls = 0
        inner = scheme.training_loss

        def timed(net, x, y, ctx):
            nonlocal calls
            if calls in marks:
                synchronize(self.device)
                stamps.append(time.perf_counter())
            calls += 1
            return inner(net, x, y, ctx)

        scheme.training_loss = timed
        steps = marks[-1] + 1
        n = batch * (steps + 1)  # one epoch holds every step: no epoch-end checkpoint inside a window
        gen = torch.Generator().manual_seed(2)
        data = TensorDataset(torch.rand(n, 3, image, image, generator=gen), torch.randint(classes, (n,), generator=gen))
        config = TrainConfig(epochs=1, batch_size=batch, device=str(self.device), amp=amp, channels_last=amp,
                             progress=False, stop_after_steps=steps)
        with tempfile.TemporaryDirectory() as run_dir:
            train(model, data, scheme, config, run_dir, resume=False)
        per_window = [1e3 * (b - a) / window for a, b in zip(stamps, stamps[1:])]
        return statistics.median(per_window), per_window

    def training(self) -> list[Row]:
        s = self.sizes
        threats = cifar10_threats()
        runs = [("linf", True), ("eat", True), ("linf", False), ("eat", False), ("l1", False), ("l2", False),
                ("max", True), ("avg", True), ("msd", True)]  # the paper's multiple-norm baselines: E-AT's price
        ms, windows, failed = {}, {}, {}
        for scheme_name, amp in runs:
            key = f"{scheme_name} {'bf16+cl' if amp else 'fp32'}"
            torch.manual_seed(0)
            model = build_model(s.model, **s.model_kwargs)
            try:
                ms[key], windows[key] = self.step_ms(scheme_name, threats, model, s.batch, s.image, 10, amp,
                                                     s.warmup_steps, s.window, s.windows)
                print(f"         {key}: {ms[key]:.1f} ms per step "
                      f"(windows: {', '.join(f'{w:.1f}' for w in windows[key])})", flush=True)
            except Exception as err:  # noqa: BLE001 - the other schemes' rows still come
                traceback.print_exc()
                failed[key] = f"{key}: {type(err).__name__}: {str(err)[:200]}"
            del model
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
        self.raw["training_step_ms"], self.raw["training_step_window_ms"] = ms, windows

        def ratio(name: str, num: str, den: str, op: str, bound: float) -> Row:
            if num not in ms or den not in ms:
                return Row(name, None, "x", f"{op} {bound:g}x", "ERROR", "; ".join(failed[k] for k in (num, den) if k in failed))
            low, high = min(windows[num]) / max(windows[den]), max(windows[num]) / min(windows[den])
            return check(name, ms[num] / ms[den], op, bound, "x",
                         f"({ms[num]:.1f} / {ms[den]:.1f} ms; windows allow {low:.2f}-{high:.2f}x)")

        rows = [ratio("E-AT / l_inf-AT step, bf16 + channels_last", "eat bf16+cl", "linf bf16+cl", "<=", 1.05),
                ratio("E-AT / l_inf-AT step, fp32 (TF32 conv)", "eat fp32", "linf fp32", "<=", 1.05),
                ratio("bf16 + channels_last step / fp32 step, l_inf-AT", "linf bf16+cl", "linf fp32", "<", 1.0),
                ratio("l_1-AT / l_inf-AT step, fp32", "l1 fp32", "linf fp32", "<=", 1.10),
                ratio("l_2-AT / l_inf-AT step, fp32", "l2 fp32", "linf fp32", "<=", 1.10)]
        for baseline in ("max", "avg", "msd"):  # no target: they cost what they cost; E-AT's claim is the first row
            key = f"{baseline} bf16+cl"
            name = f"{baseline.upper()} / E-AT step, bf16 + channels_last"
            rows.append(info(name, ms[key] / ms["eat bf16+cl"], "x", f"({ms[key]:.1f} / {ms['eat bf16+cl']:.1f} ms)")
                        if key in ms and "eat bf16+cl" in ms else
                        Row(name, None, "x", "-", "ERROR", failed.get(key, "a measurement it needs failed")))
        fb = self.raw.get("forward_backward_ms", {})
        bound = s.attack_steps + 1
        for key, fb_key, target in [("linf bf16+cl", "bf16 + channels_last", True), ("linf fp32", "fp32 (TF32 conv)", False)]:
            name = f"l_inf-AT step / {bound} forward+backward (lower bound), {key}"
            if fb_key not in fb or key not in ms:
                rows.append(Row(name, None, "x", "<= 1.1x" if target else "-", "ERROR", "a measurement it needs failed"))
                continue
            value, detail = ms[key] / (bound * fb[fb_key]), f"({ms[key]:.1f} vs {bound} x {fb[fb_key]:.2f} ms)"
            rows.append(check(name, value, "<=", 1.10, "x", detail) if target else info(name, value, "x", detail))
        return rows

    # --- APGD -------------------------------------------------------------------------------
    def apgd(self) -> list[Row]:
        s = self.sizes
        try:
            from pyautoattack.autopgd_base import APGDAttack
        except ImportError:
            APGDAttack = None
        torch.manual_seed(0)
        model = build_model(s.apgd_model, **s.apgd_kwargs).to(self.device).eval()
        x, y = self._batch(s.batch, s.image, 10)
        steps = s.attack_steps
        fb = self.input_gradient_ms(model, x, y, amp=False)
        with torch.no_grad():
            fwd = self.ms(lambda: model(x), warmup=3)
        rows, raw = [], {"forward_backward": fb, "forward": fwd}
        for ball in cifar10_threats():
            attack = APGD(ball, n_iter=steps)
            n_fwd, n_bwd = count_passes(model, lambda: attack(model, x, y))
            if n_bwd == 0:
                raise RuntimeError(f"APGD {ball.name}: the hooks saw {n_fwd} forward and no backward pass of the "
                                   "benchmarked model, so there is no lower bound to divide by")
            ours = self.ms(lambda: attack(model, x, y), repeats=3)
            raw[f"lpgeom {ball.name}"], raw[f"lpgeom {ball.name} passes"] = ours, [n_fwd, n_bwd]
            bound = n_bwd * fb + (n_fwd - n_bwd) * fwd
            rows.append(check(f"APGD {steps} steps {ball.name} / its passes", ours / bound, "<=", 1.10, "x",
                              f"({ours:.1f} vs {n_bwd} forward+backward x {fb:.2f} + {n_fwd - n_bwd} forward x "
                              f"{fwd:.2f} ms, counted)"))
            if APGDAttack is None:
                rows.append(Row(f"APGD {steps} steps {ball.name}: lpgeom / pyautoattack", None, "x", "< 1x", "SKIP",
                                "pyautoattack is not installed"))
                continue
            ref = APGDAttack(model, n_iter=steps, norm=ball.autoattack_norm, eps=ball.eps, n_restarts=1, seed=0,
                             loss="ce", device=self.device)
            ref.init_hyperparam(x)
            theirs = self.ms(lambda: ref.attack_single_run(x, y), repeats=3)
            raw[f"pyautoattack {ball.name}"] = theirs
            rows.append(check(f"APGD {steps} steps {ball.name}: lpgeom / pyautoattack", ours / theirs, "<", 1.0, "x",
                              f"({ours:.1f} vs {theirs:.1f} ms)"))
        self.raw["apgd_ms"] = raw
        return rows

    # --- ImageNet ---------------------------------------------------------------------------
    def imagenet_step(self) -> list[Row]:
        s = self.sizes
        torch.manual_seed(0)
        model = build_model(s.imagenet_model, num_classes=1000, **s.imagenet_kwargs)
        ms, windows = self.step_ms("eat", imagenet_threats(), model, s.imagenet_batch, s.imagenet_image, 1000, True,
                                   s.imagenet_warmup, s.imagenet_window, s.imagenet_windows)
        self.raw["imagenet_eat_step_ms"], self.raw["imagenet_eat_step_window_ms"] = ms, windows
        name = f"ImageNet {s.imagenet_model} batch {s.imagenet_batch} bf16 + channels_last E-AT step"
        rows = [info(name, ms, "ms", "(tiny run: no target)") if self.tiny else
                check(name, ms, "<=", IMAGENET_EAT_MS_BEFORE, "ms", "(target: the H100 figure before issue 11)")]
        # the same step in fp32 (TF32 convolutions): does bf16 pay where arithmetic dominates?
        torch.manual_seed(0)
        model = build_model(s.imagenet_model, num_classes=1000, **s.imagenet_kwargs)
        fp32, fp32_windows = self.step_ms("eat", imagenet_threats(), model, s.imagenet_batch, s.imagenet_image, 1000,
                                          False, s.imagenet_warmup, s.imagenet_window, s.imagenet_windows)
        self.raw["imagenet_eat_step_fp32_ms"], self.raw["imagenet_eat_step_fp32_window_ms"] = fp32, fp32_windows
        rows.append(info(f"ImageNet {s.imagenet_model} E-AT step: bf16 + channels_last / fp32 (TF32 conv)", ms / fp32,
                         "x", f"({ms:.1f} / {fp32:.1f} ms)"))
        return rows

    # --- data pipeline ----------------------------------------------------------------------
    def data_pipeline(self) -> list[Row]:
        from PIL import Image

        s = self.sizes
        gen = torch.Generator().manual_seed(3)
        width, height = s.jpeg_size
        with tempfile.TemporaryDirectory() as root:
            distinct = []
            for _ in range(min(32, s.jpegs)):  # smooth content: decodes like photographs, not like noise
                coarse = torch.rand(1, 3, height // 16, width // 16, generator=gen)
                img = F.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=False)
                img = (img + 0.03 * torch.randn(img.shape, generator=gen)).clamp(0, 1)
                buffer = io.BytesIO()
                Image.fromarray((img[0].permute(1, 2, 0) * 255).to(torch.uint8).numpy()).save(buffer, "JPEG", quality=90)
                distinct.append(buffer.getvalue())
            for i in range(s.jpegs):
                folder = pathlib.Path(root, "train", f"n{i % 4:08d}")
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"img_{i:05d}.JPEG").write_bytes(distinct[i % len(distinct)])
            from lpgeom.data import imagenet

            dataset = imagenet(root, "train")
            workers = default_workers(dataset) if s.workers is None else s.workers
            rates = {}
            for w in (0, workers):
                plan = BatchPlan(len(dataset), s.jpeg_batch, seed=0)
                t = time.perf_counter()  # from the loader's creation: the workers' start is counted
                n = sum(len(y) for _, y in training_batches(dataset, plan, 0, 0, 1, workers=w,
                                                             pin_memory=self.device.type == "cuda"))
                rates[w] = n / (time.perf_counter() - t)
        self.raw["data_images_per_second"] = {str(w): r for w, r in rates.items()}
        rows = [info(f"JPEG loading {width}x{height} -> 224 ({s.jpegs} files, workers' start included): images/s, "
                     "0 workers", rates[0], "img/s"),
                info(f"JPEG loading: images/s, {workers} workers", rates[workers], "img/s"),
                info(f"JPEG loading: {workers} workers / 0 workers", rates[workers] / rates[0], "x")]
        step_ms = self.raw.get("imagenet_eat_step_ms")
        if isinstance(step_ms, float):
            need = s.imagenet_batch / (step_ms / 1e3)
            rows.append(check(f"JPEG loading with {workers} workers / images per second the ImageNet E-AT step takes",
                              rates[workers] / need, ">=", 1.0, "x",
                              f"({rates[workers]:.0f} vs {need:.0f} img/s; CPU cores {os.cpu_count()})"))
        return rows

    def run(self, after_each_section: Callable[[], None] = lambda: None) -> None:
        for key, fn in [("projections", self.projections), ("forward_backward", self.forward_backward),
                        ("training", self.training), ("apgd", self.apgd), ("imagenet", self.imagenet_step),
                        ("data", self.data_pipeline), ("compiled", self.compiled_forward_backward)]:
            self.section(key, fn)
            after_each_section()


def _git_commit() -> str:
    """LPGEOM_GIT_COMMIT where the caller sets it, else the checkout's commit (+ "-dirty").

    The variable wins: a copied working tree can carry a ``.git`` of another commit (the device
    machine's copy did, and the first record named that commit).
    """
    if os.environ.get("LPGEOM_GIT_COMMIT"):
        return os.environ["LPGEOM_GIT_COMMIT"]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True,
                                timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                               text=True, check=True, timeout=10).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git checkout; set LPGEOM_GIT_COMMIT)"


def provenance(device: torch.device, argv: list[str]) -> dict:
    cuda = device.type == "cuda"
    return {
        "device": torch.cuda.get_device_name(device) if cuda else platform.processor() or platform.machine(),
        "device_capability": list(torch.cuda.get_device_capability(device)) if cuda else None,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "command": " ".join(["python", "benchmarks/bench_gpu.py", *argv]),
        "git_commit": _git_commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def print_table(rows: list[Row]) -> None:
    width = max(len(r.name) for r in rows)
    print(f"\n{'row':<{width}}  {'measured':>12}  {'target':>9}  status")
    for r in rows:
        print(f"{r.name:<{width}}  {r.formatted_value():>12}  {r.target:>9}  {r.status:<5} {r.detail}")
    counts = {status: sum(r.status.upper() == status for r in rows) for status in ("PASS", "FAIL", "INFO", "SKIP", "ERROR")}
    print("  ".join(f"{k} {v}" for k, v in counts.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny sizes (automatic without CUDA); records nothing "
                        "unless --out is given")
    parser.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    parser.add_argument("--out", default=None, help=f"where to write the record (default for a full CUDA run: {RECORD})")
    parser.add_argument("--compile-model", action=argparse.BooleanOptionalAction, default=None,
                        help="measure the compiled forward+backward (default: in a full run only)")
    args = parser.parse_args(argv)
    argv = sys.argv[1:] if argv is None else argv
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    tiny = args.tiny or device.type != "cuda"
    out = pathlib.Path(args.out) if args.out else (None if tiny else RECORD)
    if tiny and out is not None and out.resolve() == RECORD.resolve():
        parser.error(f"--out {out}: a tiny or CPU run never writes {RECORD} (the GPU record); choose another path")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    sizes = TINY if tiny else FULL
    if args.compile_model is not None:
        sizes = dataclasses.replace(sizes, compile_model=args.compile_model)
    print(f"bench_gpu: {'tiny' if tiny else 'full'} run on {device} "
          f"({torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'}), torch {torch.__version__}")
    bench = Bench(sizes, device, tiny)
    order = ["training", "apgd", "projections", "forward_backward", "compiled", "imagenet", "data"]  # the order
    record_provenance = provenance(device, argv)

    def table() -> list[Row]:
        rows = [row for key in order for row in bench.rows.get(key, [])]
        if tiny:  # the targets are for the full sizes on a GPU: a tiny run's verdicts mean nothing
            for row in rows:
                row.status = row.status.lower() if row.status in ("PASS", "FAIL") else row.status
        return rows

    def write(complete: bool) -> None:
        """The record; after each section also ``<out>.partial.json``, so a run cut short leaves what it measured."""
        if out is None:
            return
        partial = out.with_name(out.stem + ".partial.json")
        atomic_write_json(out if complete else partial,
                          {"complete": complete, "tiny": tiny, "sizes": dataclasses.asdict(sizes),
                           "seconds": time.perf_counter() - bench.started,
                           "rows": [dataclasses.asdict(r) for r in table()], "raw": bench.raw,
                           "provenance": record_provenance})
        if complete:
            partial.unlink(missing_ok=True)

    bench.run(after_each_section=lambda: write(False))
    rows = table()
    print_table(rows)
    if tiny:
        print("tiny run: the targets are for the full sizes on a GPU; lowercase pass/fail are not verdicts")
    print(f"total {time.perf_counter() - bench.started:.0f} s")
    write(True)
    if out is not None:
        print(f"recorded in {out}")
    return 1 if any(r.status == "ERROR" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
