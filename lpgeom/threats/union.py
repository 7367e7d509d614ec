"""A union of threat models, and the paper's presets."""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..datasets import DATASETS, Dataset, dataset_spec
from .balls import LpBall

__all__ = ["ThreatUnion", "cifar10_threats", "imagenet_threats", "mng_ac_threats", "fashion_mnist_threats", "dataset_threats",
           "PRESETS"]


class ThreatUnion:
    """The union of several l_p threat models (an adversary may pick any of them per point).

    Parameters
    ----------
    balls : iterable of LpBall
        At least one, at most one ball per norm.

    Raises
    ------
    TypeError
        ``balls`` not an iterable of LpBall objects (a single ball, a number, a string in it).
    ValueError
        No ball, or two balls of one norm.

    Examples
    --------
    >>> threats = cifar10_threats()
    >>> threats.names
    ('Linf', 'L2', 'L1')
    >>> threats["L1"].eps
    12.0
    """

    __slots__ = ("_balls",)

    def __init__(self, balls: Iterable[LpBall]) -> None:
        if isinstance(balls, LpBall) or not isinstance(balls, Iterable):
            raise TypeError(f"ThreatUnion takes an iterable of LpBall objects, got {type(balls).__name__} "
                            f"(a single ball: ThreatUnion([ball]))")
        balls = tuple(balls)
        if not balls:
            raise ValueError("a ThreatUnion needs at least one LpBall")
        for b in balls:
            if not isinstance(b, LpBall):
                raise TypeError(f"ThreatUnion takes LpBall objects, got {b!r} ({type(b).__name__})")
        names = [b.name for b in balls]
        if len(set(names)) != len(names):
            raise ValueError(f"one ball per norm, got {names}")
        self._balls = balls

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the balls, in order (``"Linf"``, ``"L2"``, ``"L1"``...)."""
        return tuple(b.name for b in self._balls)

    def __iter__(self) -> Iterator[LpBall]:
        return iter(self._balls)

    def __len__(self) -> int:
        return len(self._balls)

    def __getitem__(self, key: str | int) -> LpBall:
        """The ball named ``key`` (``"L1"``, ``"l1"``, ``"inf"``, ``"Linf"``...) or at position ``key``.

        Raises
        ------
        KeyError
            No ball of that name in the union (the message lists the ones it has).
        IndexError
            A position out of range.
        TypeError
            A key that is neither a name nor an integer position (a bool is not a position).
        """
        if isinstance(key, bool) or not isinstance(key, (str, int)):
            raise TypeError(f"a ThreatUnion is indexed by a ball name ('L1', 'Linf', ...) or an integer position, "
                            f"got {key!r} ({type(key).__name__})")
        if isinstance(key, int):
            if not -len(self._balls) <= key < len(self._balls):
                raise IndexError(f"position {key} is out of range for a union of {len(self._balls)} balls")
            return self._balls[key]
        name = self._name_of(key)
        for b in self._balls:
            if b.name == name:
                return b
        raise KeyError(f"no {key!r} ball in this union; it has {', '.join(self.names)}")

    @staticmethod
    def _name_of(key: str) -> str | None:
        """The ball name a string stands for (``"l1"`` -> ``"L1"``, ``"inf"`` -> ``"Linf"``), None if none."""
        try:
            return LpBall(key, 1.0).name
        except ValueError:
            return None

    def __contains__(self, key: object) -> bool:
        """Whether the union has a ball of the name ``key`` (or ``key`` is one of its balls)."""
        if isinstance(key, LpBall):
            return key in self._balls
        return isinstance(key, str) and self._name_of(key) in self.names

    def __eq__(self, other) -> bool:
        return isinstance(other, ThreatUnion) and self._balls == other._balls

    def __hash__(self) -> int:
        return hash(self._balls)

    def __repr__(self) -> str:
        return f"ThreatUnion({', '.join(map(repr, self._balls))})"


def dataset_threats(dataset: Dataset | str) -> ThreatUnion:
    """The preset threat models of a registered dataset (``lpgeom.datasets.DATASETS[...].threats``)."""
    return ThreatUnion([LpBall(p, eps) for p, eps in dataset_spec(dataset).threats])


def cifar10_threats() -> ThreatUnion:
    """The paper's CIFAR-10 threat models: l_inf 8/255, l_2 0.5, l_1 12."""
    return dataset_threats(Dataset.CIFAR10)


def imagenet_threats() -> ThreatUnion:
    """The paper's ImageNet threat models: l_inf 4/255, l_2 2, l_1 255."""
    return dataset_threats(Dataset.IMAGENET)


def mng_ac_threats() -> ThreatUnion:
    """The smaller radii of MNG-AC (paper's appendix): l_inf 8/255, l_2 80/255, l_1 2000/255."""
    return ThreatUnion([LpBall("inf", 8 / 255), LpBall(2, 80 / 255), LpBall(1, 2000 / 255)])


def fashion_mnist_threats() -> ThreatUnion:
    """lpgeom's Fashion-MNIST radii (d = 784): l_inf 0.1, l_2 1.0, l_1 12.

    Chosen through Theorem 3.1: the hull of B_1(12) and B_inf(0.1) contains the l_2 ball of
    radius 12 / sqrt(120) = 1.095 > 1.0, while their union contains only radius 0.437.
    """
    return dataset_threats(Dataset.FASHION_MNIST)


def _preset(dataset: Dataset):
    def threats() -> ThreatUnion:
        return dataset_threats(dataset)

    threats.__name__ = f"{dataset.value}_threats"
    threats.__doc__ = f"The preset threat models of {dataset.value} (lpgeom.datasets)."
    return threats


# name -> function returning the ThreatUnion: every registered dataset's preset, and MNG-AC's radii
PRESETS = {"cifar10": cifar10_threats, "imagenet": imagenet_threats, "mng_ac": mng_ac_threats,
           "fashion_mnist": fashion_mnist_threats}
PRESETS.update({d.value: _preset(d) for d in DATASETS if d.value not in PRESETS})
