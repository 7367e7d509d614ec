"""The one training loop every scheme shares: seeded, resumable, device-agnostic, DDP-ready.

Reproducibility: the data order of epoch ``e`` is a permutation seeded by ``(seed, e)``,
and every random choice of step ``t`` (augmentation, E-AT's norm) uses a generator seeded
by ``(seed, t)``. A run killed at any point and resumed from its last checkpoint
recomputes the same order, skips the steps already done, and (on the CPU) ends with
bit-identical weights.

The parts: batches from :mod:`lpgeom.data.loaders`, the step in :mod:`.step`, logging in
:mod:`.metrics`, checkpoints in :mod:`.checkpoint`, the resume fingerprint in
:mod:`.fingerprint`, the run-dir lock in :mod:`.lock`, best-checkpoint selection in
:mod:`.selection`.
"""
from __future__ import annotations

import dataclasses
import json
import numbers
import os
import pathlib
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn
from torch.utils.data import Dataset

from ..data.loaders import BatchPlan, default_workers, epoch_order, training_batches
from ..geometry import check_integer, check_real
from ..models.checkpoints import DIGEST_SUFFIX, digest_path, load_weights, write_state_dict
from ..utils.files import atomic_write_json, check_write_target, os_error, remove_file, remove_stale_temporaries
from ..utils.progress import progress_enabled
from ..utils.seeds import check_seed
from .checkpoint import LAST, PREVIOUS, CheckpointPolicy, load_latest, save_checkpoint
from .distributed import DistInfo, barrier, init_distributed, process_device
from .epoch import EpochContext
from .fingerprint import RunConflictError, fingerprint_differences, numerics_environment, run_fingerprint, unchecked_fields
from .inputs import check_training_data
from .lock import LOCK_NAME, RunLock
from .metrics import METRICS_NAME, MetricsLog, RunLog
from .schedule import PiecewiseLR
from .selection import BEST, HoldoutSelector, split_holdout
from .step import DivergenceGuard, StepSettings, TrainingDiverged, training_step

__all__ = ["TrainConfig", "TrainResult", "train", "epoch_order", "check_device_available", "FINAL", "CONFIG"]

FINAL = "model.pt"
CONFIG = "config.json"
# the files a run writes atomically (their temporary files are removed when the run dir is taken)
MARKER = ".lpgeom-run.json"  # {"fingerprint": sha256 of the run's fingerprint, "checkpointed": bool}
RUN_FILES = (LAST, PREVIOUS, FINAL, BEST, CONFIG, METRICS_NAME, *(n + DIGEST_SUFFIX for n in (FINAL, BEST)), MARKER)
# what a fresh start deletes or replaces (the marker aside: it is rewritten by every fresh start)
_REPLACED = (LAST, PREVIOUS, FINAL, BEST, *(n + DIGEST_SUFFIX for n in (LAST, PREVIOUS, FINAL, BEST)), CONFIG,
             METRICS_NAME)


@dataclass
class TrainConfig:
    """Hyper-parameters of a run (saved with it as ``config.json``).

    Attributes
    ----------
    epochs, batch_size, lr : training length, global batch size, initial learning rate
    milestones : fractions of training where the lr is multiplied by ``lr_factor``
    lr_factor : in (0, 1]
    momentum, weight_decay : SGD settings (paper: 0.9, 5e-4): momentum in [0, 1), weight_decay in [0, 1]
    seed : seeds data order, augmentation and the schemes' random choices; an integer in [0, 2**64 - 1]
        (:func:`lpgeom.utils.check_seed`)
    augment : random crop (pad 4) + horizontal flip, on the device
    checkpoint_every : also checkpoint every this many steps (0: at epoch ends only)
    amp : bf16 autocast (mixed precision) of the forward passes, on CUDA and on the CPU; recorded in
        ``config.json`` as ``"autocast": "bfloat16"``
    channels_last : channels-last memory format (CUDA)
    device : "cpu", "cuda", "cuda:1", ... (CUDA must be available when training starts)
    log_every : write a step record every this many steps
    progress : show a tqdm progress bar
    stop_after_steps : stop (after checkpointing) once this many steps are done in total (testing/profiling)
    compile : run the model through ``torch.compile`` (training forward, attacks, clean error);
        checkpoints keep the bare model's keys
    workers : worker processes reading the data (None: 0 for in-memory data, ``min(8, CPUs)``
        for data read from files); the batches are the same for any number
    select : "last" keeps the final weights as ``model.pt``; "best" also evaluates robust
        accuracy on ``holdout`` held-out training examples at every epoch end and keeps the
        best epoch's weights as ``best.pt`` (the paper's best-checkpoint selection)
    holdout : training examples held out (seeded by ``seed``) for ``select="best"``; they are
        not trained on

    Raises
    ------
    TypeError
        A field of the wrong kind (a count that is not an integer, a rate that is not a real
        number, a flag that is not a bool), as :func:`lpgeom.geometry.check_integer` /
        :func:`~lpgeom.geometry.check_real` / :func:`lpgeom.utils.check_seed` say.
    ValueError
        A field out of its range, an unknown device or selection, bad milestones.
    """

    epochs: int = 1
    batch_size: int = 128
    lr: float = 0.05
    milestones: tuple[float, ...] = ()
    lr_factor: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    seed: int = 0
    augment: bool = False
    checkpoint_every: int = 0
    amp: bool = False
    channels_last: bool = False
    device: str = "cpu"
    log_every: int = 10
    progress: bool = True
    stop_after_steps: int | None = None
    compile: bool = False
    workers: int | None = None
    select: Literal["last", "best"] = "last"
    holdout: int = 0

    def __post_init__(self):
        for name, low in (("epochs", 1), ("batch_size", 1), ("log_every", 1), ("checkpoint_every", 0), ("holdout", 0)):
            setattr(self, name, check_integer(getattr(self, name), name, low))
        self.seed = check_seed(self.seed, "seed", optional=False)
        if self.stop_after_steps is not None:
            self.stop_after_steps = check_integer(self.stop_after_steps, "stop_after_steps", 1)
        if self.workers is not None:
            self.workers = check_integer(self.workers, "workers", 0)
        self.lr = check_real(self.lr, "lr", 0.0, low_open=True)
        self.lr_factor = check_real(self.lr_factor, "lr_factor", 0.0, 1.0, low_open=True)
        self.momentum = check_real(self.momentum, "momentum", 0.0, 1.0, high_open=True)
        self.weight_decay = check_real(self.weight_decay, "weight_decay", 0.0, 1.0)
        for name in ("augment", "amp", "channels_last", "progress", "compile"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        self.device = _device_name(self.device)
        if self.select not in ("last", "best"):
            raise ValueError(f"select must be 'last' or 'best', got {self.select!r}")
        if (self.select == "best") != (self.holdout > 0):
            raise ValueError(f"select='best' needs holdout > 0 examples and holdout needs select='best', got "
                             f"select={self.select!r} and holdout={self.holdout}")
        if isinstance(self.milestones, (str, bytes)) or not isinstance(self.milestones, Sequence) or not all(
                isinstance(m, numbers.Real) and not isinstance(m, bool) for m in self.milestones):
            raise ValueError(f"milestones must be a sequence of fractions of training in (0, 1), got {self.milestones!r}")
        self.milestones = tuple(float(m) for m in self.milestones)
        PiecewiseLR(self.lr, self.milestones, self.lr_factor)  # validates the milestones

    def fingerprint(self) -> dict:
        """Settings that must not change when a run is resumed (all but how it is run and shown)."""
        skip = {"progress", "log_every", "checkpoint_every", "stop_after_steps", "device", "compile", "workers"}
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in skip}


def _device_name(device) -> str:
    """The device as a string ('cpu', 'cuda', 'cuda:1'), or a ValueError naming what is accepted."""
    accepted = "'cpu', 'cuda' or 'cuda:N'"
    if not isinstance(device, (str, torch.device)):
        raise ValueError(f"device must be {accepted} (a str or torch.device), got {device!r}")
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError):
        raise ValueError(f"device must be {accepted}, got {device!r}") from None
    if parsed.type not in ("cpu", "cuda") or (parsed.type == "cpu" and parsed.index not in (None, 0)):
        raise ValueError(f"device must be {accepted}, got {device!r}")
    return str(parsed)


def check_device_available(device: str) -> None:
    """Refuse a CUDA device this machine lacks (ValueError naming it and what there is)."""
    parsed = torch.device(device)
    if parsed.type != "cuda":
        return
    if not torch.cuda.is_available():
        raise ValueError(f"device {device!r}: CUDA is not available on this machine; use device='cpu'")
    if parsed.index is not None and parsed.index >= torch.cuda.device_count():
        raise ValueError(f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA device(s) "
                         f"(cuda:0 to cuda:{torch.cuda.device_count() - 1})")


@dataclass
class TrainResult:
    """What :func:`train` did: epoch summaries of this call, steps done in total, whether the run is finished."""

    run_dir: pathlib.Path
    epochs: list[dict] = field(default_factory=list)
    global_step: int = 0
    finished: bool = False
    best: dict | None = None


def _prepare_run_dir(run_dir: pathlib.Path) -> None:
    """Create ``run_dir`` (and its parents), or raise one sentence naming it and why not."""
    try:
        exists, link = run_dir.exists(), run_dir.is_symlink()
    except OSError as err:  # e.g. a name too long for the file system
        raise os_error(err.errno, f"could not use the run dir {run_dir}: {err.strerror or err}") from err
    if link and not exists:
        raise FileNotFoundError(f"run_dir {run_dir} is a broken symbolic link (to {os.readlink(run_dir)}); create "
                                "its target folder or pass another folder")
    if exists and not run_dir.is_dir():
        raise NotADirectoryError(f"run_dir {run_dir} is a file, not a folder; pass a folder path")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise os_error(err.errno, f"could not create the run dir {run_dir}: {err.strerror or err}") from err


def _fingerprint_digest(fingerprint: dict) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(fingerprint, sort_keys=True, default=str).encode()).hexdigest()


def _present(run_dir: pathlib.Path, names: Sequence[str]) -> list[str]:
    """The files of ``names`` in ``run_dir`` (a folder of such a name is refused later, by its writer, naming it)."""
    return [name for name in names if os.path.lexists(run_dir / name)
            and ((run_dir / name).is_symlink() or not (run_dir / name).is_dir())]


def _own_restart(run_dir: pathlib.Path, digest: str) -> bool:
    """Whether ``run_dir``'s marker says this very run (same fingerprint) started there and wrote no checkpoint yet:
    what it left (config.json, metrics.jsonl) is lpgeom's own and is written again, identically, by a restart."""
    try:
        marker = json.loads((run_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(marker, dict) and marker.get("fingerprint") == digest and marker.get("checkpointed") is False


def _write_marker(run_dir: pathlib.Path, digest: str, checkpointed: bool) -> None:
    atomic_write_json(run_dir / MARKER, {"fingerprint": digest, "checkpointed": checkpointed}, root=run_dir)


def _refuse_replacing(run_dir: pathlib.Path, digest: str) -> None:
    """Refuse to start afresh where a file lpgeom did not write for this run would be replaced or deleted.

    Only ``overwrite=True`` replaces them: a run's weights or checkpoints; a ``config.json``,
    ``metrics.jsonl`` or digest lpgeom did not write (another program's files, or an lpgeom
    run whose weights were moved away). Files a start of this same run left before its first
    checkpoint (the run dir's marker says so) are not refused: a restart writes them again.
    """
    finished = [name for name in (FINAL, BEST) if (run_dir / name).exists()]
    unfinished = [name for name in (LAST, PREVIOUS) if (run_dir / name).exists()]
    if finished:
        raise ValueError(f"{run_dir} holds a finished run ({', '.join(finished)}) that starting afresh would delete; "
                         "pass overwrite=True (CLI: --overwrite) to replace it, or use a new run dir")
    if unfinished:
        raise ValueError(f"{run_dir} holds an unfinished run ({', '.join(unfinished)}) that resume=False would delete; "
                         "resume it (resume=True, the CLI's default), pass overwrite=True (CLI: --overwrite) to "
                         "replace it, or use a new run dir")
    others = _present(run_dir, _REPLACED)
    if others and not _own_restart(run_dir, digest):
        raise ValueError(f"{run_dir} holds {', '.join(others)}, which starting this run would replace or delete, and "
                         "no checkpoint of this run: lpgeom did not write them for it (files of another program, or "
                         "of a run whose weights were moved away); pass overwrite=True (CLI: --overwrite) to replace "
                         "them, or use a new run dir")


def _start_fresh(run_dir: pathlib.Path, record: dict, log: MetricsLog, digest: str, overwrite: bool) -> None:
    """A new run in ``run_dir``: the files of an earlier run there are removed (with ``overwrite``, after a warning
    naming them), the marker and ``config.json`` written."""
    present = _present(run_dir, _REPLACED)
    if overwrite and present:
        warnings.warn(f"overwrite=True: replacing the earlier contents of {run_dir}: "
                      f"{', '.join(n for n in present if n != CONFIG) or 'nothing'} deleted"
                      + (", config.json replaced" if CONFIG in present else ""), stacklevel=4)
    for name in (LAST, PREVIOUS, FINAL, BEST):
        remove_file(run_dir / name, run_dir)
        remove_file(digest_path(run_dir / name), run_dir)
    log.clear()
    _write_marker(run_dir, digest, checkpointed=False)
    atomic_write_json(run_dir / CONFIG, record, root=run_dir)


def _restore_config_json(run_dir: pathlib.Path, record: dict, strict: bool) -> None:
    """On resume: make ``config.json`` the run's record again (atomically), warning if it was missing or damaged.

    ``strict``: the checkpoint holds the run's own record, so any difference is repaired; else
    (a checkpoint of an older lpgeom) only a missing or unreadable file is rewritten.
    """
    path, expected = run_dir / CONFIG, json.dumps(record, indent=2, default=str) + "\n"
    try:
        current = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problem = "was missing"
    except (ValueError, UnicodeDecodeError, IsADirectoryError):
        problem = "was not a readable JSON record"
    else:
        if not strict or json.dumps(current, indent=2, default=str) + "\n" == expected:
            return
        problem = "differed from the run's settings"
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; the run's config.json cannot be restored there: remove it")
    atomic_write_json(path, record, root=run_dir)
    warnings.warn(f"{path} {problem}; rewritten from the run's checkpoint (the run's settings there are authoritative)",
                  stacklevel=3)


def _refuse_other_run(run_dir: pathlib.Path, saved: dict | None, now: dict) -> None:
    if saved is None:
        raise RunConflictError(f"{run_dir / LAST} was written by an older lpgeom without a run fingerprint, so it cannot be "
                         "checked against this run; use a new run dir, or overwrite=True (CLI: --overwrite) to "
                         "replace it")
    unchecked = unchecked_fields(saved, now)
    if unchecked:
        warnings.warn(f"{run_dir / LAST} was written by an older lpgeom whose fingerprint lacks {', '.join(unchecked)}: "
                      "the run resumes, but these cannot be checked against it", stacklevel=3)
    differences = fingerprint_differences(saved, now)
    if differences:
        raise RunConflictError(f"{run_dir} holds a run with another configuration; use a new run dir, or overwrite=True (CLI: "
                         "--overwrite) to replace it. "
                         f"Differences: " + "; ".join(differences))


def _amp_was_cuda_only(state: dict, config: TrainConfig, device: torch.device) -> bool:
    """Whether a checkpoint comes from an lpgeom whose ``amp`` was CUDA-only (it holds no run record) while this
    resume autocasts on the CPU: the steps before it and after it differ in precision."""
    return state.get("record") is None and config.amp and device.type == "cpu"


def _warn_other_environment(run_dir: pathlib.Path, saved: dict | None, now: dict) -> None:
    differences = fingerprint_differences(saved, now) if saved else []
    if differences:
        warnings.warn(f"resuming {run_dir} in another numerical environment ({'; '.join(differences)}): the run goes "
                      "on, but its results will not be bit-identical to an uninterrupted run", stacklevel=3)


def train(model: nn.Module, dataset: Dataset, scheme, config: TrainConfig, run_dir: str | os.PathLike,
          resume: bool = True, describe: dict | None = None, extra: Dataset | None = None,
          select_threats=None, overwrite: bool = False) -> TrainResult:
    """Train ``model`` on ``dataset`` with ``scheme``, checkpointing into ``run_dir``.

    Parameters
    ----------
    model : torch.nn.Module
        Inputs in [0, 1]; moved to ``config.device``.
    dataset : torch.utils.data.Dataset
        Items ``(x, y)`` with ``x`` of shape (C, H, W); a TensorDataset is fastest, folder
        datasets are read by ``config.workers`` worker processes.
    scheme : Scheme
        ``training_loss(model, x, y, ctx) -> (loss, StepStats)``; ``describe()`` enters the fingerprint.
    config : TrainConfig
    run_dir : path
        Holds ``config.json``, ``metrics.jsonl``, ``last.pt`` / ``previous.pt``, ``model.pt``
        (written when the run finishes), ``best.pt`` (``select="best"``) and ``.lock``.
    resume : bool
        Continue from ``run_dir/last.pt`` if present (the run's fingerprint must match; the
        run's ``config.json`` is restored from the checkpoint if it was lost or damaged).
        False starts afresh, which is refused where an earlier run's checkpoints would be lost.
    describe : dict, optional
        Extra information saved in ``config.json`` (e.g. architecture, dataset, CLI command);
        all but ``"command"`` enter the fingerprint.
    extra : Dataset, optional
        Extra (pseudo-labelled) data: half of every batch is drawn from it (seeded per step),
        and one epoch is still one pass over ``dataset`` (the paper's setup for models
        trained with extra data).
    select_threats : ThreatUnion, optional
        The threats of the held-out robust accuracy (required with ``config.select="best"``).
    overwrite : bool
        Start afresh even where ``run_dir`` holds a run (finished or not): its checkpoints,
        weights and logs are deleted, after a warning naming them. Without it, a fresh
        start never replaces or deletes a file lpgeom did not write for this run: weights,
        checkpoints, or a ``config.json`` / ``metrics.jsonl`` of another program or of a run
        whose weights were moved away. The run dir's marker ``.lpgeom-run.json`` (the run's
        fingerprint digest, and whether it has written a checkpoint) is how lpgeom knows: the
        files a start of this very run left before its first checkpoint are written again.

    Returns
    -------
    TrainResult

    Raises
    ------
    TypeError
        Arguments of the wrong kind, or data whose dtype the model cannot take (see
        :func:`~lpgeom.training.inputs.check_training_data`).
    ValueError
        A dataset smaller than a batch, data the model cannot be trained on (pixels outside
        [0, 1], another number of channels, labels that are not its classes), a CUDA device
        the machine lacks, a fresh start that would delete an earlier run, bad DDP or extra-data
        settings.
    RunConflictError
        A ``ValueError``: a resume whose fingerprint differs (the fields are named), or a
        checkpoint without one.
    RunLockedError
        If another live process writes ``run_dir`` (its PID is named).
    CheckpointError
        If checkpoints exist but none is readable and intact.
    TrainingDiverged
        If the loss or the weights become non-finite (the last good checkpoint is kept, no
        ``model.pt`` is written).
    OSError
        If ``run_dir`` cannot be written (disk full, read-only, a file): one sentence naming the path.
    """
    run_dir = _check_arguments(model, scheme, config, run_dir, resume, overwrite, select_threats)
    check_device_available(config.device)
    most = max(8, 4 * (os.cpu_count() or 1))
    if config.workers is not None and config.workers > most:
        raise ValueError(f"workers {config.workers} is more than {most} (4 per CPU of this machine): give at most {most}")
    dist_info: DistInfo = init_distributed(config.device)
    device = process_device(config.device, dist_info)
    main = dist_info.rank == 0
    if config.select == "best" and select_threats is None:
        raise ValueError("config.select='best' needs select_threats (the threats of the held-out robust accuracy)")
    dataset, held_out = split_holdout(dataset, config.holdout, config.seed)
    if len(dataset) < config.batch_size:
        raise ValueError(f"the dataset has {len(dataset)} examples, fewer than one batch of {config.batch_size}")
    if dist_info.enabled and config.batch_size % dist_info.world_size:
        raise ValueError(f"batch_size {config.batch_size} must be divisible by the {dist_info.world_size} processes")
    standard = config.batch_size // 2 if extra is not None else config.batch_size  # standard examples per batch
    if extra is not None and (standard < 1 or len(extra) == 0):
        raise ValueError("extra data needs batch_size >= 2 and a non-empty extra dataset")
    check_training_data(model, dataset)
    if extra is not None:
        check_training_data(model, extra, name="extra")
    if main:
        _prepare_run_dir(run_dir)
        for name in (LOCK_NAME, *RUN_FILES):  # a link is refused before anything is read or written through it
            check_write_target(run_dir / name, run_dir)
    lock = RunLock(run_dir).acquire() if main else None
    try:
        if main:  # under the lock: what a killed writer of this run left behind
            remove_stale_temporaries(run_dir, RUN_FILES)
        return _train_locked(model, dataset, held_out, scheme, config, run_dir, resume, overwrite, describe, extra,
                             select_threats, device, dist_info, standard)
    finally:
        if lock is not None:
            lock.release()


def _check_arguments(model, scheme, config, run_dir, resume, overwrite, select_threats) -> pathlib.Path:
    """Refuse arguments of the wrong kind (TypeError) or an empty run dir (ValueError); the run dir as a Path."""
    from ..threats import ThreatUnion

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError("model has no trainable parameters (none requires_grad): unfreeze the layers to train")
    if any(t.is_meta for t in model.state_dict().values()):
        raise ValueError("model's weights are on the meta device (shapes without values): materialise them first "
                         "(e.g. model.to_empty(device='cpu') then initialise or load weights)")
    if not callable(getattr(scheme, "training_loss", None)) or not callable(getattr(scheme, "describe", None)):
        raise TypeError(f"scheme must be a Scheme (build_scheme(name, threats)), got {type(scheme).__name__}")
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    if not isinstance(run_dir, (str, os.PathLike)):
        raise TypeError(f"run_dir must be a path (str or os.PathLike), got {type(run_dir).__name__}")
    if not str(os.fspath(run_dir)).strip() or "\0" in str(os.fspath(run_dir)):
        raise ValueError(f"run_dir must name a folder (not empty, no NUL character), got {str(run_dir)!r}")
    for name, value in (("resume", resume), ("overwrite", overwrite)):
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False, got {value!r}")
    if select_threats is not None and not isinstance(select_threats, ThreatUnion):
        raise TypeError(f"select_threats must be a ThreatUnion, got {type(select_threats).__name__}")
    return pathlib.Path(run_dir)


def _train_locked(model, dataset, held_out, scheme, config, run_dir, resume, overwrite, describe, extra,
                  select_threats, device, dist_info, standard) -> TrainResult:
    """:func:`train` under the run lock: set up, resume or start afresh, run the remaining epochs."""
    run = _Run(model, dataset, scheme, config, run_dir, device, dist_info, extra, standard)
    run.set_up(held_out, describe, select_threats)
    state = load_latest(run_dir, map_location="cpu") if resume and not overwrite else None
    digest = _fingerprint_digest(run.fingerprint)
    if state is None and not overwrite:
        _refuse_replacing(run_dir, digest)
    run.digest, run.marked = digest, state is not None  # a fresh start's marker: "no checkpoint yet" until its first
    if state is not None:
        run.resume_from(state)
    elif run.main:
        _start_fresh(run_dir, run.record, run.log, digest, overwrite)
    return run.run()


class _Run:
    """One call of :func:`train` under its lock: the run's parts and where it stands (steps done, last checkpoint)."""

    def __init__(self, model, dataset, scheme, config: TrainConfig, run_dir: pathlib.Path, device: torch.device,
                 dist_info: DistInfo, extra, standard: int) -> None:
        self.model, self.dataset, self.scheme, self.config, self.run_dir = model, dataset, scheme, config, run_dir
        self.device, self.dist_info, self.extra, self.standard = device, dist_info, extra, standard
        self.main = dist_info.rank == 0
        self.start_epoch, self.start_step, self.global_step, self.epoch_state = 0, 0, 0, None
        self.digest, self.marked = "", True  # set by _train_locked: the fingerprint's digest, the marker's state

    def set_up(self, held_out, describe: dict | None, select_threats) -> None:
        """Device and memory format, optimiser, schedule, fingerprint, record, logs, best-epoch selector."""
        model, config = self.model, self.config
        model.to(self.device)
        if config.channels_last:
            model.to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                         weight_decay=config.weight_decay)
        self.schedule = PiecewiseLR(config.lr, config.milestones, config.lr_factor)
        self.fingerprint = run_fingerprint(model, self.dataset, self.scheme, config.fingerprint(), self.extra,
                                           describe, select_threats)
        self.environment = numerics_environment(self.device)
        self.record = json.loads(json.dumps({"config": dataclasses.asdict(config), "scheme": self.scheme.describe(),
                                             **(describe or {}), "autocast": "bfloat16" if config.amp else None,
                                             "environment": self.environment}, default=str))
        self.log = MetricsLog(self.run_dir, enabled=self.main)
        self.selector = (HoldoutSelector(held_out, select_threats, self.run_dir, enabled=self.main)
                         if config.select == "best" else None)
        self.last_saved = "no checkpoint"

    def resume_from(self, state: dict) -> None:
        """Check ``state`` (the run's latest checkpoint) against this run and restore everything it holds."""
        run_dir = self.run_dir
        _refuse_other_run(run_dir, state.get("fingerprint"), self.fingerprint)
        _warn_other_environment(run_dir, state.get("environment"), self.environment)
        if _amp_was_cuda_only(state, self.config, self.device):
            warnings.warn(f"{run_dir / LAST} was written by an lpgeom whose amp did nothing on the CPU: the run's first "
                          f"{int(state['global_step'])} steps ran in float32, and it goes on with bf16 autocast from "
                          f"step {int(state['global_step']) + 1} on, so it is not the run that was started", stacklevel=3)
            self.record = {**self.record,
                           "autocast": f"bfloat16 from step {int(state['global_step']) + 1} on (float32 before)"}
        if self.main:
            saved = state.get("record")
            _restore_config_json(run_dir, saved if saved is not None else {
                **self.record, "environment": state.get("environment", self.environment)}, strict=saved is not None)
            self.record = saved if saved is not None else self.record
        load_weights(self.model, state["model"], source=str(run_dir / LAST))
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheme.load_state_dict(state["scheme"])
        self.start_epoch, self.start_step = int(state["epoch"]), int(state["step"])
        self.global_step = int(state["global_step"])
        self.epoch_state = state.get("epoch_log")
        if self.selector is not None:
            self.selector.load_state_dict(state.get("best", {}))
            self.selector.save_best(self.model, self.global_step)  # a kill after the checkpoint, before best.pt
        self.log.truncate_after(self.global_step)
        self.last_saved = f"the checkpoint of step {self.global_step} ({LAST})"

    def run(self) -> TrainResult:
        """Every remaining step; ``model.pt`` once the last is done (a stopped run returns before it)."""
        config = self.config
        self.net, self.attack_model = _wrap(self.model, config, self.dist_info, self.device)
        plan = BatchPlan(len(self.dataset), self.standard, config.seed, self.dist_info.rank, self.dist_info.world_size)
        self.steps_per_epoch = plan.steps_per_epoch
        self.total_steps = self.steps_per_epoch * config.epochs
        self.settings = StepSettings(self.device, config.seed, config.augment, config.amp, config.channels_last)
        self.workers = default_workers(self.dataset) if config.workers is None else config.workers
        batches = training_batches(self.dataset, plan, self.start_epoch, self.start_step, config.epochs,
                                   first_global_step=self.global_step, workers=self.workers,
                                   pin_memory=self.device.type == "cuda")
        self.guard = DivergenceGuard(self.device)
        bar = None
        if config.progress and self.main and progress_enabled():  # off too with the CLI's --quiet, $LPGEOM_PROGRESS=0
            from tqdm.auto import tqdm

            bar = tqdm(total=self.total_steps, initial=self.global_step, desc=self.scheme.name, unit="step",
                       leave=False, file=sys.stderr, dynamic_ncols=True)
        self.run_log = RunLog(self.log, config.log_every, self.steps_per_epoch, bar)
        result = TrainResult(self.run_dir, global_step=self.global_step)
        self.policy = CheckpointPolicy(config.checkpoint_every, config.stop_after_steps)
        try:
            if self.policy.stops(self.global_step) and self.global_step < self.total_steps:
                return result  # resumed at or past its stop: no further step
            for epoch in range(self.start_epoch, config.epochs):
                first = self.start_step if epoch == self.start_epoch else 0
                if self._epoch(epoch, first, batches, result):
                    result.global_step = self.global_step
                    return result
        finally:
            self.run_log.close()
            batches.close()
        self.guard.check(self.model, self.global_step, self.last_saved)
        if self.main:
            write_state_dict(self.model.state_dict(), self.run_dir / FINAL)
        result.global_step, result.finished = self.global_step, True
        result.best = self.selector.best if self.selector is not None else None
        return result

    def _epoch(self, epoch: int, first: int, batches, result: TrainResult) -> bool:
        """Steps ``first`` to the end of ``epoch`` (with the scheme's epoch hooks); True where the run stops."""
        self.run_log.start_epoch(self.epoch_state if epoch == self.start_epoch and self.start_step else None)
        if first == 0:
            self.scheme.before_epoch(self.epoch_context(epoch))
        for step in range(first, self.steps_per_epoch):
            x, y = next(batches)
            if self.extra is not None:
                x, y = _with_extra(x, y, self.extra, self.config, self.global_step, self.dist_info)
            lr = self.schedule(self.global_step / self.total_steps)
            stats = self._step(x, y, lr, epoch)
            self.guard.observe(stats.loss, self.global_step)
            self.global_step += 1
            if self.run_log.step(stats, epoch, step, self.global_step, lr) is not None:  # numbers read: check them
                self.guard.check(self.model, self.global_step, self.last_saved, weights=False)
            if step + 1 == self.steps_per_epoch:
                self._end_epoch(epoch, result)
            resume_point = self.policy.resume_point(epoch, step, self.steps_per_epoch, self.global_step)
            if resume_point is not None:
                self.checkpoint(*resume_point)
                if self.selector is not None:  # best.pt only once the checkpoint naming its epoch is saved
                    self.selector.save_best(self.model, self.global_step)
            if self.policy.stops(self.global_step):
                return True
        return False

    def _step(self, x: torch.Tensor, y: torch.Tensor, lr: float, epoch: int):
        """One training step; a ValueError of a diverged model (non-finite outputs) becomes TrainingDiverged."""
        try:
            return training_step(self.net, self.attack_model, self.optimizer, self.scheme, x, y, lr, epoch,
                                 self.global_step, self.settings)
        except ValueError as err:  # e.g. an attack refusing NaN logits: a diverged run says so
            self.guard.check(self.model, self.global_step, self.last_saved)
            if not _logits_finite(self.model, x, self.device):  # finite weights, overflowing outputs
                raise TrainingDiverged(f"training diverged: the model's outputs are not finite at step "
                                       f"{self.global_step + 1} ({err}); the run is stopped (not finished) and "
                                       f"keeps {self.last_saved}; lower the learning rate or check the data") from None
            raise

    def _end_epoch(self, epoch: int, result: TrainResult) -> None:
        """The scheme's after-epoch work, then the epoch summary (and the best-epoch selection) in the log."""
        self.scheme.after_epoch(self.epoch_context(epoch))
        summary = self.run_log.epoch_summary(epoch, self.global_step)
        if self.selector is not None:
            summary.update(self.selector.epoch_end(self.attack_model, epoch, self.global_step))
        self.log.write(summary)  # before the checkpoint: a resume from it never loses the summary
        result.epochs.append(summary)

    def epoch_context(self, epoch: int) -> EpochContext:
        """What the scheme's epoch hooks see of epoch ``epoch``."""
        def epoch_batches(e: int, seed: int):
            plan = BatchPlan(len(self.dataset), self.standard, seed, self.dist_info.rank, self.dist_info.world_size)
            return training_batches(self.dataset, plan, e, 0, e + 1, first_global_step=e * self.steps_per_epoch,
                                    workers=self.workers, pin_memory=self.device.type == "cuda")

        return EpochContext(epoch=epoch, model=self.model, net=self.net, optimizer=self.optimizer,
                            steps_per_epoch=self.steps_per_epoch, first_global_step=epoch * self.steps_per_epoch,
                            lr=lambda t: self.schedule(t / self.total_steps), settings=self.settings,
                            dist=self.dist_info, epoch_batches=epoch_batches)

    def checkpoint(self, epoch: int, step: int) -> None:
        """Check the weights, save everything a resume at (``epoch``, ``step``) needs, wait for every rank."""
        self.guard.check(self.model, self.global_step, self.last_saved)
        if self.main and not self.marked:  # from now on a fresh start here would delete this run's checkpoints
            _write_marker(self.run_dir, self.digest, checkpointed=True)
            self.marked = True
        if self.main:
            save_checkpoint({"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                             "scheme": self.scheme.state_dict(), "epoch": epoch, "step": step,
                             "global_step": self.global_step, "epoch_log": self.run_log.state_dict() if step else {},
                             "best": self.selector.state_dict() if self.selector is not None else {},
                             "fingerprint": self.fingerprint, "environment": self.environment,
                             "record": self.record}, self.run_dir)
        self.last_saved = f"the checkpoint of step {self.global_step} ({LAST})"
        barrier(self.dist_info)


def _logits_finite(model: nn.Module, x: torch.Tensor, device: torch.device) -> bool:
    """Whether ``model`` (eval mode, no gradients; modes restored) gives finite outputs on the batch ``x``."""
    from ..attacks.model_mode import eval_mode

    with eval_mode(model), torch.no_grad():
        return bool(torch.isfinite(model(x.to(device))).all())


def _wrap(model: nn.Module, config: TrainConfig, dist_info: DistInfo, device: torch.device
          ) -> tuple[nn.Module, nn.Module]:
    """The model as trained (DDP wrapper under DDP) and as attacked, each compiled if ``config.compile``."""
    attack_model = torch.compile(model) if config.compile else model
    if not dist_info.enabled:
        return attack_model, attack_model
    from torch.nn.parallel import DistributedDataParallel

    ddp = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    return (torch.compile(ddp) if config.compile else ddp), attack_model


def _with_extra(x: torch.Tensor, y: torch.Tensor, extra: Dataset, config: TrainConfig, global_step: int,
                dist_info: DistInfo) -> tuple[torch.Tensor, torch.Tensor]:
    """Append the step's extra examples (seeded by (seed, step); this rank's share under DDP)."""
    pick = torch.randint(len(extra), (config.batch_size - config.batch_size // 2,),
                         generator=torch.Generator().manual_seed((config.seed * 7_919 + global_step) % 2**64))
    if dist_info.enabled:
        pick = pick[dist_info.rank::dist_info.world_size]
    if getattr(extra, "tensors", None) is not None:
        ex, ey = extra.tensors[0][pick], extra.tensors[1][pick].long()
    else:
        items = [extra[int(i)] for i in pick]
        ex, ey = torch.stack([it[0] for it in items]), torch.as_tensor([int(it[1]) for it in items])
    return torch.cat([x, ex.to(x.device)]), torch.cat([y, ey.to(y.device)])  # either may be held on a GPU
