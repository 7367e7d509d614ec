"""The paper's training recipes: the one place its numbers are written (used by the CLI and the study).

From scratch (Table 1): 80 epochs, SGD momentum 0.9, weight decay 5e-4, batch 128, lr 0.05
divided by 10 at epoch 70; l_2-init. E-AT switches from l_2-AT to E-AT at epoch 45.
Fine-tuning (Section 4.2): CIFAR-10 3 epochs, lr 0.05 (small nets) or 0.01 (large),
divided by 10 after each epoch (every third of training); ImageNet 1 epoch, lr 0.01
divided by 10 every third, batch 256, weight decay 1e-4. Attacks: 10 steps; ImageNet 5
(15 for l_1). Random crop + flip on CIFAR-10.

Other schemes' published settings live here too, as :attr:`Recipe.settings` (RAMP, Jiang &
Singh 2024, public scripts: logit-pairing weight 1.5 fine-tuning CIFAR-10, 5 from scratch
with a ResNet-18, 2 from scratch with a WRN, 3 fine-tuning on ImageNet; gradient projection
from scratch only).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ..datasets import DATASETS
from ..utils import check_bool, check_integer, check_real
from ..threats import MAX_ITERATIONS
from .loop import TrainConfig
from .registry import scheme_spec

if TYPE_CHECKING:
    from ..threats import ThreatUnion
    from .schemes import Scheme

__all__ = ["Recipe", "RecipeKind", "RECIPE_DATASETS", "paper_recipe", "finetune_recipe", "scratch_recipe"]

RECIPE_DATASETS = (tuple(spec.name for spec in DATASETS.values())
                   + tuple(f"{spec.sample_set}-samples" for spec in DATASETS.values() if spec.sample_set))
"""Dataset names the recipes know: every registered dataset (``lpgeom.datasets``) and its shipped samples.
A dataset's ``recipe`` says whose numbers it takes (``imagenet``: its own fine-tuning numbers; the
others CIFAR-10's), its ``augment`` whether it trains with crop + flip (never the 20 samples)."""

RecipeKind = Literal["scratch", "finetune"]


@dataclass(frozen=True)
class Recipe:
    """A kind of run as the paper sets it up: optimiser and schedule, attack steps, switch point.

    Attributes
    ----------
    kind : {"scratch", "finetune"}
    dataset : str
    epochs, batch_size, lr, milestones, weight_decay, augment : the :class:`TrainConfig` numbers
        (``milestones`` are fractions of training where the lr is divided by 10)
    n_iter : int
        Attack steps per batch.
    l1_steps : int, optional
        Attack steps for the l_1 ball if different (ImageNet: 15).
    switch_fraction : float, optional
        Where l_2-init. E-AT hands over to E-AT, as a fraction of the epochs (45 / 80).
    settings : mapping of str to value
        Further scheme settings by name (``ramp_lambda``, ``gradient_projection``), given to
        the schemes that take them.

    Raises
    ------
    TypeError, ValueError
        A field of the wrong kind or out of range (checked when a recipe is made or
        :meth:`replace` d): an unknown kind, counts below 1, a learning rate that is not
        finite and positive, milestones not increasing in (0, 1), a fraction outside (0, 1).
    """

    kind: RecipeKind
    dataset: str
    epochs: int
    batch_size: int
    lr: float
    milestones: tuple[float, ...]
    weight_decay: float
    augment: bool
    n_iter: int = 10
    l1_steps: int | None = None
    switch_fraction: float | None = None
    settings: Mapping[str, object] = field(default_factory=dict, hash=False)

    def __post_init__(self):
        if self.kind not in ("scratch", "finetune"):
            raise ValueError(f"recipe kind must be 'scratch' or 'finetune', got {self.kind!r}")
        if not isinstance(self.dataset, str):
            raise TypeError(f"recipe dataset must be a string, got {self.dataset!r}")
        for name in ("epochs", "batch_size"):
            check_integer(getattr(self, name), name, 1)
        for name in ("n_iter",) + (("l1_steps",) if self.l1_steps is not None else ()):
            check_integer(getattr(self, name), name, 1, MAX_ITERATIONS)
        check_real(self.lr, "lr", 0.0, low_open=True)
        check_real(self.weight_decay, "weight_decay", 0.0)
        object.__setattr__(self, "augment", check_bool(self.augment, "augment"))
        if not isinstance(self.milestones, tuple):
            raise TypeError(f"milestones must be a tuple of fractions of training, got {self.milestones!r}")
        marks = [check_real(m, "milestones", 0.0, 1.0, low_open=True, high_open=True) for m in self.milestones]
        if marks != sorted(set(marks)):
            raise ValueError(f"milestones must be increasing fractions of training, got {self.milestones!r}")
        if self.switch_fraction is not None:
            check_real(self.switch_fraction, "switch_fraction", 0.0, 1.0, low_open=True, high_open=True)

    def replace(self, **changes) -> Recipe:
        """A copy with some numbers changed (``None`` values leave a field as it is)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def train_config(self, **overrides) -> TrainConfig:
        """The :class:`TrainConfig` of the recipe; ``overrides`` set any TrainConfig field (seed, device, ...)."""
        base = dict(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, milestones=self.milestones,
                    weight_decay=self.weight_decay, augment=self.augment)
        return TrainConfig(**{**base, **overrides})

    def switch_epoch(self, epochs: int | None = None) -> int | None:
        """Epoch where l_2-init. E-AT switches, for a run of ``epochs`` (default: the recipe's; an integer >= 1): 45 of 80."""
        epochs = self.epochs if epochs is None else check_integer(epochs, "epochs", 1)
        if self.switch_fraction is None:
            return None
        return round(self.switch_fraction * epochs)

    def scheme_settings(self, name: str, epochs: int | None = None) -> dict:
        """The recipe's settings (``n_iter``, ``l1_steps``, ``switch_epoch``, :attr:`settings`) that scheme ``name``
        accepts."""
        settings = {"n_iter": self.n_iter, "l1_steps": self.l1_steps, "switch_epoch": self.switch_epoch(epochs),
                    **self.settings}
        accepted = scheme_spec(name).settings
        return {k: v for k, v in settings.items() if k in accepted and v is not None}

    def build_scheme(self, name: str, threats: ThreatUnion, epochs: int | None = None, **overrides) -> Scheme:
        """Scheme ``name`` with the recipe's settings; ``overrides`` (not None) win."""
        settings = {**self.scheme_settings(name, epochs), **{k: v for k, v in overrides.items() if v is not None}}
        return scheme_spec(name).build(threats, **settings)


def paper_recipe(kind: RecipeKind, dataset: str = "cifar10", large_model: bool = False) -> Recipe:
    """The paper's recipe for training from scratch or fine-tuning on ``dataset``.

    Parameters
    ----------
    kind : {"scratch", "finetune"}
    dataset : str
        One of :data:`RECIPE_DATASETS`. ``"imagenet"`` has its own fine-tuning recipe;
        ``"cifar10"`` turns augmentation on; the other datasets take the CIFAR-10 numbers
        without augmentation.
    large_model : bool
        Fine-tuning lr 0.01 instead of 0.05 (the paper's larger networks); from scratch, RAMP's
        logit-pairing weight for WRNs (2) instead of ResNet-18's (5).

    Raises
    ------
    ValueError
        For an unknown kind or dataset (a typo would otherwise get the CIFAR-10 numbers).
    TypeError
        A dataset that is not a string, ``large_model`` not a bool.
    """
    if not isinstance(dataset, str):
        raise TypeError(f"dataset must be a string ('cifar10', 'imagenet', ...), got {dataset!r}")
    if dataset not in RECIPE_DATASETS:  # a typo would silently get the CIFAR-10 numbers
        raise ValueError(f"dataset must be one of {', '.join(RECIPE_DATASETS)}, got {dataset!r}")
    check_bool(large_model, "large_model")
    spec = next(spec for spec in DATASETS.values() if dataset in (spec.name, f"{spec.sample_set}-samples"))
    whole = dataset == spec.name   # the dataset itself, not its 20 shipped samples
    augment = whole and spec.augment
    if kind == "scratch":
        return Recipe("scratch", dataset, epochs=80, batch_size=128, lr=0.05, milestones=(70 / 80,),
                      weight_decay=5e-4, augment=augment, switch_fraction=45 / 80,
                      settings={"ramp_lambda": 2.0 if large_model else 5.0, "gradient_projection": True})
    if kind != "finetune":
        raise ValueError(f"recipe kind must be 'scratch' or 'finetune', got {kind!r}")
    if whole and spec.recipe == "imagenet":
        return Recipe("finetune", dataset, epochs=1, batch_size=256, lr=0.01, milestones=(1 / 3, 2 / 3),
                      weight_decay=1e-4, augment=False, n_iter=5, l1_steps=15,
                      settings={"ramp_lambda": 3.0, "gradient_projection": False})
    return Recipe("finetune", dataset, epochs=3, batch_size=128, lr=0.01 if large_model else 0.05,
                  milestones=(1 / 3, 2 / 3), weight_decay=5e-4, augment=augment,
                  settings={"ramp_lambda": 1.5, "gradient_projection": False})


def finetune_recipe(dataset: str = "cifar10", large_model: bool = False, **overrides) -> TrainConfig:
    """The paper's fine-tuning recipe as a :class:`TrainConfig` (see :func:`paper_recipe`).

    CIFAR-10 (and other small datasets): 3 epochs, SGD momentum 0.9, weight decay 5e-4,
    batch 128, lr 0.05 (small nets) or 0.01 (large), divided by 10 at each third of
    training (updated every iteration), random crop + flip. ImageNet: 1 epoch, lr 0.01
    divided by 10 every third, batch 256, weight decay 1e-4.
    """
    return paper_recipe("finetune", dataset, large_model).train_config(**overrides)


def scratch_recipe(epochs: int = 80, **overrides) -> TrainConfig:
    """Training from scratch (Table 1): lr 0.05 divided by 10 at 7/8 of training (epoch 70 of 80).

    No augmentation unless ``augment=True`` is passed (the CLI and the study set it for CIFAR-10).
    """
    return paper_recipe("scratch", "cifar10").train_config(**{"augment": False, "epochs": epochs, **overrides})
