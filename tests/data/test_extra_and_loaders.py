"""Loaders exercised on small files written here in the real on-disk formats."""
import gzip
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from lpgeom.data import cifar10, fashion_mnist, imagenet, pseudo_labelled_extra, random_crop_flip, read_idx


def write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_from_idx_files(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 6), ("t10k", 4)):
        write_idx(raw / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n))
    ds = fashion_mnist(False, root=tmp_path)
    assert len(ds) == 4 and ds.tensors[0].shape == (4, 1, 28, 28) and ds.tensors[0].max() <= 1
    truncated = raw / "t10k-labels-idx1-ubyte.gz"
    data = gzip.open(truncated).read()
    with gzip.open(truncated, "wb") as fh:
        fh.write(data[:-1])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(truncated)


def test_fashion_mnist_missing_names_every_place(tmp_path, monkeypatch):
    import sys

    fm = sys.modules["lpgeom.data.fashion_mnist"]

    monkeypatch.setattr(fm, "DEBIAN_DIR", tmp_path / "nowhere")
    monkeypatch.delenv("LPGEOM_DATA_DIR", raising=False)
    with pytest.raises(FileNotFoundError, match="searched: .*nowhere.*dataset-fashion-mnist"):
        fashion_mnist(True)


def test_real_fashion_mnist_is_complete():
    try:
        train, test = fashion_mnist(True), fashion_mnist(False)
    except FileNotFoundError:
        pytest.skip("Debian's dataset-fashion-mnist is not installed here")
    assert len(train) == 60_000 and len(test) == 10_000
    assert torch.bincount(train.tensors[1]).tolist() == [6000] * 10


def test_cifar10_from_python_batches(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(folder / name, "wb") as fh:
            pickle.dump({"data": rng.integers(0, 256, (3, 3072), dtype=np.uint8), "labels": [1, 2, 3]}, fh)
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": [f"c{i}" for i in range(10)]}, fh)
    # torchvision checks md5 sums of the real archive only when downloading; reading works without
    import torchvision.datasets.cifar as tvc

    monkeypatch.setattr(tvc.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(tvc, "check_integrity", lambda *a, **k: True)  # md5 sums of the real files
    ds = cifar10(False, root=tmp_path)
    assert ds.tensors[0].shape == (3, 3, 32, 32) and ds.tensors[1].tolist() == [1, 2, 3]
    with pytest.raises(FileNotFoundError, match="download=True"):
        cifar10(True, root=tmp_path / "none")


def test_imagenet_image_folder(tmp_path):
    for wnid in ("n01440764", "n01443537"):
        (tmp_path / "val" / wnid).mkdir(parents=True)
        Image.new("RGB", (300, 260), (120, 30, 200)).save(tmp_path / "val" / wnid / "a.JPEG")
    ds = imagenet(tmp_path, "val")
    x, y = ds[1]
    assert x.shape == (3, 224, 224) and y == 1 and 0 <= float(x.min()) <= float(x.max()) <= 1
    with pytest.raises(FileNotFoundError, match="no ImageNet class folders"):
        imagenet(tmp_path, "train")
    with pytest.raises(ValueError, match="split"):
        imagenet(tmp_path, "test")


def test_extra_data_pickle_and_refusal_of_code(tmp_path):
    path = tmp_path / "ti.pickle"
    rng = np.random.default_rng(0)
    with open(path, "wb") as fh:
        pickle.dump({"data": rng.integers(0, 256, (5, 32, 32, 3), dtype=np.uint8),
                     "extrapolated_targets": np.arange(5)}, fh)
    ds = pseudo_labelled_extra(path)
    assert ds.tensors[0].shape == (5, 3, 32, 32) and ds.tensors[1].tolist() == [0, 1, 2, 3, 4]

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    bad = tmp_path / "evil.pickle"
    with open(bad, "wb") as fh:
        pickle.dump({"data": Evil(), "extrapolated_targets": []}, fh)
    with pytest.raises(ValueError, match="refusing to load builtins.print"):
        pseudo_labelled_extra(bad)


@pytest.mark.parametrize("data, targets, match", [
    (np.full((2, 4, 4, 3), 0.5, np.float32), np.arange(2), "must be uint8"),  # [0,1] floats: no second /255
    (np.zeros((2, 4, 4, 3), np.uint8), np.array([3.7, 1.0]), "integer class indices"),  # not truncated to 3
    (np.zeros((2, 4, 4, 3), np.uint8), np.array(["cat", "dog"]), "integer class indices"),
])
def test_extra_data_of_the_wrong_kinds_is_refused_naming_the_field(tmp_path, data, targets, match):
    path = tmp_path / "ti.pickle"
    with open(path, "wb") as fh:
        pickle.dump({"data": data, "extrapolated_targets": targets}, fh)
    with pytest.raises(ValueError, match=match):
        pseudo_labelled_extra(path)


def test_extra_data_of_damaged_bytes_is_a_value_error_naming_the_file(tmp_path):
    rng = np.random.default_rng(0)
    for seed in range(40):  # random bytes: every failure is a ValueError naming the file (was OverflowError once)
        path = tmp_path / f"garbage{seed}.pickle"
        path.write_bytes(np.random.default_rng(seed).integers(0, 256, 256, dtype=np.uint8).tobytes())
        try:
            pseudo_labelled_extra(path)
        except ValueError as err:
            assert str(path) in str(err)


def test_half_of_every_batch_from_extra_data(tmp_path):
    from torch.utils.data import TensorDataset

    from lpgeom.models import build_model
    from lpgeom.threats import fashion_mnist_threats
    from lpgeom.training import TrainConfig, build_scheme, read_metrics, train

    std = TensorDataset(torch.rand(64, 1, 28, 28), torch.zeros(64, dtype=torch.long))
    extra = TensorDataset(torch.rand(500, 1, 28, 28), torch.ones(500, dtype=torch.long))
    seen = []

    class Spy(type(build_scheme("natural", fashion_mnist_threats()))):
        def training_loss(self, model, x, y, ctx):
            seen.append((len(y), int(y.sum())))
            return super().training_loss(model, x, y, ctx)

    result = train(build_model("small_cnn", width=4), std, Spy(), TrainConfig(epochs=1, batch_size=32, progress=False),
                   tmp_path, extra=extra)
    assert result.global_step == 4, "one epoch = one pass over the standard set (64 / 16 per batch)"
    assert seen == [(32, 16)] * 4


def test_random_crop_flip_is_seeded_and_keeps_content():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    a = random_crop_flip(x, padding=2, generator=torch.Generator().manual_seed(0))
    b = random_crop_flip(x, padding=2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and a.shape == x.shape
    assert torch.equal(random_crop_flip(x, padding=0, flip=False), x)


def test_fashion_mnist_root_without_the_files_is_an_error_not_another_copy(tmp_path):
    """A root the caller names is the only place searched (it used to fall back to Debian's copy)."""
    from lpgeom.data import fashion_mnist, read_idx

    with pytest.raises(FileNotFoundError, match="not found in root"):
        fashion_mnist(root=tmp_path)
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(FileNotFoundError, match="not found in root"):
        fashion_mnist(root=afile)
    with pytest.raises(FileNotFoundError, match="is a folder"):
        read_idx(tmp_path)


def test_subset_and_augmentation_refuse_bad_arguments():
    from lpgeom.data import random_crop_flip, subset

    ds = torch.utils.data.TensorDataset(torch.rand(10, 1))
    with pytest.raises(ValueError, match="seed"):
        subset(ds, 3, seed=2**70)
    with pytest.raises(ValueError, match="seed"):
        subset(ds, 3, seed=-1)
    with pytest.raises(ValueError, match="padding"):
        random_crop_flip(torch.rand(2, 1, 8, 8), padding=-1)
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        random_crop_flip(torch.rand(1, 8, 8))


def test_lpgeom_data_dir_without_the_files_is_an_error_not_another_copy(tmp_path, monkeypatch):
    """LPGEOM_DATA_DIR names the copy to use: pointing it at a folder without the files no longer falls back."""
    monkeypatch.setenv("LPGEOM_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="not found in LPGEOM_DATA_DIR"):
        fashion_mnist(False)


def _fake_fashion_mnist(folder, n_train=6, n_test=4):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n))


@pytest.mark.parametrize("bad", ["test", "train", "", 0, 1, None, [False]])
def test_fashion_mnist_split_flag_takes_only_a_bool(tmp_path, bad):
    """``fashion_mnist("test")`` used to return the training set (the flag was only tested for truthiness)."""
    _fake_fashion_mnist(tmp_path)
    assert len(fashion_mnist(False, root=tmp_path)) == 4 and len(fashion_mnist(True, root=tmp_path)) == 6
    with pytest.raises(TypeError, match="train must be True or False"):
        fashion_mnist(bad, root=tmp_path)
    with pytest.raises(TypeError, match="train must be True or False"):
        cifar10(bad, root=tmp_path)


def test_a_truncated_gz_dataset_file_is_a_value_error_naming_it(tmp_path):
    _fake_fashion_mnist(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:200])  # cut inside the compressed stream: gzip raises EOFError
    with pytest.raises(ValueError, match=f"{path}.*truncated gzip"):
        fashion_mnist(False, root=tmp_path)


def test_a_gz_file_that_is_not_gzip_is_a_value_error_naming_it(tmp_path):
    _fake_fashion_mnist(tmp_path)
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(b"<html>not found</html>" * 10)
    with pytest.raises(ValueError, match=f"{path}.*not a valid gzip"):
        fashion_mnist(False, root=tmp_path)


def test_mislabelled_fashion_mnist_files_are_named(tmp_path):
    """Images under the labels' name (and labels that are not classes) are refused, naming the file."""
    _fake_fashion_mnist(tmp_path)
    images, labels = tmp_path / "t10k-images-idx3-ubyte.gz", tmp_path / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(images.read_bytes())
    with pytest.raises(ValueError, match=f"{labels}.*not \\(N,\\) labels"):
        fashion_mnist(False, root=tmp_path)
    write_idx(labels, np.full(4, 200))
    with pytest.raises(ValueError, match=f"{labels}.*label 200"):
        fashion_mnist(False, root=tmp_path)
    write_idx(labels, np.zeros(4))
    write_idx(images, np.zeros((4, 14, 14)))
    with pytest.raises(ValueError, match=f"{images}.*not \\(N, 28, 28\\)"):
        fashion_mnist(False, root=tmp_path)


def test_cli_names_a_truncated_dataset_file_without_a_traceback(tmp_path, capsys):
    from lpgeom.__main__ import main

    _fake_fashion_mnist(tmp_path, n_train=70, n_test=10)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:300])
    code = main(["train", "--scheme", "natural", "--dataset", "fashion_mnist", "--data-root", str(tmp_path),
                 "--epochs", "1", "--batch-size", "32", "--run-dir", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "truncated gzip" in err and str(path) in err and "Traceback" not in err
