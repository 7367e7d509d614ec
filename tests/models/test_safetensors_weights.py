"""Weights as safetensors, the content digest in its metadata, a `.sha256` that `sha256sum -c` accepts (issue 26)."""
from __future__ import annotations

import shutil
import subprocess

import pytest
import torch

from lpgeom.models import build_model
from lpgeom.models.checkpoints import (CheckpointError, digest_path, file_sha256, read_weights, state_digest,
                                       write_state_dict)


def test_safetensors_round_trip_keeps_the_content_digest_records_use(tmp_path):
    state = build_model("small_cnn", width=4).state_dict()
    path = tmp_path / "model.safetensors"
    digest = write_state_dict(state, path)
    assert digest == state_digest(state)  # the model_sha256 of the records
    assert path.read_bytes()[8:9] == b"{", "a safetensors file: 8-byte header length, then a JSON header"
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        assert fh.metadata()["lpgeom_sha256"] == digest
    loaded = read_weights(path)
    assert loaded.verified and loaded.digest == digest and list(loaded.state) == list(state)
    assert all(torch.equal(loaded.state[k], state[k]) for k in state)


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs coreutils' sha256sum")
@pytest.mark.parametrize("name", ["model.safetensors", "model.pt"])
def test_the_sidecar_is_what_sha256sum_checks(tmp_path, name):
    path = tmp_path / name
    write_state_dict(build_model("small_cnn", width=4).state_dict(), path)
    assert digest_path(path).read_text() == f"{file_sha256(path)}  {name}\n"
    ok = subprocess.run(["sha256sum", "-c", digest_path(path).name], cwd=tmp_path, capture_output=True, text=True)
    assert ok.returncode == 0 and f"{name}: OK" in ok.stdout
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 0xFF
    path.write_bytes(bytes(blob))
    bad = subprocess.run(["sha256sum", "-c", digest_path(path).name], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode != 0
    with pytest.raises(CheckpointError, match="does not match"):
        read_weights(path)


def test_a_pt_file_written_the_old_way_still_loads_and_verifies(tmp_path):
    """Runs of older lpgeom: a pickled state dict and a sidecar holding the content digest."""
    state = build_model("small_cnn", width=4).state_dict()
    path = tmp_path / "model.pt"
    torch.save(dict(state), path)
    digest_path(path).write_text(f"{state_digest(state)}  model.pt\n")
    loaded = read_weights(path)
    assert loaded.verified and loaded.digest == state_digest(state)


def test_flipped_tensor_bytes_in_a_safetensors_file_are_caught_by_its_metadata_digest(tmp_path):
    state = build_model("small_cnn", width=4).state_dict()
    path = tmp_path / "w.safetensors"
    write_state_dict(state, path)
    digest_path(path).unlink()  # only the digest inside is left
    blob = bytearray(path.read_bytes())
    blob[-3] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(CheckpointError, match=r"w\.safetensors does not match the digest it carries"):
        read_weights(path)


def test_non_tensor_values_cannot_go_into_safetensors(tmp_path):
    with pytest.raises(TypeError, match="holds tensors only"):
        write_state_dict({"w": torch.zeros(2), "step": 3}, tmp_path / "x.safetensors")
