"""Best-checkpoint selection on held-out training examples (the paper's practice), optional.

With ``TrainConfig(select="best", holdout=N)``, :func:`split_holdout` takes ``N`` training
examples out of training (a seeded choice), and :class:`HoldoutSelector` measures the model's
clean and union robust accuracy on them at every epoch end with lpgeom's APGD (APGD-CE +
APGD-DLR per norm, :func:`lpgeom.evaluation.evaluate_robustness` with ``method="apgd"``). The
weights of the best epoch (highest union accuracy, the earlier epoch on a tie) are kept as
``best.pt``; ``model.pt`` stays the final weights. ``best.pt`` is written only once the
checkpoint that names its epoch as the best is saved (and again on a resume from that
checkpoint), so a kill at any moment never leaves ``best.pt`` holding weights of an epoch
the newest checkpoint does not call the best.
"""
from __future__ import annotations

import hashlib
import pathlib
import warnings

import torch
from torch import nn
from torch.utils.data import Dataset, Subset, TensorDataset

from ..models.checkpoints import write_state_dict

__all__ = ["split_holdout", "HoldoutSelector", "BEST"]

BEST = "best.pt"


def _holdout_generator(seed: int) -> torch.Generator:
    key = hashlib.sha256(f"holdout/{seed}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(key[:8], "little"))


def split_holdout(dataset: Dataset, holdout: int, seed: int
                  ) -> tuple[Dataset, tuple[torch.Tensor, torch.Tensor] | None]:
    """Hold ``holdout`` examples out of ``dataset`` (chosen by ``seed``).

    Returns
    -------
    train : Dataset
        The other examples in their original order (a TensorDataset stays one).
    held_out : (x, y) or None
        Tensors of shape (holdout, C, H, W) and (holdout,), or None when ``holdout`` is 0.

    Raises
    ------
    ValueError
        If ``holdout`` is negative or leaves no training example.
    """
    if holdout == 0:
        return dataset, None
    n = len(dataset)
    if not 0 < holdout < n:
        raise ValueError(f"holdout must be in [0, {n}) for a dataset of {n} examples, got {holdout}")
    perm = torch.randperm(n, generator=_holdout_generator(seed))
    held, keep = perm[:holdout].sort().values, perm[holdout:].sort().values
    tensors = getattr(dataset, "tensors", None)
    if tensors is not None:
        return TensorDataset(tensors[0][keep], tensors[1][keep]), (tensors[0][held], tensors[1][held].long())
    with torch.random.fork_rng(devices=[]):  # random transforms of the held-out items: fixed by the seed
        torch.manual_seed(seed)
        items = [dataset[int(i)] for i in held]
    x = torch.stack([it[0] for it in items])
    y = torch.as_tensor([int(it[1]) for it in items], dtype=torch.int64)
    return Subset(dataset, keep.tolist()), (x, y)


class HoldoutSelector:
    """Held-out robust accuracy at epoch ends; the best epoch's weights go to ``run_dir/best.pt``.

    Parameters
    ----------
    held_out : (x, y)
        Held-out images (N, C, H, W) in [0, 1] and labels (N,).
    threats : ThreatUnion
        The threats whose union accuracy selects the epoch.
    run_dir : path
    enabled : bool
        Write ``best.pt`` (rank 0 only under DDP); :meth:`save_best` writes it.
    n_iter : int
        APGD iterations of the evaluation.
    """

    def __init__(self, held_out: tuple[torch.Tensor, torch.Tensor], threats, run_dir: str | pathlib.Path,
                 enabled: bool = True, n_iter: int = 20) -> None:
        self.x, self.y = held_out
        self.threats, self.path, self.enabled, self.n_iter = threats, pathlib.Path(run_dir) / BEST, enabled, n_iter
        self.best: dict | None = None

    def epoch_end(self, eval_model: nn.Module, epoch: int, global_step: int) -> dict[str, float]:
        """Evaluate; record the epoch if it is the best so far (:meth:`save_best` writes its weights). Returns the
        figures for the epoch log."""
        from ..evaluation import evaluate_robustness

        was_training = eval_model.training
        eval_model.eval()
        try:
            with warnings.catch_warnings():  # monitoring, not a reported evaluation: few iterations on purpose
                warnings.filterwarnings("ignore", message="only .* attack iterations")
                report = evaluate_robustness(eval_model, self.x, self.y, self.threats, method="apgd", n_iter=self.n_iter,
                                             seed=0, name=f"epoch {epoch}")
        finally:
            eval_model.train(was_training)
        union = float(report.union_accuracy)
        if self.best is None or union > self.best["union_accuracy"]:
            self.best = {"epoch": epoch, "global_step": global_step, "union_accuracy": union}
        return {"holdout_clean_acc": float(report.clean_accuracy), "holdout_union_acc": union,
                "best_epoch": self.best["epoch"]}

    def save_best(self, model: nn.Module, global_step: int) -> None:
        """Write ``model``'s weights as ``best.pt`` if the best epoch is the one that ended at ``global_step``.

        Called once the checkpoint of that moment is saved, and on a resume from a checkpoint
        (the model then holds that checkpoint's weights): ``best.pt`` and the checkpoint agree.
        """
        if self.enabled and self.best is not None and self.best["global_step"] == global_step:
            write_state_dict(model.state_dict(), self.path)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The best epoch so far as tensors (saved in checkpoints)."""
        if self.best is None:
            return {}
        return {"epoch": torch.tensor(self.best["epoch"]), "global_step": torch.tensor(self.best["global_step"]),
                "union_accuracy": torch.tensor(self.best["union_accuracy"], dtype=torch.float64)}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.best = None if not state else {"epoch": int(state["epoch"]), "global_step": int(state["global_step"]),
                                            "union_accuracy": float(state["union_accuracy"])}
