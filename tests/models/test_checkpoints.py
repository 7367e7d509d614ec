import pytest
import torch

from lpgeom.models import CheckpointError, build_model, load_robustbench, load_weights, read_state_dict, robustbench_path


def test_robustbench_layout_with_prefix_and_state_dict_key(tmp_path):
    model = build_model("wrn-28-10")
    path = robustbench_path("Carmon2019Unlabeled", "cifar10", "Linf", tmp_path)
    path.parent.mkdir(parents=True)
    torch.save({"state_dict": {"module." + k: v for k, v in model.state_dict().items()}}, path)
    loaded = load_robustbench("Carmon2019Unlabeled", "cifar10", "Linf", tmp_path)
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model.eval()(x))


def test_missing_file_names_expected_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="Gowal2020Uncovering_34_20.pt.*networked"):
        load_robustbench("Gowal2020Uncovering_34_20", "cifar10", "Linf", tmp_path)


def test_unknown_name_lists_known_ones(tmp_path):
    with pytest.raises(ValueError, match="known: .*Gowal2020Uncovering_70_16_extra"):
        load_robustbench("Gowal2020", "cifar10", "Linf", tmp_path)


def test_checkpoint_for_another_architecture(tmp_path):
    path = tmp_path / "small.pt"
    torch.save(build_model("small_cnn").state_dict(), path)
    with pytest.raises(CheckpointError, match="another architecture than ResNet18.*missing keys"):
        load_weights(build_model("resnet18_kuangliu"), read_state_dict(path), source="small.pt")
    wide = build_model("small_cnn", width=16)
    with pytest.raises(CheckpointError, match="shape mismatches"):
        load_weights(wide, read_state_dict(path))


def test_truncated_and_not_a_state_dict(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(build_model("small_cnn").state_dict(), path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        read_state_dict(path)
    other = tmp_path / "list.pt"
    torch.save([1, 2, 3], other)
    with pytest.raises(CheckpointError, match="does not hold a state dict"):
        read_state_dict(other)
    with pytest.raises(FileNotFoundError):
        read_state_dict(tmp_path / "absent.pt")


def test_gowal_and_engstrom_checkpoints(tmp_path):
    model = build_model("wrn-28-10-dm")
    path = robustbench_path("Gowal2020Uncovering_28_10_extra", "cifar10", "Linf", tmp_path)
    path.parent.mkdir(parents=True)
    torch.save(model.state_dict(), path)
    loaded = load_robustbench("Gowal2020Uncovering_28_10_extra", "cifar10", "Linf", tmp_path)
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model.eval()(x))
    rn50 = robustbench_path("Engstrom2019Robustness", "cifar10", "Linf", tmp_path)
    torch.save({"model." + k: v for k, v in build_model("resnet18_kuangliu").state_dict().items()}, rn50)
    with pytest.raises(CheckpointError, match="another architecture than ResNet50"):
        load_robustbench("Engstrom2019Robustness", "cifar10", "Linf", tmp_path)
    torch.save({"model." + k: v for k, v in build_model("resnet50-cifar").state_dict().items()}, rn50)
    assert load_robustbench("Engstrom2019Robustness", "cifar10", "Linf", tmp_path)(torch.rand(1, 3, 32, 32)).shape == (1, 10)


def test_state_dict_with_digest_detects_flipped_bytes(tmp_path):
    import hashlib

    from lpgeom.models import build_model
    from lpgeom.models.checkpoints import digest_path, state_digest, write_state_dict

    state = build_model("small_cnn", width=4).state_dict()
    path = tmp_path / "model.pt"
    digest = write_state_dict(state, path)
    assert digest == state_digest(state)
    assert digest_path(path).read_text().split() == [hashlib.sha256(path.read_bytes()).hexdigest(), "model.pt"]
    assert all(torch.equal(read_state_dict(path)[k], state[k]) for k in state)
    weight = state["net.0.weight"] if "net.0.weight" in state else next(v for v in state.values() if v.numel() > 60)
    blob = bytearray(path.read_bytes())
    at = blob.find(weight.numpy().tobytes())
    assert at > 0
    blob[at + 8] ^= 0xFF
    path.write_bytes(bytes(blob))
    assert torch.load(path, weights_only=True) is not None, "torch alone loads the corrupt file"
    with pytest.raises(CheckpointError, match=r"model\.pt does not match the digest it carries"):
        read_state_dict(path)
    digest_path(path).unlink()
    with pytest.raises(CheckpointError, match=r"model\.pt does not match the digest it carries"):
        read_state_dict(path)  # the digest inside the file is enough


def test_state_digest_of_nested_states_sees_every_value():
    from lpgeom.models.checkpoints import state_digest

    a = {"model": {"w": torch.zeros(3)}, "step": 1, "groups": [{"lr": 0.1}]}
    assert state_digest(a) == state_digest({"model": {"w": torch.zeros(3)}, "step": 1, "groups": [{"lr": 0.1}]})
    assert state_digest(a) != state_digest({**a, "step": 2})
    assert state_digest(a) != state_digest({**a, "groups": [{"lr": 0.2}]})
    assert state_digest(a) != state_digest({**a, "model": {"w": torch.zeros(3, dtype=torch.float64)}})
