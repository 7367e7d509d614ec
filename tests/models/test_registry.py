import pytest
import torch

from lpgeom.models import MODEL_NAMES, build_model


@pytest.mark.parametrize("name, shape, classes", [("small_cnn", (2, 1, 28, 28), 10), ("resnet18_kuangliu", (2, 3, 32, 32), 10),
                                                  ("preact_resnet18", (2, 3, 32, 32), 10)])
def test_forward_shapes(name, shape, classes):
    model = build_model(name)
    assert model(torch.rand(shape)).shape == (2, classes)


def test_parameter_counts():
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(build_model("resnet18_kuangliu")) == 11_173_962
    assert count(build_model("wrn-28-10")) == 36_479_194  # the standard WRN-28-10
    assert "efficientnet_lite0" in MODEL_NAMES and "resnet50" in MODEL_NAMES


def test_bad_names_and_options():
    with pytest.raises(ValueError, match="unknown model 'vgg'.*small_cnn"):
        build_model("vgg")
    with pytest.raises(ValueError, match="num_classes must be at least 2"):
        build_model("small_cnn", num_classes=1)
    with pytest.raises(ValueError, match="bad options for model 'small_cnn'"):
        build_model("small_cnn", depth=3)
    with pytest.raises(ValueError, match="unknown activation"):
        build_model("preact_resnet18", activation="tanh")


def test_gowal_wrn_70_16_size_and_layout():
    with torch.device("meta"):
        model = build_model("wrn-70-16")
    assert sum(p.numel() for p in model.parameters()) == 266_796_506  # Gowal et al.'s 266.8M
    keys = list(build_model("wrn-28-10-dm").state_dict())
    assert keys[0] == "init_conv.weight" and "logits.weight" in keys and "mean" not in keys
