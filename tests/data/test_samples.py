import pytest
import torch

from lpgeom.data import sample_images


@pytest.mark.parametrize("name, shape", [("cifar10", (20, 3, 32, 32)), ("fashion_mnist", (20, 1, 28, 28)),
                                         ("imagenet", (20, 3, 224, 224)), ("mnist", (20, 1, 28, 28))])
def test_real_images_with_labels(name, shape):
    x, y = sample_images(name)
    assert x.shape == shape and x.dtype == torch.float32 and y.shape == (20,)
    assert 0 <= x.min() and x.max() <= 1 and x.std() > 0.1


def test_first_cifar10_labels_from_file_names():
    _, y = sample_images("cifar10", n=5)
    assert y.tolist() == [3, 8, 8, 0, 6]  # cifar10_00_3.png, cifar10_01_8.png, ...


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown sample set 'svhn'"):
        sample_images("svhn")
    with pytest.raises(ValueError, match="between 1 and 20"):
        sample_images("cifar10", n=21)
