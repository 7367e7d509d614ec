"""Atomic writes: content round-trips, and every failure leaves the old file and no temporary file."""
import errno
import os

import pytest
import torch

from lpgeom.utils import files
from lpgeom.utils import atomic_torch_save, atomic_write_bytes, atomic_write_json, atomic_write_text


def leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_round_trips_and_overwrite(tmp_path):
    atomic_write_bytes(tmp_path / "a.bin", b"\x00\x01")
    atomic_write_text(tmp_path / "sub" / "a.txt", "héllo")
    atomic_write_json(tmp_path / "a.json", {"x": 1, "p": tmp_path})
    atomic_torch_save({"w": torch.arange(3)}, tmp_path / "a.pt")
    atomic_write_text(tmp_path / "sub" / "a.txt", "second")
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "sub" / "a.txt").read_text(encoding="utf-8") == "second"
    assert '"x": 1' in (tmp_path / "a.json").read_text()
    assert torch.equal(torch.load(tmp_path / "a.pt", weights_only=True)["w"], torch.arange(3))
    assert leftovers(tmp_path) == [] and leftovers(tmp_path / "sub") == []


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("where", ["replace", "fsync", "torch.save"])
def test_disk_full_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch, where):
    path = tmp_path / "last.pt"
    atomic_torch_save({"step": 1}, path)
    if where == "replace":
        monkeypatch.setattr(files.os, "replace", _enospc)
    elif where == "fsync":
        monkeypatch.setattr(files.os, "fsync", _enospc)
    else:
        def partial_save(obj, fh, *a, **k):  # writes some bytes, then the disk is full
            fh.write(b"x" * 1000)
            _enospc()

        monkeypatch.setattr(torch, "save", partial_save)
    with pytest.raises(OSError, match=r"could not write .*last\.pt: the disk is full") as info:
        atomic_torch_save({"step": 2}, path)
    assert info.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert torch.load(path, weights_only=True) == {"step": 1}
    assert leftovers(tmp_path) == []


def test_folder_that_is_a_file(tmp_path):
    (tmp_path / "run").write_text("I am a file")
    with pytest.raises(OSError, match=r"could not write .*run/config\.json: a file stands where a parent folder"):
        atomic_write_json(tmp_path / "run" / "config.json", {})
    with pytest.raises(OSError, match=r"could not write .*run/x/m\.pt: a parent of the path is a file"):
        atomic_torch_save({}, tmp_path / "run" / "x" / "m.pt")
    assert (tmp_path / "run").read_text() == "I am a file"


def test_read_only_folder(tmp_path, monkeypatch):
    # the tests may run as root, for whom chmod does not stop writes: the refusal is simulated at the open
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(files, "_create_temporary", read_only)
    with pytest.raises(OSError, match=r"could not write .*m\.txt: the file system is read-only"):
        atomic_write_text(tmp_path / "m.txt", "x")
    assert not (tmp_path / "m.txt").exists()


def test_interrupt_removes_temp_and_passes_through(tmp_path, monkeypatch):
    def interrupted(obj, fh, *a, **k):
        fh.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_torch_save({}, tmp_path / "m.pt")
    assert list(tmp_path.iterdir()) == []


def test_unserialisable_json_is_a_type_error_and_writes_nothing(tmp_path):
    with pytest.raises(TypeError):
        atomic_write_json(tmp_path / "a.json", {"x": object()}, default=None)
    assert list(tmp_path.iterdir()) == []


def test_bad_mode(tmp_path):
    with pytest.raises(ValueError, match="mode must be 'wb' or 'w', got 'a'"):
        with files.atomic_writer(tmp_path / "x", "a"):
            pass


def test_temp_file_lives_in_the_destination_folder(tmp_path, monkeypatch):
    seen = []
    real = os.replace

    def spy(src, dst):
        seen.append((os.path.dirname(src), os.path.dirname(dst)))
        real(src, dst)

    monkeypatch.setattr(files.os, "replace", spy)
    atomic_write_text(tmp_path / "d" / "f.txt", "x")
    assert seen == [(str(tmp_path / "d"), str(tmp_path / "d"))]


def test_a_checkpoint_that_fills_the_disk_says_so(tmp_path, monkeypatch):
    """torch's zip writer turns a failed write into 'unexpected pos ...': the message said nothing of the disk."""
    import collections
    import errno

    import torch

    from lpgeom.utils import files

    def failing_save(obj, fh):
        fh.write(b"partial")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 1767872 vs 1767760")

    monkeypatch.setattr(torch, "save", failing_save)
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(files.shutil, "disk_usage", lambda folder: usage(10, 10, 0))
    with pytest.raises(OSError, match="the disk is full") as err:
        files.atomic_torch_save({"w": 1}, tmp_path / "last.pt")
    assert err.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []  # no temporary file left
    monkeypatch.setattr(files.shutil, "disk_usage", lambda folder: usage(10, 0, 1 << 30))
    with pytest.raises(OSError, match="unexpected pos"):  # room left: torch's own failure, not a full disk
        files.atomic_torch_save({"w": 1}, tmp_path / "last.pt")


def test_stale_temporaries_are_only_the_ones_lpgeom_names(tmp_path):
    """A killed writer's '.<name>.<12 hex>.tmp' goes; a user's '.model.pt.backup.tmp' stays (hostile round T03)."""
    own = tmp_path / ".model.pt.0123456789ab.tmp"
    user = tmp_path / ".model.pt.backup.tmp"
    other = tmp_path / ".model.pt.0123456789abcd.tmp"  # 14 hex digits: not a name lpgeom makes
    for path in (own, user, other):
        path.write_bytes(b"x")
    removed = files.remove_stale_temporaries(tmp_path, ("model.pt",))
    assert removed == [own] and not own.exists() and user.exists() and other.exists()
