"""lpgeom's weights files carry their digest inside; foreign files load unverified; a run's files must verify."""
import collections

import pytest
import torch

from lpgeom.models import CheckpointError, build_model, read_state_dict, read_weights
from lpgeom.models.checkpoints import digest_path, state_digest, write_state_dict


def flip_weight_bytes(path, weight):
    blob = bytearray(path.read_bytes())
    at = blob.find(weight.numpy().tobytes())
    assert at > 0, "weight bytes not found in the file"
    for i in range(at + 8, at + 208):
        blob[i] ^= 0xFF
    path.write_bytes(bytes(blob))


def big_weight(state):
    return next(v for v in state.values() if v.numel() > 60)


def test_corrupt_model_file_without_its_sidecar_is_refused(tmp_path):
    state = build_model("small_cnn", width=4).state_dict()
    path = tmp_path / "model.pt"
    write_state_dict(state, path)
    digest_path(path).unlink()
    flip_weight_bytes(path, big_weight(state))
    assert torch.load(path, weights_only=True) is not None, "torch alone loads the corrupt file"
    with pytest.raises(CheckpointError, match=r"model\.pt does not match the digest it carries"):
        read_state_dict(path)


def test_written_file_stays_a_plain_state_dict_and_verifies(tmp_path):
    model = build_model("small_cnn", width=4)
    path = tmp_path / "w.pt"
    digest = write_state_dict(model.state_dict(), path)
    plain = torch.load(path, weights_only=True)
    assert isinstance(plain, collections.OrderedDict) and all(isinstance(v, torch.Tensor) for v in plain.values())
    build_model("small_cnn", width=4).load_state_dict(plain)  # any tool reads it as a state dict
    digest_path(path).unlink()
    loaded = read_weights(path)
    assert loaded.verified and loaded.digest == digest == state_digest(model.state_dict())


def test_foreign_state_dict_loads_unverified(tmp_path):
    state = build_model("small_cnn", width=4).state_dict()
    path = tmp_path / "theirs.pt"
    torch.save(state, path)
    loaded = read_weights(path)
    assert not loaded.verified and loaded.state.keys() == state.keys()
    with pytest.raises(CheckpointError, match="carries no digest"):
        read_weights(path, require_digest=True)


@pytest.mark.parametrize("name", ["model.pt", "best.pt", "last.pt", "previous.pt"])
def test_a_run_folders_weights_without_a_digest_are_refused(tmp_path, name):
    (tmp_path / "metrics.jsonl").write_text("")
    state = build_model("small_cnn", width=4).state_dict()
    torch.save(state if name in ("model.pt", "best.pt") else {"model": state, "step": 1}, tmp_path / name)
    with pytest.raises(CheckpointError, match=rf"{name} carries no digest, so it cannot be verified"):
        read_state_dict(tmp_path / name)


def test_training_checkpoint_read_as_weights_is_verified(tmp_path):
    from lpgeom.training import save_checkpoint

    state = build_model("small_cnn", width=4).state_dict()
    save_checkpoint({"model": state, "step": 1}, tmp_path)
    assert read_weights(tmp_path / "last.pt").verified
    flip_weight_bytes(tmp_path / "last.pt", big_weight(state))
    with pytest.raises(CheckpointError, match=r"last\.pt does not match the digest it carries"):
        read_state_dict(tmp_path / "last.pt")


def test_sidecar_of_an_older_lpgeom_still_verifies(tmp_path):
    state = build_model("small_cnn", width=4).state_dict()
    path = tmp_path / "old.pt"
    torch.save(dict(state), path)  # the former format: a plain dict, the digest beside it
    digest_path(path).write_text(f"{state_digest(state)}  old.pt\n")
    assert read_weights(path).verified
    flip_weight_bytes(path, big_weight(state))
    with pytest.raises(CheckpointError, match=r"old\.pt does not match its digest in old\.pt\.sha256"):
        read_state_dict(path)


def test_file_replaced_by_another_intact_one_is_caught_by_the_sidecar(tmp_path):
    a, b = build_model("small_cnn", width=4).state_dict(), build_model("small_cnn", width=8).state_dict()
    write_state_dict(a, tmp_path / "model.pt")
    write_state_dict(b, tmp_path / "other.pt")
    (tmp_path / "other.pt").replace(tmp_path / "model.pt")  # its own digest inside, the old one beside
    with pytest.raises(CheckpointError, match=r"does not match its digest in model\.pt\.sha256"):
        read_state_dict(tmp_path / "model.pt")


def test_non_finite_weights_are_refused_on_loading():
    from lpgeom.models import load_weights

    state = build_model("small_cnn", width=4).state_dict()
    key = next(k for k, v in state.items() if v.is_floating_point())
    bad = {**state, key: torch.full_like(state[key], float("nan"))}
    with pytest.raises(CheckpointError, match=rf"w\.pt holds NaN or infinite values in 1 tensor\(s\) \(e\.g\. {key}\)"):
        load_weights(build_model("small_cnn", width=4), bad, source="w.pt")


@pytest.mark.parametrize("sidecar", [b"\xff\xfe not text \x80", b"", b"   \n"])
def test_a_damaged_sidecar_is_a_digest_mismatch_naming_it(tmp_path, sidecar):
    """A .sha256 beside the weights that is not UTF-8 raised UnicodeDecodeError (no file named)."""
    path = tmp_path / "w.pt"
    torch.save(build_model("small_cnn", width=2).state_dict(), path)
    digest_path(path).write_bytes(sidecar)
    with pytest.raises(CheckpointError, match=r"w\.pt does not match its digest in w\.pt\.sha256"):
        read_weights(path)
