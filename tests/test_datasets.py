"""The dataset registry: one table every layer reads, facts unchanged for the datasets that were there before it."""
import math

import pytest
import torch

from lpgeom.datasets import DATASETS, Dataset, DatasetSpec, dataset_spec


def test_one_entry_per_dataset_keyed_by_the_enum():
    assert list(DATASETS) == list(Dataset)
    for key, spec in DATASETS.items():
        assert isinstance(spec, DatasetSpec) and spec.dataset is key and spec.name == key.value
        assert spec.dim == math.prod(spec.shape) and len(spec.shape) == 3
        assert (spec.mean is None) == (spec.std is None)
        assert spec.mean is None or len(spec.mean) == len(spec.std) == spec.shape[0]
        assert spec.class_names is None or len(spec.class_names) == spec.num_classes
        assert [p for p, _ in spec.threats] == [math.inf, 2.0, 1.0]
    assert dataset_spec("cifar100") is dataset_spec(Dataset.CIFAR100) is DATASETS[Dataset.CIFAR100]
    with pytest.raises(ValueError, match="unknown dataset 'mnist'; known: cifar10, imagenet, fashion_mnist, cifar100"):
        dataset_spec("mnist")
    with pytest.raises(TypeError, match="Dataset or its name"):
        dataset_spec(10)
    with pytest.raises(ValueError, match="no l_3"):
        dataset_spec("cifar10").radius(3)


def test_facts_of_the_datasets_before_the_registry_are_unchanged():
    """The values the code typed in several places before the registry (the paper's radii, torchvision's statistics)."""
    from lpgeom.cli.options import DEFAULT_ARCH
    from lpgeom.cli.radii import PRESETS as RADII
    from lpgeom.models.normalize import CIFAR10_MEAN, CIFAR10_STD, IMAGENET_MEAN, IMAGENET_STD
    from lpgeom.threats import PRESETS, cifar10_threats, fashion_mnist_threats, imagenet_threats

    assert (CIFAR10_MEAN, CIFAR10_STD) == ((0.4914, 0.4822, 0.4465), (0.2471, 0.2435, 0.2616))
    assert (IMAGENET_MEAN, IMAGENET_STD) == ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    balls = lambda union: [(b.p, b.eps) for b in union]  # noqa: E731
    assert balls(cifar10_threats()) == [(math.inf, 8 / 255), (2.0, 0.5), (1.0, 12.0)]
    assert balls(imagenet_threats()) == [(math.inf, 4 / 255), (2.0, 2.0), (1.0, 255.0)]
    assert balls(fashion_mnist_threats()) == [(math.inf, 0.1), (2.0, 1.0), (1.0, 12.0)]
    assert balls(PRESETS["mng_ac"]()) == [(math.inf, 8 / 255), (2.0, 80 / 255), (1.0, 2000 / 255)]
    assert balls(PRESETS["cifar100"]()) == balls(cifar10_threats())
    assert RADII["cifar10"] == {"eps1": 12.0, "eps_inf": 8 / 255, "d": 3 * 32 * 32, "eps2": 0.5}
    assert RADII["imagenet"] == {"eps1": 255.0, "eps_inf": 4 / 255, "d": 3 * 224 * 224, "eps2": 2.0}
    assert {k: DEFAULT_ARCH[k] for k in ("fashion_mnist", "cifar10", "imagenet", "cifar10-samples",
                                         "imagenet-samples", "fashion_mnist-samples")} == {
        "fashion_mnist": "small_cnn", "cifar10": "preact_resnet18", "imagenet": "resnet50",
        "cifar10-samples": "resnet18_kuangliu", "imagenet-samples": "efficientnet_lite0",
        "fashion_mnist-samples": "small_cnn"}


def test_models_normalise_with_the_registry_statistics():
    from lpgeom.models import DMWideResNet

    for name in ("cifar10", "cifar100"):
        model = DMWideResNet(16, 1, num_classes=dataset_spec(name).num_classes, dataset=name)
        assert model.mean.flatten().tolist() == pytest.approx(dataset_spec(name).mean)
        assert model(torch.rand(1, 3, 32, 32)).shape == (1, dataset_spec(name).num_classes)
    assert DMWideResNet(16, 1).std.flatten().tolist() == pytest.approx(dataset_spec("cifar10").std)
    with pytest.raises(ValueError, match="fashion_mnist has shape"):
        DMWideResNet(16, 1, dataset="fashion_mnist")
