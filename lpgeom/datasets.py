"""The dataset registry: every fact lpgeom knows about a dataset, in one table keyed by one Enum.

RobustBench's layout: an Enum of dataset names and one table of what each needs. Every layer
reads its dataset facts here instead of typing them again: the image shape and classes (models,
data), the normalisation a model applies inside (models), the preset threat radii
(``threats.PRESETS``, ``python -m lpgeom radii --preset``), the paper's recipe family and
augmentation (``training.recipes``), the default architecture and the sample images a package
ships (``cli``). The loaders themselves live in the data layer, keyed by the same Enum
(``lpgeom.data.LOADERS``; a test checks that every dataset has one).

Adding a dataset is one entry in :data:`DATASETS` plus its loader in ``lpgeom.data`` (CIFAR-100
was added that way).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

__all__ = ["Dataset", "DatasetSpec", "DATASETS", "dataset_spec", "CIFAR10_CLASSES", "FASHION_MNIST_CLASSES"]


class Dataset(str, Enum):
    """The datasets lpgeom loads (the value is the name used on the command line and in records)."""

    CIFAR10 = "cifar10"
    IMAGENET = "imagenet"
    FASHION_MNIST = "fashion_mnist"
    CIFAR100 = "cifar100"

    def __str__(self) -> str:
        return self.value


CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                         "Ankle boot")


@dataclass(frozen=True)
class DatasetSpec:
    """What lpgeom knows about one dataset.

    Attributes
    ----------
    dataset : Dataset
    shape : tuple of int
        (C, H, W) of one image as its loader gives it (ImageNet: the 224 evaluation crop).
    num_classes : int
    class_names : tuple of str or None
        In label order; None where the dataset's own files carry them (CIFAR-100's meta file)
        or there are too many to type (ImageNet).
    mean, std : tuple of float or None
        The per-channel normalisation a model for this dataset applies inside (a ``Normalize``
        layer); None: the model takes [0, 1] pixels as they are.
    threats : tuple of (p, eps)
        The preset threat models, l_inf first (``p`` is ``math.inf``, 2 or 1).
    recipe : str
        Which of the paper's recipes applies: ``"cifar10"`` (also used by every small dataset)
        or ``"imagenet"`` (its own fine-tuning numbers).
    augment : bool
        Whether the recipe trains with random crop + flip.
    default_arch : str
        The architecture the command line builds when none is given (a ``models.build_model`` name).
    sample_set : str or None
        The name of the 20 real test images an installed package ships (``data.sample_images``;
        ``--dataset <sample_set>-samples``); None if no package ships any.
    samples_arch : str or None
        The architecture of the shipped pretrained model for those samples (``models.PRETRAINED``),
        built by default for ``--dataset <sample_set>-samples``; None: ``default_arch``.
    downloadable : bool
        Whether torchvision can download it (``--download``).
    """

    dataset: Dataset
    shape: tuple[int, int, int]
    num_classes: int
    class_names: tuple[str, ...] | None
    mean: tuple[float, ...] | None
    std: tuple[float, ...] | None
    threats: tuple[tuple[float, float], ...]
    recipe: str
    augment: bool
    default_arch: str
    sample_set: str | None
    downloadable: bool
    samples_arch: str | None = None

    @property
    def name(self) -> str:
        return self.dataset.value

    @property
    def dim(self) -> int:
        """Input dimension d = C * H * W (what the geometry's radii depend on)."""
        return math.prod(self.shape)

    def radius(self, p: float) -> float:
        """The preset radius of the l_p threat model (``ValueError`` if the preset has no such norm)."""
        for q, eps in self.threats:
            if q == p:
                return eps
        raise ValueError(f"the {self.name} preset has no l_{p} threat model (it has p = {[q for q, _ in self.threats]})")


_CIFAR_THREATS = ((math.inf, 8 / 255), (2.0, 0.5), (1.0, 12.0))   # the paper's CIFAR-10 radii

DATASETS: dict[Dataset, DatasetSpec] = {
    Dataset.CIFAR10: DatasetSpec(
        Dataset.CIFAR10, shape=(3, 32, 32), num_classes=10, class_names=CIFAR10_CLASSES,
        mean=(0.4914, 0.4822, 0.4465), std=(0.2471, 0.2435, 0.2616), threats=_CIFAR_THREATS,
        recipe="cifar10", augment=True, default_arch="preact_resnet18", sample_set="cifar10", downloadable=True,
        samples_arch="resnet18_kuangliu"),
    Dataset.IMAGENET: DatasetSpec(
        Dataset.IMAGENET, shape=(3, 224, 224), num_classes=1000, class_names=None,
        mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
        threats=((math.inf, 4 / 255), (2.0, 2.0), (1.0, 255.0)),   # the paper's ImageNet radii
        recipe="imagenet", augment=False, default_arch="resnet50", sample_set="imagenet", downloadable=False,
        samples_arch="efficientnet_lite0"),
    Dataset.FASHION_MNIST: DatasetSpec(
        Dataset.FASHION_MNIST, shape=(1, 28, 28), num_classes=10, class_names=FASHION_MNIST_CLASSES,
        mean=None, std=None,
        # lpgeom's radii (d = 784), chosen through Theorem 3.1 (threats.fashion_mnist_threats)
        threats=((math.inf, 0.1), (2.0, 1.0), (1.0, 12.0)),
        recipe="cifar10", augment=False, default_arch="small_cnn", sample_set="fashion_mnist", downloadable=True),
    Dataset.CIFAR100: DatasetSpec(
        # the CIFAR-10 radii (same images, as RobustBench's CIFAR-100 l_inf / l_2 leaderboards);
        # the common CIFAR-100 channel statistics
        Dataset.CIFAR100, shape=(3, 32, 32), num_classes=100, class_names=None,
        mean=(0.5071, 0.4865, 0.4409), std=(0.2673, 0.2564, 0.2762), threats=_CIFAR_THREATS,
        recipe="cifar10", augment=True, default_arch="preact_resnet18", sample_set="cifar100", downloadable=True),
}


def dataset_spec(dataset: Dataset | str) -> DatasetSpec:
    """The registry's entry for ``dataset`` (a :class:`Dataset` or its name, e.g. ``"cifar10"``).

    Raises
    ------
    TypeError
        If ``dataset`` is neither a Dataset nor a string.
    ValueError
        If no dataset of that name is registered (the known names are listed).
    """
    if not isinstance(dataset, str):   # a Dataset is a str too
        raise TypeError(f"dataset must be a Dataset or its name, got {type(dataset).__name__}")
    try:
        return DATASETS[Dataset(dataset)]
    except ValueError:
        raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(d.value for d in Dataset)}") from None
