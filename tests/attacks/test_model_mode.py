"""check_model_input and validate_attack_inputs: a batch the model cannot take, or labels that are not
integer classes, get one clear sentence instead of a raw torch error."""
import numpy as np
import pytest
import torch
from torch import nn

from lpgeom.attacks import check_model_input, validate_attack_inputs


def cifar_cnn():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10))


def fmnist_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


class HeadFirst(nn.Module):
    """Registers its head before its stem: the first layer by registration is not the first one run."""

    def __init__(self):
        super().__init__()
        self.head = nn.Linear(4, 10)
        self.stem = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        return self.head(self.stem(x).mean((2, 3)))


@pytest.mark.parametrize("dtype", [torch.float16, torch.float64, torch.bfloat16])
def test_another_floating_dtype_is_refused_naming_both_and_the_fix(dtype):
    with pytest.raises(TypeError, match=rf"{dtype}.*torch.float32.*x.to\(torch.float32\).*autocast"):
        check_model_input(cifar_cnn(), torch.rand(2, 3, 8, 8, dtype=dtype))


def test_the_models_dtype_and_autocast_pass():
    check_model_input(cifar_cnn().double(), torch.rand(2, 3, 8, 8, dtype=torch.float64))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        check_model_input(cifar_cnn(), torch.rand(2, 3, 8, 8, dtype=torch.bfloat16))


def test_a_cifar_model_on_fashion_mnist_is_refused_with_the_likely_cause():
    with pytest.raises(ValueError, match=r"1 channels.*expects 3.*CIFAR-10/ImageNet on Fashion-MNIST"):
        check_model_input(cifar_cnn(), torch.rand(2, 1, 28, 28))


def test_a_fashion_mnist_model_on_cifar_is_refused_with_the_likely_cause():
    with pytest.raises(ValueError, match=r"3072 values.*expects 784.*Fashion-MNIST \(1x28x28\) on CIFAR-10"):
        check_model_input(fmnist_mlp(), torch.rand(2, 3, 32, 32))


def test_models_without_parameters_unknown_first_layers_and_odd_registration_pass():
    check_model_input(nn.Flatten(), torch.rand(2, 3, 8, 8))
    check_model_input(nn.Sequential(nn.BatchNorm2d(3), nn.Conv2d(3, 4, 3)), torch.rand(2, 3, 8, 8))
    check_model_input(HeadFirst(), torch.rand(2, 3, 8, 8))  # Linear(4) registered first: confirmed by a run
    check_model_input(nn.Linear(5, 2), torch.rand(2, 7, 5))  # a Linear over the last dimension


def test_the_probe_leaves_train_mode_and_batchnorm_statistics_alone():
    model = HeadFirst().train()
    bn = nn.BatchNorm2d(3)
    wrapped = nn.Sequential(bn, model).train()
    before = bn.running_mean.clone()
    check_model_input(model, torch.rand(2, 3, 8, 8))
    check_model_input(wrapped, torch.rand(2, 3, 8, 8))
    assert model.training and wrapped.training and torch.equal(bn.running_mean, before)


def test_non_tensors_and_non_modules_are_type_errors():
    with pytest.raises(TypeError, match=r"x must be a torch.Tensor.*numpy.ndarray.*torch.from_numpy\(x\)"):
        check_model_input(cifar_cnn(), np.zeros((2, 3, 8, 8), dtype=np.float32))
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got function"):
        check_model_input(lambda x: x, torch.rand(2, 3, 8, 8))


def test_another_device_is_refused_when_asked():
    x = torch.empty(2, 3, 8, 8, device="meta")
    check_model_input(cifar_cnn(), x)  # a training loop may move its batch later
    with pytest.raises(ValueError, match="x is on meta but the model's parameters are on cpu"):
        check_model_input(cifar_cnn(), x, same_device=True)


@pytest.mark.parametrize("labels", [
    torch.tensor([0.0, 1.0]), torch.tensor([0.5, 1.0]), torch.tensor([True, False]),
    torch.tensor([0, 1], dtype=torch.complex64), torch.tensor([0, 1], dtype=torch.float16)])
def test_labels_that_are_not_integers_are_type_errors(labels):
    with pytest.raises(TypeError, match=f"integer class labels.*{labels.dtype}"):
        validate_attack_inputs(torch.rand(2, 3, 4, 4), labels)


def test_integer_labels_of_every_width_are_accepted_as_int64():
    for dtype in (torch.int8, torch.uint8, torch.int16, torch.int32, torch.int64):
        y = validate_attack_inputs(torch.rand(2, 3, 4, 4), torch.tensor([0, 1], dtype=dtype))
        assert y.dtype == torch.int64 and y.tolist() == [0, 1]


def test_a_one_class_model_is_refused_not_reported_robust():
    from lpgeom.attacks import APGD
    from lpgeom.threats import LpBall

    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 1))
    with pytest.raises(ValueError, match="1 logit.*at least 2 classes"):
        APGD(LpBall(2, 0.5), n_iter=1)(model, torch.rand(2, 3, 2, 2), torch.tensor([0, 0]))


@pytest.mark.parametrize("loss, k", [("dlr", 2), ("dlr-targeted", 3)])
def test_dlr_losses_with_too_few_classes_are_refused(loss, k):
    from lpgeom.attacks import APGD
    from lpgeom.threats import LpBall

    model = nn.Sequential(nn.Flatten(), nn.Linear(12, k))
    with pytest.raises(ValueError, match=f"the {loss} loss needs a model with at least {k + 1} classes"):
        APGD(LpBall(2, 0.5), n_iter=1, loss=loss)(model, torch.rand(2, 3, 2, 2), torch.tensor([0, 1]))


def test_a_model_on_another_device_than_the_batch_is_probed_on_its_own_device():
    """Evaluation and training check the CPU batch against a model already on a GPU: the probe run that confirms an
    odd registration order moves the example to the model's device (before, a HeadFirst model on CUDA with CPU images
    was refused: its probe failed on the device alone). The meta device stands in for the GPU."""
    check_model_input(HeadFirst().to("meta"), torch.rand(2, 3, 8, 8))
    with pytest.raises(ValueError, match=r"3072 values.*expects 784"):  # a real mismatch is still refused
        check_model_input(fmnist_mlp().to("meta"), torch.rand(2, 3, 32, 32))
