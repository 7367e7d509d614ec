"""One seed contract: attacks, training and data order accept the same range and refuse alike."""
import argparse

import numpy as np
import pytest
import torch

from lpgeom.attacks import APGD
from lpgeom.data import subset
from lpgeom.threats import LpBall
from lpgeom.training import TrainConfig
from lpgeom.utils import MAX_SEED, check_seed

ENTRY_POINTS = {
    "attack": lambda seed: APGD(LpBall("inf", 0.1), seed=seed).seed,
    "training": lambda seed: TrainConfig(seed=seed).seed,
    "data": lambda seed: subset(torch.utils.data.TensorDataset(torch.arange(10)), 3, seed=seed).indices,
}


def test_the_range_is_what_torch_generators_take():
    assert MAX_SEED == 2**64 - 1
    torch.Generator().manual_seed(MAX_SEED)
    with pytest.raises((RuntimeError, ValueError)):
        torch.Generator().manual_seed(MAX_SEED + 1)


@pytest.mark.parametrize("where", ENTRY_POINTS)
def test_every_entry_point_takes_the_whole_range(where):
    for seed in (0, 2**63, MAX_SEED, np.uint64(MAX_SEED)):
        ENTRY_POINTS[where](seed)


@pytest.mark.parametrize("where", ENTRY_POINTS)
@pytest.mark.parametrize("seed, error", [(MAX_SEED + 1, ValueError), (-1, ValueError), (1.5, TypeError),
                                         (True, TypeError), ("3", TypeError)])
def test_every_entry_point_refuses_alike(where, seed, error):
    with pytest.raises(error) as caught:
        ENTRY_POINTS[where](seed)
    with pytest.raises(error) as expected:
        check_seed(seed, "seed", optional=False)
    # the same range and the same wording; only the name (and "None or" for the attacks' optional seed) differ
    assert str(caught.value).split(" must be ")[1].removeprefix("None or ") == str(expected.value).split(" must be ")[1]


def test_check_seed_names_the_argument_and_the_range():
    assert check_seed(None) is None and check_seed(np.int64(7), optional=False) == 7
    with pytest.raises(ValueError, match=r"^subset seed must be an integer in \[0, 2\*\*64 - 1\], got -1$"):
        check_seed(-1, "subset seed", optional=False)
    with pytest.raises(TypeError, match=r"^seed must be None or an integer in \[0, 2\*\*64 - 1\], got 1.5 \(float\)$"):
        check_seed(1.5)
    with pytest.raises(ValueError, match=r"got 1234567890\.\.\.\(30 digits\)$"):
        check_seed(int("1234567890" * 3), optional=False)


def test_the_cli_seed_option_is_one_type_with_the_same_range():
    from lpgeom.cli import options, train

    assert not hasattr(train, "seed_value") or train.seed_value is options.seed_value
    assert options.seed_value(str(MAX_SEED)) == MAX_SEED
    for text in (str(MAX_SEED + 1), "-1", "1e3", "x"):
        with pytest.raises(argparse.ArgumentTypeError, match=r"is not a seed \(an integer in \[0, 2\*\*64 - 1\]\)"):
            options.seed_value(text)
