"""The recorded study: the paper's experiments on real data, as resumable units of work.

A *unit* trains (from scratch or from another unit's model) and then evaluates. Each unit
writes ``<results_dir>/<folder>/<unit>.json`` (the robustness report, the time per epoch,
the weights digest, the provenance) and trains in ``<runs_dir>/<folder>/<unit>/``
(checkpoints, metrics), where the folder is the profile for code revision 1 and
``<profile>/r<N>`` for revision N > 1 (see :data:`~lpgeom.experiments.provenance.CODE_REVISIONS`):
results of different attack and training code never mix. Finished units are skipped; an
interrupted one resumes from its last checkpoint.
"""
from __future__ import annotations

import hashlib
import pathlib
import re
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import torch

from ..datasets import Dataset, dataset_spec
from ..utils import default_device
from ..utils.progress import progress_bar
from .record_schema import read_record, write_record
from .profiles import StudySize, study_size
from .provenance import CODE_REVISION, CODE_REVISIONS, provenance, record_revision, start_clock

__all__ = ["Unit", "plan", "GROUPS", "run_unit", "run_study", "UnitsSkipped", "load_result", "unit_from_name", "study_data", "study_threats",
           "revision_folder", "recorded_revisions",
           "new_model", "weights_digest"]

SINGLE = ("linf", "l2", "l1")
CALIBRATED = ("eat", "eat-calibrated")  # the calibrated-sampling experiment compares these two schemes
# what a record keeps of each logged training step: E-AT's probabilities and running errors,
# MAX's/MSD's per-norm shares (the paper's Figure 3), MSD's union error, the calibrated errors
HISTORY_KEYS = ("global_step", "epoch", "loss", "clean_err", "norm", "rerr_union")
HISTORY_PREFIXES = ("p_", "rerr_", "share_", "calibrated_rerr_")
GROUPS = ("table1", "table6", "table4", "table7", "table8", "table9", "figure1", "calibrated")


@dataclass(frozen=True)
class Unit:
    """One training run (+ evaluation) of the study."""

    scheme: str
    epochs: int
    seed: int = 0
    init: str | None = None  # name of the unit whose model is the starting point

    def __post_init__(self) -> None:
        from ..utils import check_integer
        from ..training import scheme_names
        from ..utils import check_seed

        if not isinstance(self.scheme, str) or self.scheme not in scheme_names():
            raise ValueError(f"Unit scheme must be a registered scheme ({', '.join(scheme_names())}), got {self.scheme!r}")
        check_integer(self.epochs, "Unit epochs", 1, 10**6)
        check_seed(self.seed, "Unit seed", optional=False)  # the seed TrainConfig takes
        if self.init is not None:
            if not isinstance(self.init, str):
                raise ValueError(f"Unit init must be None or a unit name, got {self.init!r}")
            unit_from_name(self.init)  # the starting unit's name must be a unit name (raises ValueError)

    @property
    def name(self) -> str:
        base = f"{self.scheme}_e{self.epochs}_s{self.seed}"
        return base if self.init is None else f"ft-{base}_from-{self.init}"


def _scratch(size: StudySize, scheme: str, seed: int = 0) -> Unit:
    return Unit(scheme, size.epochs, seed)


def plan(size: StudySize, groups: Iterable[str] = GROUPS) -> dict[str, list[Unit]]:
    """The units each group (table or figure analogue) needs, in dependency order."""
    groups = [groups] if isinstance(groups, str) else list(groups)
    if not groups:
        raise ValueError(f"plan needs at least one group of {', '.join(GROUPS)}, got none")
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        raise ValueError(f"unknown groups {unknown}; choose from {', '.join(GROUPS)}")
    out: dict[str, list[Unit]] = {}
    base = {s: _scratch(size, s) for s in SINGLE}
    natural = _scratch(size, "natural")
    for g in groups:
        if g == "table1":
            out[g] = [_scratch(size, s, seed) for s in size.schemes for seed in size.table1_seeds]
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
        elif g == "calibrated":  # beyond the paper: E-AT with calibrated sampling against plain E-AT
            out[g] = [base["linf"], *(Unit(s, size.ft_epochs, seed, base["linf"].name) for s in CALIBRATED for seed in size.seeds),
                      *(_scratch(size, s, seed) for s in CALIBRATED for seed in size.seeds)]
    return out


def revision_folder(profile: str, revision: int = CODE_REVISION) -> str:
    """The folder of a profile's results (and runs) at a code revision: ``cpu`` for 1, ``cpu/r2`` after.

    Raises
    ------
    ValueError
        For a revision :data:`~lpgeom.experiments.provenance.CODE_REVISIONS` does not list, or
        a profile that is not a plain name (it becomes a folder name).
    """
    if not isinstance(profile, str) or re.fullmatch(r"[A-Za-z0-9_-]+", profile) is None:
        raise ValueError(f"profile must be a profile name (letters, digits, '_' or '-'), got {profile!r}")
    if revision not in CODE_REVISIONS:
        raise ValueError(f"revision must be one of {sorted(CODE_REVISIONS)}, got {revision!r}")
    return profile if revision == 1 else f"{profile}/r{revision}"


def _result_path(results_dir: pathlib.Path, size: StudySize, unit: Unit, revision: int = CODE_REVISION) -> pathlib.Path:
    return pathlib.Path(results_dir) / revision_folder(size.name, revision) / f"{unit.name}.json"


def recorded_revisions(results_dir: str | pathlib.Path, profile: str, unit: Unit) -> list[int]:
    """The code revisions at which ``unit`` has a recorded result, oldest first."""
    folder = pathlib.Path(results_dir)
    return [r for r in sorted(CODE_REVISIONS) if (folder / revision_folder(profile, r) / f"{unit.name}.json").is_file()]


def load_result(results_dir: str | pathlib.Path, profile: str, unit: Unit, revision: int | None = None) -> dict | None:
    """A unit's recorded result at ``revision`` (None: the newest revision that has one), or None.

    The record's revision is ``record["provenance"]["code_revision"]`` (1 if absent).

    Raises
    ------
    RecordError
        A ``ValueError`` naming the file and the field, if the file is not a valid record
        (:mod:`lpgeom.experiments.record_schema`): truncated, a JSON list, impossible
        accuracies, another unit's record under this unit's name.
    """
    revisions = recorded_revisions(results_dir, profile, unit) if revision is None else [revision]
    if not revisions:
        return None
    path = pathlib.Path(results_dir) / revision_folder(profile, revisions[-1]) / f"{unit.name}.json"
    if not path.is_file():
        return None
    record = read_record(path)
    if record_revision(record) != revisions[-1]:
        raise ValueError(f"{path} says code revision {record_revision(record)} but lies in the folder of revision "
                         f"{revisions[-1]}")
    return record


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

    from ..data import load_dataset, subset, tensors

    spec = dataset_spec(size.dataset)

    def load(train: bool):  # the study's Fashion-MNIST is the embedded copy, never a download; others download
        return load_dataset(spec.dataset, train, download=spec.downloadable and spec.dataset is not Dataset.FASHION_MNIST)

    train_x, train_y = tensors(subset(load(True), size.n_train, seed=0)) if size.n_train else load(True).tensors
    test = load(False)
    test_x, test_y = test.tensors[0][: size.n_eval], test.tensors[1][: size.n_eval]
    return TensorDataset(train_x, train_y), (test_x, test_y)


def study_threats(size: StudySize):
    """The threat models of the study for ``size``'s dataset (a ThreatUnion of l_inf, l_2, l_1)."""
    from ..threats import dataset_threats

    return dataset_threats(size.dataset)


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


def model_options(size: StudySize) -> dict:
    """The architecture options of the study's model (``build_model(size.arch, **model_options(size))``)."""
    return {"width": size.width} if size.width else {}


def new_model(size: StudySize) -> torch.nn.Module:
    """A freshly initialised model of the study's architecture and width (weights from the global RNG)."""
    from ..models import build_model

    return build_model(size.arch, **model_options(size))


def _starting_model(unit: Unit, size: StudySize, results_dir: pathlib.Path, runs_dir: pathlib.Path, train_data,
                    threats) -> tuple[pathlib.Path, str, bool]:
    """The weights a fine-tuning unit starts from: (path, weights digest, whether the digest matches a record).

    Found in ``runs_dir`` or, if gone (``runs/`` is not committed, only the results are),
    trained again (training is deterministic for a seed on the CPU). Either way its digest
    is compared with the starting unit's recorded ``model_sha256`` at this code revision.

    Raises
    ------
    RuntimeError
        If the weights differ from the recorded starting model (its recorded result would no
        longer describe the starting point).
    """
    from ..models import load_weights, read_state_dict

    init_unit = unit_from_name(unit.init)
    path = runs_dir / revision_folder(size.name) / unit.init / "model.pt"
    if not path.is_file():
        _train_unit(init_unit, size, results_dir, runs_dir, train_data, threats)
    start = new_model(size)
    load_weights(start, read_state_dict(path), source=str(path))
    digest = weights_digest(start)
    recorded = (load_result(results_dir, size.name, init_unit, revision=CODE_REVISION) or {}).get("model_sha256")
    if recorded is not None and recorded != digest:
        raise RuntimeError(f"the starting model {path} of {unit.name} is not the recorded {unit.init} (weights digest "
                           f"{digest[:12]} vs recorded {recorded[:12]}): delete it to train it again, or the record")
    return path, digest, recorded is not None


def _scheme_settings(scheme: str, size: StudySize, epochs: int, kind: str = "scratch") -> dict:
    """The study's settings for ``scheme`` trained for ``epochs``, only those the scheme takes: its
    attack steps, for calibrated E-AT the measurement, for l_2-init. E-AT the switch epoch, and
    the recipe's other settings for the scheme (``kind`` "scratch" or "finetune", e.g. RAMP's
    logit-pairing weight and gradient projection)."""
    from ..training import EATCalibration, paper_recipe, scheme_spec

    accepted = scheme_spec(scheme).settings
    settings: dict = {k: v for k, v in paper_recipe(kind, size.dataset).settings.items() if k in accepted}
    if "n_iter" in accepted:  # natural training attacks nothing
        settings["n_iter"] = size.steps
    if "calibration" in accepted:
        settings["calibration"] = EATCalibration(every=size.calibration_every, n_iter=size.calibration_iter,
                                                 n_points=size.calibration_points)
    if "switch_epoch" in accepted:  # l_2-init. E-AT: l_2-AT until then
        settings["switch_epoch"] = min(size.switch_epoch, epochs - 1)
    return settings


def _train_unit(unit: Unit, size: StudySize, results_dir: pathlib.Path, runs_dir: pathlib.Path, train_data, threats):
    """Train one unit (resuming from its checkpoints); returns (model, training result, seconds, start).

    ``start`` is None from scratch, else ``{"unit", "model_sha256", "verified"}`` of the
    starting model (see :func:`_starting_model`).
    """
    from ..models import load_weights, read_state_dict
    from ..training import build_scheme, finetune_recipe, scratch_recipe, train

    start = None
    if unit.init is not None:
        init_path, digest, verified = _starting_model(unit, size, results_dir, runs_dir, train_data, threats)
        start = {"unit": unit.init, "model_sha256": digest, "verified": verified}
    torch.manual_seed(unit.seed)
    model = new_model(size)
    common = dict(batch_size=size.batch_size, seed=unit.seed, progress=False, checkpoint_every=50,
                  device=default_device(), augment=dataset_spec(size.dataset).augment)
    if unit.init is None:
        milestones = (70 / 80,) if size.epochs > 1 else ()
        config = scratch_recipe(unit.epochs, **common, milestones=milestones)
        scheme = build_scheme(unit.scheme, threats, **_scheme_settings(unit.scheme, size, unit.epochs))
    else:
        load_weights(model, read_state_dict(init_path), source=str(init_path))
        config = finetune_recipe(size.dataset, epochs=unit.epochs, **common)
        scheme = build_scheme(unit.scheme, threats, **_scheme_settings(unit.scheme, size, unit.epochs, "finetune"))
    run_dir = runs_dir / revision_folder(size.name) / unit.name
    t = time.perf_counter()
    result = train(model, train_data, scheme, config, run_dir,
                   describe={"unit": unit.name, "profile": size.name, "arch": size.arch, "dataset": size.dataset,
                             "model_options": model_options(size), "code_revision": CODE_REVISION})
    return model, result, time.perf_counter() - t, start


def run_unit(unit: Unit, size: StudySize, results_dir: pathlib.Path, runs_dir: pathlib.Path, data=None,
             command: str | None = None) -> dict:
    """Train and evaluate one unit at the current code revision (skipped if its result exists); returns the record."""
    from ..evaluation import evaluate_robustness

    results_dir, runs_dir = pathlib.Path(results_dir), pathlib.Path(runs_dir)
    out = _result_path(results_dir, size, unit)
    if out.is_file():
        return read_record(out)
    started = start_clock()
    train_data, (test_x, test_y) = data or study_data(size)
    threats = study_threats(size)
    model, result, train_seconds, start = _train_unit(unit, size, results_dir, runs_dir, train_data, threats)
    run_dir = runs_dir / revision_folder(size.name) / unit.name
    report = evaluate_robustness(model.eval(), test_x, test_y, threats, method=size.eval_method, n_iter=size.eval_iter,
                                 seed=0, name=unit.name, batch_size=size.eval_batch_size,
                                 n_target_classes=size.aa_target_classes)
    curve = None
    if unit.init is None and unit.scheme in ("l2", "eat"):  # Figure 1 analogue: l_2 robustness curve
        from ..evaluation import robustness_curve

        eps2 = threats["L2"].eps
        c = robustness_curve(model.eval(), test_x, test_y, threats["L2"], [f * eps2 for f in (0.25, 0.5, 0.75, 1.0, 1.25, 1.5)],
                             n_iter=size.curve_iter)
        curve = {"eps": c.eps, "accuracy": c.accuracy, "sanity": c.sanity}
    epoch_times = [e["seconds"] for e in result.epochs]
    from ..training import read_metrics

    history = [{k: v for k, v in r.items() if k in HISTORY_KEYS or k.startswith(HISTORY_PREFIXES)}
               for r in read_metrics(run_dir, kind="step")]
    record = {"unit": asdict(unit), "name": unit.name, "profile": size.name, "dataset": size.dataset, "arch": size.arch,
              "n_train": len(train_data), "time_per_epoch_s": sum(epoch_times) / len(epoch_times) if epoch_times else None,
              "train_seconds": train_seconds, "model_sha256": weights_digest(model), "start": start, "history": history,
              "l2_curve": curve, "report": report.to_dict(per_point=True),
              "provenance": provenance(size.name, unit.seed, started, command)}
    write_record(out, record, root=results_dir)
    return record


def select_units(planned: list[Unit], units: Iterable[str], groups: Iterable[str]) -> list[Unit]:
    """The planned units named in ``units``, in plan order.

    Raises
    ------
    ValueError
        A name the groups do not plan, or no name at all (the planned names are listed).
    """
    wanted = [units] if isinstance(units, str) else list(units)
    names = [u.name for u in planned]
    unknown = [n for n in wanted if n not in names]
    if unknown or not wanted:
        raise ValueError(f"units {unknown or wanted} are not planned by the groups {list(groups)}; planned: "
                         + ", ".join(names))
    return [u for u in planned if u.name in wanted]


class UnitsSkipped(RuntimeError):
    """Some units of a study were skipped because their run folder is taken; the others ran."""


def run_study(profile: str | None = None, groups: Iterable[str] = GROUPS, results_dir: str | pathlib.Path | None = None,
              runs_dir: str | pathlib.Path = "runs", command: str | None = None, log=print,
              units: Iterable[str] | None = None, progress: bool | None = None) -> list[dict]:
    """Run (or resume) every unit the groups need; returns their result records.

    Parameters
    ----------
    results_dir : path-like, optional
        Where the records are written; ``None``: :func:`lpgeom.utils.locations.results_dir`
        (``$LPGEOM_RESULTS_DIR``, ``$LPGEOM_RECORDS_DIR/results``, a checkout's ``data/results`` or
        ``./lpgeom-data/results``). Never a folder inside the installed package.
    progress : bool, optional
        A tqdm bar over the units (rate, ETA) on stderr; ``None``: on unless turned off
        (:func:`lpgeom.utils.progress.progress_enabled`; the CLI's ``--quiet``).
    units : iterable of str, optional
        Only these units of the groups' plan (their names, e.g. ``"eat_e5_s1"``), so that two
        processes can share one group; a fine-tuning unit still finds (or trains again) its
        starting model and checks it against the starting unit's record.

    Raises
    ------
    ValueError
        A name in ``units`` that the groups do not plan (the planned names are listed).
    UnitsSkipped
        (a ``RuntimeError``) after every other unit has run, if some were skipped because their run folder is taken:
        written by another live process (:class:`~lpgeom.training.RunLockedError`) or holding a
        run of another configuration or code (:class:`~lpgeom.training.RunConflictError`); each
        is named with the reason. Nothing of theirs is overwritten.
    """
    from ..training import RunConflictError, RunLockedError

    from ..utils.locations import check_outside_package
    from ..utils.locations import results_dir as writable_results_dir

    size = study_size(profile)
    results_dir, runs_dir = writable_results_dir(results_dir), pathlib.Path(runs_dir)
    check_outside_package(runs_dir, "runs folder")
    planned: list[Unit] = []
    for group_units in plan(size, groups).values():
        planned += [u for u in group_units if u not in planned]
    if units is not None:
        planned = select_units(planned, units, groups)
    data = study_data(size)
    records, skipped = [], []
    bar = progress_bar(total=len(planned), desc=f"study {size.name}", unit="unit", progress=progress, leave=True)
    for i, unit in enumerate(planned, 1):
        bar.set_postfix_str(unit.name)
        t = time.perf_counter()
        try:
            record = run_unit(unit, size, results_dir, runs_dir, data=data, command=command)
        except (RunLockedError, RunConflictError) as err:
            skipped.append(f"{unit.name}: {err}")
            bar.update(1)
            log(f"[{i}/{len(planned)}] {unit.name}: SKIPPED, its run folder is taken ({type(err).__name__}: {err})")
            continue
        rep = record["report"]
        log(f"[{i}/{len(planned)}] {unit.name}: clean {100 * rep['clean_accuracy']:.1f}, union "
            f"{100 * rep['union_accuracy']:.1f} ({time.perf_counter() - t:.1f} s)")
        records.append(record)
        bar.update(1)
    bar.close()
    if skipped:
        raise UnitsSkipped(f"{len(skipped)} of {len(planned)} units were skipped, the others ran: " + " | ".join(skipped))
    return records
