"""No file lpgeom writes is opened through a symbolic link (issue 27): every writer, lock included.

For each writer the file it writes is replaced by a link, once to an existing file outside
the folder (its content must stay as it was) and once dangling (its target must not be
created). The writer must refuse with ``LinkRefusedError`` (an ``OSError``, ``errno.ELOOP``)
naming the path.
"""
import errno
import json
import os

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from lpgeom.evaluation import RobustnessReport
from lpgeom.models.checkpoints import write_state_dict
from lpgeom.threats import LpBall, ThreatUnion
from lpgeom.training import TrainConfig, build_scheme, save_checkpoint, train
from lpgeom.training.lock import RunLock
from lpgeom.training.metrics import MetricsLog
from lpgeom.utils import (LinkRefusedError, atomic_torch_save, atomic_write_bytes, atomic_write_json,
                          atomic_write_text, atomic_writer, open_append, open_lock)

VICTIM = '{"global_step": 5}\n' + "precious data, not lpgeom's\n" * 100


def _report():
    return RobustnessReport(model="m", n_points=2, clean_accuracy=0.5, robust_accuracy={"Linf": 0.5},
                            union_accuracy=0.5, eps={"Linf": 0.1}, method="apgd", n_iter=1, seed=0,
                            per_point={"clean": torch.tensor([True, False]), "Linf": torch.tensor([True, False]),
                                       "union": torch.tensor([True, False])})


def _tiny_train(run):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    data = TensorDataset(torch.rand(8, 1, 2, 2), torch.arange(8) % 2)
    threats = ThreatUnion([LpBall("inf", 0.1)])
    train(model, data, build_scheme("natural", threats), TrainConfig(epochs=1, batch_size=4, progress=False), run)


def _checkpoint_previous(run):
    atomic_torch_save({"stand-in": 1}, run / "last.pt")  # a real last.pt: moved to previous.pt, a link
    save_checkpoint({"x": torch.zeros(1)}, run)


WRITERS = {  # name -> (file written, relative to the folder; the writer given the folder)
    "atomic_write_text": ("f.txt", lambda d: atomic_write_text(d / "f.txt", "x")),
    "atomic_write_bytes": ("f.bin", lambda d: atomic_write_bytes(d / "f.bin", b"x")),
    "atomic_write_json": ("f.json", lambda d: atomic_write_json(d / "f.json", {"a": 1})),
    "atomic_torch_save": ("f.pt", lambda d: atomic_torch_save({"a": 1}, d / "f.pt")),
    "open_append": ("f.log", lambda d: open_append(d / "f.log").close()),
    "open_lock": ("f.lock", lambda d: os.close(open_lock(d / "f.lock"))),
    "RunLock": (".lock", lambda d: RunLock(d).acquire()),
    "MetricsLog.write": ("metrics.jsonl", lambda d: MetricsLog(d).write({"global_step": 1})),
    "MetricsLog.truncate_after": ("metrics.jsonl", lambda d: MetricsLog(d).truncate_after(0)),
    "save_checkpoint last.pt": ("last.pt", lambda d: save_checkpoint({"x": torch.zeros(1)}, d)),
    "save_checkpoint previous.pt": ("previous.pt", _checkpoint_previous),
    "write_state_dict": ("model.pt", lambda d: write_state_dict({"w": torch.zeros(1)}, d / "model.pt")),
    "write_state_dict digest": ("model.pt.sha256", lambda d: write_state_dict({"w": torch.zeros(1)}, d / "model.pt")),
    "RobustnessReport.to_json (eval --out)": ("r.json", lambda d: _report().to_json(d / "r.json")),
    "RobustnessReport.to_csv (eval --out)": ("r.csv", lambda d: _report().to_csv(d / "r.csv")),
    **{f"train {name}": (name, _tiny_train) for name in
       (".lock", "config.json", "metrics.jsonl", "last.pt", "model.pt", "model.pt.sha256")},
}


@pytest.mark.parametrize("dangling", [False, True], ids=["link", "dangling-link"])
@pytest.mark.parametrize("writer", list(WRITERS))
def test_every_writer_refuses_a_link_and_leaves_its_target_alone(tmp_path, writer, dangling):
    name, write = WRITERS[writer]
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim"
    if not dangling:
        victim.write_text(VICTIM)
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / name).symlink_to(victim)
    with pytest.raises(LinkRefusedError, match="symbolic link") as info:
        write(folder)
    assert info.value.errno == errno.ELOOP and str(folder / name) in str(info.value)
    assert (folder / name).is_symlink()
    if dangling:
        assert not victim.exists() and os.listdir(outside) == []
    else:
        assert victim.read_text() == VICTIM and os.listdir(outside) == ["victim"]


def test_a_link_put_in_place_during_an_atomic_write_is_refused(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text(VICTIM)
    dest = tmp_path / "run" / "f.txt"
    with pytest.raises(LinkRefusedError):
        with atomic_writer(dest, "w") as fh:
            fh.write("new")
            dest.symlink_to(victim)
    assert victim.read_text() == VICTIM and not [p for p in dest.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_linked_folder_inside_the_root_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "results"
    root.mkdir()
    (root / "smoke").symlink_to(outside)
    for write in (lambda: atomic_write_json(root / "smoke" / "u.json", {}, root=root),
                  lambda: open_append(root / "smoke" / "u.log", root=root),
                  lambda: atomic_write_json(root / "smoke" / "deeper" / "u.json", {}, root=root)):
        with pytest.raises(LinkRefusedError, match=f"{root / 'smoke'}"):
            write()
    assert os.listdir(outside) == []
    with pytest.raises(ValueError, match="outside the folder"):
        atomic_write_json(tmp_path / "elsewhere.json", {}, root=root)
    assert not (tmp_path / "elsewhere.json").exists()
    # the folder the user named may itself be a link: it is theirs to choose
    (tmp_path / "alias").symlink_to(root)
    atomic_write_json(tmp_path / "alias" / "new" / "u.json", {"a": 1}, root=tmp_path / "alias")
    assert json.loads((root / "new" / "u.json").read_text()) == {"a": 1}


def test_the_study_record_and_the_chapter_eval_refuse_a_linked_folder(tmp_path):
    from lpgeom.experiments.chapter_runs import evaluate_resumable

    outside = tmp_path / "outside"
    outside.mkdir()
    run = tmp_path / "run"
    run.mkdir()
    (run / "eval").symlink_to(outside)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    data = TensorDataset(torch.rand(4, 1, 2, 2), torch.arange(4) % 3)
    with pytest.raises(LinkRefusedError, match="eval"):
        evaluate_resumable(model, data, ThreatUnion([LpBall("inf", 0.1)]), run, chunk=2, progress=False,
                           method="apgd", n_iter=1)
    assert os.listdir(outside) == []
    (run / "eval").unlink()
    (run / "eval").mkdir()
    victim = outside / "victim"
    victim.write_text(VICTIM)
    (run / "eval" / "chunk_000000.json").symlink_to(outside / "dangling")
    with pytest.raises(LinkRefusedError, match="chunk_000000"):
        evaluate_resumable(model, data, ThreatUnion([LpBall("inf", 0.1)]), run, chunk=2, progress=False,
                           method="apgd", n_iter=1)
    assert os.listdir(outside) == ["victim"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_files_respect_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        atomic_torch_save({"a": 1}, tmp_path / "a.pt")
        open_append(tmp_path / "a.log").close()
        RunLock(tmp_path / "run").acquire().release()
        write_state_dict({"w": torch.zeros(1)}, tmp_path / "model.pt")
    finally:
        os.umask(old)
    for name in ("a.txt", "a.pt", "a.log", "run/.lock", "model.pt", "model.pt.sha256"):
        assert oct((tmp_path / name).stat().st_mode & 0o777) == oct(mode), name
