"""The paper's recipes as configurations, and scheme construction by name (for the CLI and experiments)."""
from __future__ import annotations

from ..threats import ThreatUnion
from .loop import TrainConfig
from .schemes import EAT, MSDAT, SAT, AvgAT, MaxAT, NaturalTraining, Scheme, SingleNormAT, SwitchAt

__all__ = ["finetune_recipe", "scratch_recipe", "build_scheme", "SCHEMES"]

SCHEMES = ("natural", "linf", "l2", "l1", "eat", "l2-eat", "max", "avg", "msd", "sat")


def finetune_recipe(dataset: str = "cifar10", large_model: bool = False, **overrides) -> TrainConfig:
    """The paper's fine-tuning recipe.

    CIFAR-10 (and other small datasets): 3 epochs, SGD momentum 0.9, weight decay 5e-4,
    batch 128, lr 0.05 (small nets) or 0.01 (large), divided by 10 at each third of
    training (updated every iteration), random crop + flip. ImageNet: 1 epoch, lr 0.01
    divided by 10 every third, batch 256, weight decay 1e-4.
    """
    if dataset == "imagenet":
        base = dict(epochs=1, batch_size=256, lr=0.01, milestones=(1 / 3, 2 / 3), weight_decay=1e-4, augment=False)
    else:
        base = dict(epochs=3, batch_size=128, lr=0.01 if large_model else 0.05, milestones=(1 / 3, 2 / 3),
                    weight_decay=5e-4, augment=dataset == "cifar10")
    base.update(overrides)
    return TrainConfig(**base)


def scratch_recipe(epochs: int = 80, **overrides) -> TrainConfig:
    """Training from scratch (Table 1): lr 0.05 divided by 10 at 7/8 of training (epoch 70 of 80)."""
    base = dict(epochs=epochs, batch_size=128, lr=0.05, milestones=(70 / 80,), weight_decay=5e-4)
    base.update(overrides)
    return TrainConfig(**base)


def build_scheme(name: str, threats: ThreatUnion, n_iter: int = 10, switch_epoch: int | None = None,
                 l1_steps: int | None = None) -> Scheme:
    """A training scheme by name.

    Parameters
    ----------
    name : str
        One of ``SCHEMES``: ``natural``, ``linf``, ``l2``, ``l1`` (single-norm AT), ``eat``,
        ``l2-eat`` (l_2-AT then E-AT at ``switch_epoch``), ``max``, ``avg``, ``msd``, ``sat``.
    threats : ThreatUnion
        Radii for every norm the scheme uses.
    n_iter : int
        Attack steps (10 in the paper; ImageNet: 5, and ``l1_steps=15`` for l_1).
    """
    key = name.lower()
    if key not in SCHEMES:
        raise ValueError(f"unknown scheme {name!r}; choose one of {', '.join(SCHEMES)}")
    single = {"linf": "Linf", "l2": "L2", "l1": "L1"}
    if key == "natural":
        return NaturalTraining()
    if key in single:
        ball = threats[single[key]]
        return SingleNormAT(ball, n_iter=l1_steps if key == "l1" and l1_steps else n_iter)
    if key == "eat":
        return EAT(threats["L1"], threats["Linf"], n_iter=(l1_steps or n_iter, n_iter))
    if key == "l2-eat":
        if switch_epoch is None:
            raise ValueError("the l2-eat scheme needs switch_epoch (the paper switches at epoch 45 of 80)")
        return SwitchAt(SingleNormAT(threats["L2"], n_iter=n_iter),
                        EAT(threats["L1"], threats["Linf"], n_iter=(l1_steps or n_iter, n_iter)), switch_epoch)
    table = {"max": MaxAT, "avg": AvgAT, "sat": SAT}
    if key in table:
        return table[key](threats, n_iter=n_iter)
    return MSDAT(threats, n_iter=n_iter)

