"""The CIFAR-10 and ImageNet chapters' runs, driven by their plans: fine-tune, then evaluate.

Both steps resume after a dead kernel: fine-tuning through the training loop's checkpoints
in the run folder (``last.pt``, every ``checkpoint_every`` steps), evaluation through one
saved report per chunk of test points (``eval/chunk_<start>.json``), chunks already there
being read instead of recomputed. At ``smoke`` / ``cpu`` the run folder is temporary (those
runs take seconds and must show what the current code does); at ``full`` it is
``plan.run_dir()``.
"""
from __future__ import annotations

import contextlib
import os
import pathlib
import tempfile
import warnings
from collections.abc import Iterator

import torch
from torch import nn
from torch.utils.data import Dataset, Subset, TensorDataset

from ..evaluation import RobustnessReport, evaluate_robustness
from ..threats import PRESETS, ThreatUnion
from ..utils.files import check_write_target, make_folder
from .plans import ChapterPlan

__all__ = ["chapter_run_dir", "chapter_data", "finetune_chapter_model", "evaluate_resumable"]


@contextlib.contextmanager
def chapter_run_dir(plan: ChapterPlan, root: str | os.PathLike | None = None) -> Iterator[pathlib.Path]:
    """Persistent run folder at ``full`` (resumable), a temporary one at the other profiles."""
    if plan.profile == "full":
        path = plan.run_dir(root)
        path.mkdir(parents=True, exist_ok=True)
        yield path
    else:
        with tempfile.TemporaryDirectory(prefix=f"lpgeom-{plan.chapter}-") as tmp:
            yield pathlib.Path(tmp)


def chapter_data(plan: ChapterPlan, train: bool, data_root: str | os.PathLike | None = None) -> Dataset:
    """The chapter's training set (``train=True``) or its first ``plan["n_points"]`` test points.

    smoke / cpu: the real images foolbox ships; full: CIFAR-10 (downloaded by torchvision if
    missing) or ImageNet (ImageFolder trees under ``data_root`` or ``$LPGEOM_IMAGENET_DIR``).
    """
    from ..data import cifar10, imagenet, sample_images

    if plan.profile != "full":
        x, y = sample_images(plan.chapter, n=plan["n_train"] if train else plan["n_points"])
        return TensorDataset(x, y)
    if plan.chapter == "cifar10":
        dataset = cifar10(train=train, root=data_root, download=True)
    else:
        root = data_root or os.environ.get("LPGEOM_IMAGENET_DIR")
        if not root:
            raise ValueError("ImageNet needs data_root (or $LPGEOM_IMAGENET_DIR): a folder with train/ and val/ ImageFolder trees")
        dataset = imagenet(root, "train" if train else "val")
    if train:
        return dataset
    # ImageNet's val folder is sorted by class: take an evenly spaced, fixed subset rather than the first classes
    step = max(len(dataset) // plan["n_points"], 1) if plan.chapter == "imagenet" else 1
    return Subset(dataset, range(0, step * plan["n_points"], step))


def finetune_chapter_model(plan: ChapterPlan, run_dir: str | os.PathLike, device: str,
                           model_dir: str | os.PathLike = "models", data_root: str | os.PathLike | None = None,
                           progress: bool = True):
    """Fine-tune the plan's checkpoint with E-AT (the paper's recipe at the plan's sizes).

    Returns
    -------
    (model, result) : (torch.nn.Module, lpgeom.training.TrainResult)
        The fine-tuned model (eval mode, on ``device``) and the training record; a finished run
        in ``run_dir`` is loaded (its per-epoch records read from the metrics log), an
        interrupted one continues from its last checkpoint.
    """
    from ..training import build_scheme, finetune_recipe, read_metrics, train

    model = plan.checkpoint.load(model_dir)
    dataset = chapter_data(plan, train=True, data_root=data_root)
    on_gpu = torch.device(device).type == "cuda"
    recipe = finetune_recipe(plan.chapter, large_model=plan["lr"] == 0.01, epochs=plan["epochs"],
                             batch_size=plan["batch_size"], lr=plan["lr"], device=device, amp=plan["amp"] and on_gpu,
                             channels_last=plan["amp"] and on_gpu, checkpoint_every=plan["checkpoint_every"],
                             progress=progress)
    scheme = build_scheme("eat", PRESETS[plan.chapter](), n_iter=plan["attack_steps"], l1_steps=plan.settings.get("l1_steps"))
    result = train(model, dataset, scheme, recipe, run_dir, resume=True,
                   describe={"chapter": plan.chapter, "profile": plan.profile, "checkpoint": plan.checkpoint.label})
    if not result.epochs:   # a run finished before (a cell run again): its epochs are in the metrics log
        result.epochs = read_metrics(run_dir, kind="epoch")
    return model.eval(), result


def _stack(dataset: Dataset, start: int, stop: int) -> tuple[torch.Tensor, torch.Tensor]:
    items = [dataset[i] for i in range(start, stop)]
    return torch.stack([x for x, _ in items]), torch.as_tensor([int(y) for _, y in items])


def evaluate_resumable(model: nn.Module, dataset: Dataset, threats: ThreatUnion, run_dir: str | os.PathLike,
                       chunk: int, progress: bool = True, **settings) -> RobustnessReport:
    """Evaluate in chunks of test points, saving each chunk's report; saved chunks are reused.

    Parameters
    ----------
    model : torch.nn.Module
    dataset : Dataset
        Test points ``(x, y)``, x in [0, 1].
    threats : ThreatUnion
    run_dir : path
        Chunks go to ``run_dir/eval/chunk_<start>.json`` (with per-point flags).
    chunk : int
        Points per chunk (positive).
    **settings
        Passed to :func:`lpgeom.evaluation.evaluate_robustness` (method, n_iter, batch_size, device, seed, name).

    Returns
    -------
    RobustnessReport
        Over all points: per-point flags concatenated, accuracies recomputed from them. The
        evaluation's notes (weak settings, gradient masking) are in ``warnings``, not emitted
        as Python warnings.
    """
    if chunk < 1:
        raise ValueError(f"chunk must be a positive number of points, got {chunk}")
    folder = make_folder(pathlib.Path(run_dir) / "eval", run_dir)  # eval/ must not be a link
    starts = range(0, len(dataset), chunk)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="evaluation chunks", unit="chunk")
    reports = []
    for start in starts:
        path = folder / f"chunk_{start:06d}.json"
        if path.is_file():
            saved = RobustnessReport.from_json(path)
            for key in ("method", "n_iter", "seed"):
                if key in settings and settings[key] is not None and getattr(saved, key) != settings[key]:
                    raise ValueError(f"{path} was evaluated with {key}={getattr(saved, key)!r}, now {key}="
                                     f"{settings[key]!r}: use another run folder or delete {folder}")
            reports.append(saved)
            continue
        x, y = _stack(dataset, start, min(start + chunk, len(dataset)))
        with warnings.catch_warnings(action="ignore"):   # every note is kept in report.warnings
            report = evaluate_robustness(model, x, y, threats, **settings)
        check_write_target(path, run_dir)
        report.to_json(path)  # atomic, never through a link
        reports.append(report)
    return _combine(reports)


def _combine(reports: list[RobustnessReport]) -> RobustnessReport:
    first = reports[0]
    flags = {k: torch.cat([r.per_point[k] for r in reports]) for k in first.per_point}
    n = len(flags["clean"])
    mean = lambda t: float(t.float().mean()) if n else 0.0  # noqa: E731
    return RobustnessReport(model=first.model, n_points=n, clean_accuracy=mean(flags["clean"]),
                            robust_accuracy={k: mean(flags[k]) for k in first.robust_accuracy},
                            union_accuracy=mean(flags["union"]), eps=first.eps, method=first.method, n_iter=first.n_iter,
                            seed=first.seed, seconds=sum(r.seconds for r in reports),
                            warnings=sorted({w for r in reports for w in r.warnings}), per_point=flags,
                            n_target_classes=first.n_target_classes)
