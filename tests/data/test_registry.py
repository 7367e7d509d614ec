"""The data layer's loaders keyed by the dataset registry; CIFAR-100 added as one entry, loaded from real-layout files."""
import argparse
import pickle

import numpy as np
import pytest
import torch

from lpgeom.data import LOADERS, cifar100, load_dataset
from lpgeom.datasets import DATASETS, Dataset, dataset_spec


def write_cifar100(root, n_train=5, n_test=3, seed=0):
    """Files in torchvision's CIFAR-100 python-pickle layout (``cifar-100-python/{train,test,meta}``)."""
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    written = {}
    for name, n in (("train", n_train), ("test", n_test)):
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        fine = rng.integers(0, 100, n).tolist()
        with open(folder / name, "wb") as fh:
            pickle.dump({"data": data, "fine_labels": fine, "coarse_labels": [f // 5 for f in fine]}, fh)
        written[name] = (data, fine)
    with open(folder / "meta", "wb") as fh:
        pickle.dump({"fine_label_names": [f"class{i}" for i in range(100)],
                     "coarse_label_names": [f"super{i}" for i in range(20)]}, fh)
    return written


@pytest.fixture
def no_md5(monkeypatch):
    # torchvision checks the md5 sums of the real archive's files; the files written here are not those
    import torchvision.datasets.cifar as tvc

    monkeypatch.setattr(tvc.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(tvc, "check_integrity", lambda *a, **k: True)


def test_every_registered_dataset_has_a_loader():
    assert set(LOADERS) == set(Dataset) == set(DATASETS)
    with pytest.raises(ValueError, match="unknown dataset 'cifar1000'; known: cifar10, imagenet, fashion_mnist, cifar100"):
        load_dataset("cifar1000")
    with pytest.raises(ValueError, match="needs root"):
        load_dataset(Dataset.IMAGENET, train=False)


def test_cifar100_loads_from_its_pickle_files(tmp_path, no_md5):
    written = write_cifar100(tmp_path)
    spec = dataset_spec("cifar100")
    for train, split in ((True, "train"), (False, "test")):
        ds = load_dataset("cifar100", train, root=tmp_path)
        x, y = ds.tensors
        data, fine = written[split]
        assert x.shape == (len(fine), *spec.shape) and x.dtype == torch.float32
        assert y.tolist() == fine and y.dtype == torch.int64 and int(y.max()) < spec.num_classes
        # the first row of the file is the first image, channel-major (R plane, G plane, B plane), scaled by 255
        assert torch.equal(x[0], torch.from_numpy(data[0].reshape(3, 32, 32)).float() / 255)
    with pytest.raises(FileNotFoundError, match="CIFAR-100 not found.*download=True"):
        cifar100(True, root=tmp_path / "none")
    with pytest.raises(TypeError, match="train must be True or False"):
        cifar100("test", root=tmp_path)


def test_cifar100_download_goes_through_torchvision(tmp_path, no_md5, monkeypatch):
    """download=True calls torchvision's real CIFAR100 download (stood in for here: no network), then reads."""
    import torchvision.datasets.cifar as tvc

    calls = []

    def fake_download(self):
        calls.append(self.root)
        write_cifar100(tmp_path / "cache", seed=1)

    monkeypatch.setattr(tvc.CIFAR100, "download", fake_download)
    ds = cifar100(False, root=tmp_path / "cache", download=True)
    assert calls == [str(tmp_path / "cache")] and len(ds) == 3


def test_cli_takes_cifar100_through_the_registry(tmp_path, no_md5):
    from lpgeom.cli.options import DATASETS as CLI_DATASETS
    from lpgeom.cli.options import load_dataset as cli_load, load_model, threats_from_args

    write_cifar100(tmp_path)
    assert {"cifar100", "cifar100-samples"} <= set(CLI_DATASETS)
    args = argparse.Namespace(dataset="cifar100", data_root=tmp_path, download=False, n_train=None,
                              eps_inf=None, eps2=None, eps1=None)
    assert len(cli_load(args, train=False)) == 3
    assert [(b.name, b.eps) for b in threats_from_args(args)] == [("Linf", 8 / 255), ("L2", 0.5), ("L1", 12.0)]
    model, weights = load_model(args, None, None)
    assert weights is None and model(torch.rand(2, 3, 32, 32)).shape == (2, 100)   # the registry's 100 classes
    small, _ = load_model(args, "small_cnn", None, {"in_channels": 3, "image_size": 32, "num_classes": 7})
    assert small(torch.rand(1, 3, 32, 32)).shape == (1, 7)   # a run's recorded options still win
