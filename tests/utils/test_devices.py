"""One device resolution for the CLI, evaluation (and training): what it accepts and how it refuses."""
import pytest
import torch

from lpgeom.utils import default_device, resolve_device


def test_default_and_cpu():
    assert default_device() == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device(None) == torch.device(default_device())
    assert resolve_device("cpu") == resolve_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.parametrize("device, message", [
    ("gpu:0", r"^--device 'gpu:0' is not a device; give cpu, cuda or cuda:N \(and mps\)$"),
    (0, r"^--device 0 is not a device \(int\)"),
    ("meta", r"^--device meta: lpgeom runs on cpu, cuda or cuda:N \(and mps\), not on meta$"),
    ("cpu:1", "not on cpu:1"),
    pytest.param("cuda", "CUDA is not available on this machine; give cpu",
                 marks=pytest.mark.skipif(torch.cuda.is_available(), reason="has CUDA")),
    pytest.param("cuda:99", "this machine has", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA")),
    pytest.param("mps", "MPS is not available", marks=pytest.mark.skipif(torch.backends.mps.is_available(), reason="MPS")),
])
def test_refusals_name_the_argument_and_the_value(device, message):
    with pytest.raises(ValueError, match=message):
        resolve_device(device, "--device")


def test_types_narrow_what_is_accepted():
    with pytest.raises(ValueError, match=r"^device mps: lpgeom runs on cpu, cuda or cuda:N, not on mps$"):
        resolve_device("mps", types=("cpu", "cuda"))


def test_the_cli_resolves_through_it(monkeypatch):
    import lpgeom.utils
    from lpgeom.cli.options import resolve_device as cli_resolve

    calls = []
    monkeypatch.setattr(lpgeom.utils, "resolve_device", lambda *a: calls.append(a) or resolve_device(*a))
    assert cli_resolve("cpu") == "cpu" and calls == [("cpu", "--device")]
