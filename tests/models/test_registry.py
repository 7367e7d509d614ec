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
    with pytest.raises(ValueError, match="num_classes must be an integer >= 2, got 1"):
        build_model("small_cnn", num_classes=1)
    with pytest.raises(ValueError, match="model 'small_cnn' takes no option 'depth'; it accepts: num_classes, "
                                         "in_channels, width, image_size"):
        build_model("small_cnn", depth=3)
    with pytest.raises(ValueError, match="activation must be one of 'relu', 'softplus', got 'tanh'"):
        build_model("preact_resnet18", activation="tanh")


def test_gowal_wrn_70_16_size_and_layout():
    with torch.device("meta"):
        model = build_model("wrn-70-16")
    assert sum(p.numel() for p in model.parameters()) == 266_796_506  # Gowal et al.'s 266.8M
    keys = list(build_model("wrn-28-10-dm").state_dict())
    assert keys[0] == "init_conv.weight" and "logits.weight" in keys and "mean" not in keys


# --- hostile options (issue 13): one sentence naming the option, never a raw error or a silent model ----

@pytest.mark.parametrize("options, error, message", [
    ({"width": -4}, ValueError, "width must be an integer >= 1, got -4"),  # was: a raw RuntimeError
    ({"width": 0}, ValueError, "width must be an integer >= 1, got 0"),  # was: a model with no channels
    ({"width": 2.5}, TypeError, r"width must be an integer >= 1, got 2.5 \(float\)"),
    ({"width": True}, TypeError, r"width must be an integer >= 1, got True \(bool\)"),
    ({"width": "32"}, TypeError, r"got '32' \(str\)"),
    ({"width": 10**400}, ValueError, r"at most 2\*\*63 - 1 \(int64\), got 100000... \(an integer of 401 digits\)"),
    ({"in_channels": 0}, ValueError, "in_channels must be an integer >= 1, got 0"),  # was: accepted
    ({"in_channels": True}, TypeError, "in_channels must be an integer >= 1, got True"),  # was: accepted as 1
    ({"image_size": 0}, ValueError, "image_size must be an integer >= 4, got 0"),  # was: accepted
    ({"image_size": -4}, ValueError, "image_size must be an integer >= 4, got -4"),  # was: accepted
    ({"image_size": 6}, ValueError, "image_size must be a positive multiple of 4, got 6"),
    ({"num_classes": 2.7}, TypeError, r"num_classes must be an integer >= 2, got 2.7 \(float\)"),  # was: 2 classes
    ({"num_classes": "10"}, TypeError, r"num_classes must be an integer >= 2, got '10' \(str\)"),  # was: accepted
    ({"num_classes": True}, TypeError, r"got True \(bool\)"),
])
def test_small_cnn_options_are_checked(options, error, message):
    with pytest.raises(error, match=message):
        build_model("small_cnn", **options)


@pytest.mark.parametrize("options", [{"width": 10**6}, {"num_classes": 10**9}, {"image_size": 10**6}])
def test_a_model_beyond_memory_is_refused_before_allocating(options):
    import time

    started = time.perf_counter()
    with pytest.raises(ValueError, match=r"model 'small_cnn' with these options has [\d,]+ parameters .* more than this "
                                         r"machine's [\d.,]+ GiB of memory"):
        build_model("small_cnn", **options)  # was: a raw RuntimeError from the allocator (or a long wait)
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize("name, error, message", [
    (None, TypeError, r"the model name must be a string, got None \(NoneType\)"),
    (["small_cnn"], TypeError, r"got \['small_cnn'\] \(list\)"),  # was: unhashable type: 'list'
    ("SMALL_CNN", ValueError, r"unknown model 'SMALL_CNN' \(did you mean 'small_cnn'\?\)"),
    ("wrn-28-10 ", ValueError, r"did you mean 'wrn-28-10'\?"),
])
def test_model_names_are_checked(name, error, message):
    with pytest.raises(error, match=message):
        build_model(name)


@pytest.mark.parametrize("build, message", [
    (lambda: __import__("lpgeom.models", fromlist=["x"]).WideResNet(-2), "depth must be an integer >= 10, got -2"),
    (lambda: __import__("lpgeom.models", fromlist=["x"]).WideResNet(4), "depth must be an integer >= 10, got 4"),
    (lambda: __import__("lpgeom.models", fromlist=["x"]).WideResNet(29), r"depth must be 6n \+ 4 with n >= 1"),
    (lambda: __import__("lpgeom.models", fromlist=["x"]).WideResNet(28, 0), "widen_factor must be an integer >= 1"),
    (lambda: __import__("lpgeom.models", fromlist=["x"]).WideResNet(28, 10, 0), "num_classes must be an integer >= 2"),
    (lambda: __import__("lpgeom.models", fromlist=["x"]).DMWideResNet(28, 0), "width must be an integer >= 1, got 0"),
    (lambda: __import__("lpgeom.models", fromlist=["x"]).DMWideResNet(28, 10, 10, "gelu"),
     "activation must be one of 'silu', 'relu', got 'gelu'"),
])
def test_wide_resnet_shapes_are_checked(build, message):
    """Was: depth -2 and 4 built networks without blocks, widen 0 a network without channels, num_classes 0 accepted."""
    with pytest.raises((ValueError, TypeError), match=message):
        build()


@pytest.mark.parametrize("mean, std, error, message", [
    ([0.5], [float("nan")], ValueError, r"std\[0\] must be a finite number > 0, got nan"),  # was: accepted
    ([float("inf")], [1.0], ValueError, r"mean\[0\] must be a finite number, got inf"),  # was: accepted
    ([0.5], [True], TypeError, r"std\[0\] must be a finite number > 0, got True \(bool\)"),  # was: std 1
    ([], [], TypeError, "mean must be a non-empty sequence of numbers"),  # was: a layer for no channel
    ("abc", "def", TypeError, "mean must be a non-empty sequence"),  # was: a raw comparison error
    (0.5, 0.5, TypeError, "mean must be a non-empty sequence"),
])
def test_normalize_values_are_checked(mean, std, error, message):
    from lpgeom.models import Normalize

    with pytest.raises(error, match=message):
        Normalize(mean, std)


def test_inputs_of_the_wrong_shape_are_named():
    from lpgeom.models import Normalize

    layer = Normalize([0.5] * 3, [0.2] * 3)
    with pytest.raises(ValueError, match=r"Normalize expects images of shape \(B, 3, H, W\), got shape \(2, 1, 4, 4\)"):
        layer(torch.rand(2, 1, 4, 4))  # was: broadcast silently to 3 channels
    with pytest.raises(ValueError, match=r"SmallCNN expects images of shape \(B, 1, 28, 28\), got shape \(2, 1, 32, 32\)"):
        build_model("small_cnn")(torch.rand(2, 1, 32, 32))  # was: a raw matrix-size RuntimeError
