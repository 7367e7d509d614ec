"""The recorded study: the paper's experiments on real data, as resumable units of work.

A *unit* trains (from scratch or from another unit's model) and then evaluates. Each unit
writes ``<results_dir>/<profile>/<unit>.json`` (the robustness report, the time per epoch,
the provenance) and trains in ``<runs_dir>/<profile>/<unit>/`` (checkpoints, metrics).
Finished units are skipped; an interrupted one resumes from its last checkpoint.
"""
from __future__ import annotations

import hashlib
import json
import pathlib
import re
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import torch

from .paper_tables import RESULTS_DIR
from .profiles import StudySize, study_size
from .provenance import provenance, start_clock

__all__ = ["Unit", "plan", "GROUPS", "run_unit", "run_study", "load_result", "unit_from_name", "study_data", "study_threats",
           "new_model", "weights_digest"]

SINGLE = ("linf", "l2", "l1")
GROUPS = ("table1", "table6", "table4", "table7", "table8", "table9", "figure1")


@dataclass(frozen=True)
class Unit:
    """One training run (+ evaluation) of the study."""

    scheme: str
    epochs: int
    seed: int = 0
    init: str | None = None  # name of the unit whose model is the starting point

    @property
    def name(self) -> str:
        base = f"{self.scheme}_e{self.epochs}_s{self.seed}"
        return base if self.init is None else f"ft-{base}_from-{self.init}"


def _scratch(size: StudySize, scheme: str, seed: int = 0) -> Unit:
    return Unit(scheme, size.epochs, seed)


def plan(size: StudySize, groups: Iterable[str] = GROUPS) -> dict[str, list[Unit]]:
    """The units each group (table or figure analogue) needs, in dependency order."""
    groups = list(groups)
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        raise ValueError(f"unknown groups {unknown}; choose from {', '.join(GROUPS)}")
    out: dict[str, list[Unit]] = {}
    base = {s: _scratch(size, s) for s in SINGLE}
    natural = _scratch(size, "natural")
    for g in groups:
        if g == "table1":
            out[g] = [_scratch(size, s) for s in size.schemes]
        elif g == "table6":
            out[g] = [*base.values(), *(Unit("eat", size.ft_epochs, 0, base[s].name) for s in SINGLE)]
        elif g == "table4":
            out[g] = [*base.values(), *(Unit(t, size.ft_epochs, 0, base[s].name) for s in SINGLE for t in SINGLE if t != s)]
        elif g == "table7":
            out[g] = [*base.values(), *(Unit("eat", size.ft_epochs, seed, base[s].name) for s in SINGLE for seed in size.seeds)]
        elif g == "table8":
            out[g] = [base["linf"], *(Unit("eat", e, 0, base["linf"].name) for e in size.ft_epochs_grid)]
        elif g == "table9":
            out[g] = [natural, *(Unit("eat", e, 0, natural.name) for e in size.ft_epochs_grid)]
        elif g == "figure1":
            out[g] = [_scratch(size, "l2"), _scratch(size, "eat")]
    return out


def _result_path(results_dir: pathlib.Path, size: StudySize, unit: Unit) -> pathlib.Path:
    return results_dir / size.name / f"{unit.name}.json"


def load_result(results_dir: str | pathlib.Path, profile: str, unit: Unit) -> dict | None:
    """A unit's recorded result, or None."""
    path = pathlib.Path(results_dir) / profile / f"{unit.name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def study_data(size: StudySize):
    """The study's data for ``size``: (training set, (test images, test labels)).

    Returns
    -------
    train : torch.utils.data.TensorDataset
        ``size.n_train`` training examples (a seeded subset; all if None).
    (x, y) : tuple of torch.Tensor, shapes (n_eval, C, H, W) and (n_eval,)
        The first ``size.n_eval`` test points, the ones every unit is evaluated on.
    """
    from torch.utils.data import TensorDataset

    from ..data import cifar10, fashion_mnist, subset, tensors

    load = fashion_mnist if size.dataset == "fashion_mnist" else lambda train: cifar10(train, download=True)
    train_x, train_y = tensors(subset(load(True), size.n_train, seed=0)) if size.n_train else load(True).tensors
    test = load(False)
    test_x, test_y = test.tensors[0][: size.n_eval], test.tensors[1][: size.n_eval]
    return TensorDataset(train_x, train_y), (test_x, test_y)


def study_threats(size: StudySize):
    """The threat models of the study for ``size``'s dataset (a ThreatUnion of l_inf, l_2, l_1)."""
    from ..threats import cifar10_threats, fashion_mnist_threats

    return fashion_mnist_threats() if size.dataset == "fashion_mnist" else cifar10_threats()


def unit_from_name(name: str) -> Unit:
    """The unit a name stands for: ``"linf_e5_s0"`` or ``"ft-eat_e3_s0_from-linf_e5_s0"`` (inverse of ``Unit.name``).

    Raises
    ------
    ValueError
        If ``name`` is neither ``<scheme>_e<epochs>_s<seed>`` nor
        ``ft-<scheme>_e<epochs>_s<seed>_from-<unit name>``.
    """
    base = r"([a-z0-9-]+)_e(\d+)_s(\d+)"
    scratch = re.fullmatch(base, name)
    tuned = re.fullmatch(rf"ft-{base}_from-(.+)", name)
    if scratch is not None and not name.startswith("ft-"):
        return Unit(scratch.group(1), int(scratch.group(2)), int(scratch.group(3)))
    if tuned is not None:
        init = unit_from_name(tuned.group(4)).name  # the starting unit's name must parse too
        return Unit(tuned.group(1), int(tuned.group(2)), int(tuned.group(3)), init)
    raise ValueError(f"{name!r} is not a unit name (<scheme>_e<epochs>_s<seed>, or ft-<that>_from-<unit name>)")


def weights_digest(model: torch.nn.Module) -> str:
    """SHA-256 of a model's parameters and buffers (names, shapes, dtypes, values): identifies trained weights."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        t = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{name}{tuple(t.shape)}{t.dtype}".encode())
        digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


def new_model(size: StudySize) -> torch.nn.Module:
    """A freshly initialised model of the study's architecture and width (weights from the global RNG)."""
    from ..models import build_model

    return build_model(size.arch, **({"width": size.width} if size.width else {}))


def _train_unit(unit: Unit, size: StudySize, results_dir: pathlib.Path, runs_dir: pathlib.Path, train_data, threats):
    """Train one unit (resuming from its checkpoints); returns (model, training result, seconds).

    If the unit starts from another unit whose weights are gone (``runs/`` is not committed,
    only the results are), that unit is trained again first. Training is deterministic for a
    seed on the CPU, so it is the same model; its recorded weights digest, where there is
    one, is checked.
    """
    from ..models import load_weights, read_state_dict
    from ..training import build_scheme, finetune_recipe, scheme_spec, scratch_recipe, train

    torch.manual_seed(unit.seed)
    model = new_model(size)
    common = dict(batch_size=size.batch_size, seed=unit.seed, progress=False, checkpoint_every=50,
                  device="cuda" if torch.cuda.is_available() else "cpu", augment=size.dataset == "cifar10")
    if unit.init is None:
        milestones = (70 / 80,) if size.epochs > 1 else ()
        config = scratch_recipe(unit.epochs, **common, milestones=milestones)
        settings = {"n_iter": size.steps}
        if "switch_epoch" in scheme_spec(unit.scheme).settings:  # l_2-init. E-AT: l_2-AT until then
            settings["switch_epoch"] = min(size.switch_epoch, unit.epochs - 1)
        scheme = build_scheme(unit.scheme, threats, **settings)
    else:
        init_path = runs_dir / size.name / unit.init / "model.pt"
        if not init_path.is_file():
            init_unit = unit_from_name(unit.init)
            retrained, _, _ = _train_unit(init_unit, size, results_dir, runs_dir, train_data, threats)
            recorded = load_result(results_dir, size.name, init_unit) or {}
            if recorded.get("model_sha256") not in (None, weights_digest(retrained)):
                raise RuntimeError(f"retrained {unit.init} differs from the recorded model (weights digest); "
                                   f"its recorded result no longer describes the starting point of {unit.name}")
        load_weights(model, read_state_dict(init_path), source=str(init_path))
        config = finetune_recipe(size.dataset, epochs=unit.epochs, **common)
        scheme = build_scheme(unit.scheme, threats, n_iter=size.steps)
    run_dir = runs_dir / size.name / unit.name
    t = time.perf_counter()
    result = train(model, train_data, scheme, config, run_dir,
                   describe={"unit": unit.name, "profile": size.name, "arch": size.arch, "dataset": size.dataset})
    return model, result, time.perf_counter() - t


def run_unit(unit: Unit, size: StudySize, results_dir: pathlib.Path, runs_dir: pathlib.Path, data=None,
             command: str | None = None) -> dict:
    """Train and evaluate one unit (skipped if its result exists); returns the result record."""
    from ..evaluation import evaluate_robustness

    out = _result_path(results_dir, size, unit)
    if out.is_file():
        return json.loads(out.read_text())
    started = start_clock()
    results_dir, runs_dir = pathlib.Path(results_dir), pathlib.Path(runs_dir)
    train_data, (test_x, test_y) = data or study_data(size)
    threats = study_threats(size)
    model, result, train_seconds = _train_unit(unit, size, results_dir, runs_dir, train_data, threats)
    run_dir = runs_dir / size.name / unit.name
    report = evaluate_robustness(model.eval(), test_x, test_y, threats, method=size.eval_method, n_iter=size.eval_iter,
                                 seed=0, name=unit.name, batch_size=size.eval_batch_size,
                                 n_target_classes=size.aa_target_classes)
    curve = None
    if unit.init is None and unit.scheme in ("l2", "eat"):  # Figure 1 analogue: l_2 robustness curve
        from ..evaluation import robustness_curve

        eps2 = threats["L2"].eps
        c = robustness_curve(model.eval(), test_x, test_y, threats["L2"], [f * eps2 for f in (0.25, 0.5, 0.75, 1.0, 1.25, 1.5)],
                             n_iter=size.curve_iter)
        curve = {"eps": c.eps, "accuracy": c.accuracy}
    epoch_times = [e["seconds"] for e in result.epochs]
    from ..training import read_metrics

    keep = ("global_step", "epoch", "loss", "clean_err", "p_L1", "p_Linf", "rerr_L1", "rerr_Linf", "norm")
    history = [{k: r[k] for k in keep if k in r} for r in read_metrics(run_dir, kind="step")]
    record = {"unit": asdict(unit), "name": unit.name, "profile": size.name, "dataset": size.dataset, "arch": size.arch,
              "n_train": len(train_data), "time_per_epoch_s": sum(epoch_times) / len(epoch_times) if epoch_times else None,
              "train_seconds": train_seconds, "model_sha256": weights_digest(model), "history": history, "l2_curve": curve,
              "report": report.to_dict(per_point=True),
              "provenance": provenance(size.name, unit.seed, started, command)}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=1, default=float))
    tmp.replace(out)
    return record


def run_study(profile: str | None = None, groups: Iterable[str] = GROUPS, results_dir: str | pathlib.Path = RESULTS_DIR,
              runs_dir: str | pathlib.Path = "runs", command: str | None = None, log=print) -> list[dict]:
    """Run (or resume) every unit the groups need; returns their result records."""
    size = study_size(profile)
    results_dir, runs_dir = pathlib.Path(results_dir), pathlib.Path(runs_dir)
    units: list[Unit] = []
    for group_units in plan(size, groups).values():
        units += [u for u in group_units if u not in units]
    data = study_data(size)
    records = []
    for i, unit in enumerate(units, 1):
        t = time.perf_counter()
        record = run_unit(unit, size, results_dir, runs_dir, data=data, command=command)
        rep = record["report"]
        log(f"[{i}/{len(units)}] {unit.name}: clean {100 * rep['clean_accuracy']:.1f}, union "
            f"{100 * rep['union_accuracy']:.1f} ({time.perf_counter() - t:.1f} s)")
        records.append(record)
    return records
