"""No silent wrong results, no lost runs: fingerprint, lock, checkpoint integrity, divergence, torn logs, disk faults."""
import errno
import json
import os
import subprocess
import sys
import time

import pytest
import torch
from torch.utils.data import TensorDataset

from lpgeom.data import fashion_mnist, subset, tensors
from lpgeom.models import build_model
from lpgeom.models.checkpoints import CheckpointError
from lpgeom.threats import LpBall, ThreatUnion, fashion_mnist_threats
from lpgeom.training import TrainConfig, build_scheme, load_latest, read_metrics, save_checkpoint, train
from lpgeom.training.lock import RunLock, RunLockedError
from lpgeom.training.step import TrainingDiverged


@pytest.fixture(scope="module")
def data():
    x, y = tensors(subset(fashion_mnist(True), 256, seed=0))
    return TensorDataset(x, y)


def make(width=8, seed=0):
    torch.manual_seed(seed)
    return build_model("small_cnn", width=width)


def natural():
    return build_scheme("natural", fashion_mnist_threats())


def config(**kw):
    return TrainConfig(**{"epochs": 1, "batch_size": 64, "progress": False, **kw})


# --- the resume fingerprint covers what defines a run ----------------------------------------------------------


def other_radii():
    return ThreatUnion([b.with_eps(b.eps * 2) for b in fashion_mnist_threats()])


CHANGES = {  # what changes on resume -> the field the refusal names
    "radii": (dict(scheme=lambda: build_scheme("linf", other_radii(), n_iter=1)), "scheme.eps"),
    "attack steps": (dict(scheme=lambda: build_scheme("linf", fashion_mnist_threats(), n_iter=2)), "attacks"),
    "scheme": (dict(scheme=lambda: build_scheme("l2", fashion_mnist_threats(), n_iter=1)), "scheme.scheme"),
    "n_train": (dict(data=lambda d: TensorDataset(d.tensors[0][:192], d.tensors[1][:192])), "data.size"),
    "data content": (dict(data=lambda d: TensorDataset(d.tensors[0].flip(0), d.tensors[1].flip(0))), "data.sha256"),
    "architecture": (dict(model=lambda: make(width=16)), "model.shapes_sha256"),
    "seed": (dict(config=dict(seed=1)), "config.seed"),
    "epochs": (dict(config=dict(epochs=2)), "config.epochs"),
    "recipe": (dict(config=dict(weight_decay=0.0)), "config.weight_decay"),
    "describe": (dict(describe={"dataset": "cifar10"}), "describe.dataset"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_resume_with_anything_else_is_refused_naming_the_field(data, tmp_path, change):
    what, field = CHANGES[change]
    base_scheme = lambda: build_scheme("linf", fashion_mnist_threats(), n_iter=1)  # noqa: E731
    train(make(), data, base_scheme(), config(stop_after_steps=1), tmp_path, resume=False,
          describe={"dataset": "fashion_mnist", "command": "a"})
    with pytest.raises(ValueError, match=rf"another configuration.*Differences: .*{field}"):
        train(what.get("model", make)(), what.get("data", lambda d: d)(data), what.get("scheme", base_scheme)(),
              config(**what.get("config", {})), tmp_path,
              describe=what.get("describe", {"dataset": "fashion_mnist", "command": "b"}))


def test_resume_with_the_same_run_and_another_command_line_goes_on(data, tmp_path):
    train(make(), data, natural(), config(epochs=2, stop_after_steps=3), tmp_path, resume=False,
          describe={"command": "lpgeom train --no-progress"})
    result = train(make(), data, natural(), config(epochs=2, log_every=2, workers=0), tmp_path,
                   describe={"command": "lpgeom train"})
    assert result.finished and result.global_step == 8


def test_overwrite_removes_the_earlier_run(data, tmp_path):
    from lpgeom.models.checkpoints import file_sha256

    model = make()
    train(model, data, natural(), config(), tmp_path, resume=False)
    assert (tmp_path / "model.pt").is_file()
    # the sidecar is the file's sha256 in sha256sum format (its content digest is the record's model_sha256)
    assert (tmp_path / "model.pt.sha256").read_text().split()[0] == file_sha256(tmp_path / "model.pt")
    train(make(), data, natural(), config(stop_after_steps=1, seed=3), tmp_path, resume=False, overwrite=True)
    assert not (tmp_path / "model.pt").exists() and not (tmp_path / "previous.pt").exists()
    assert not (tmp_path / "model.pt.sha256").exists()
    assert int(load_latest(tmp_path)["global_step"]) == 1


# --- one writer per run dir -------------------------------------------------------------------------------------


def test_second_writer_is_refused_with_the_holders_pid(data, tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(tmp_path / '.lock')!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "os.write(fd, str(os.getpid()).encode())\n"
        "print('locked', flush=True)\n"
        "time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        t = time.perf_counter()
        with pytest.raises(RunLockedError, match=rf"being written by another process \(PID {holder.pid}\)"):
            train(make(), data, natural(), config(), tmp_path, resume=False)
        assert time.perf_counter() - t < 5, "the refusal must come at once"
        assert not (tmp_path / "last.pt").exists()
    finally:
        holder.kill()
        holder.wait()
    # the holder died (SIGKILL): its lock is stale and the next writer takes it over
    assert train(make(), data, natural(), config(), tmp_path, resume=False).finished
    assert (tmp_path / ".lock").read_text().strip() == str(os.getpid())


def test_lock_in_one_process_and_stale_pid_file(tmp_path):
    (tmp_path / ".lock").write_text("999999999\n")  # a dead writer's PID, lock not held
    with RunLock(tmp_path) as first:
        assert first.held and (tmp_path / ".lock").read_text().strip() == str(os.getpid())
        with pytest.raises(RunLockedError, match=rf"PID {os.getpid()}"):
            RunLock(tmp_path).acquire()
    with RunLock(tmp_path):
        pass


# --- checkpoint integrity ----------------------------------------------------------------------------------------


def flip_tensor_bytes(path, tensor, n=200):
    blob = bytearray(path.read_bytes())
    at = blob.find(tensor.numpy().tobytes())
    assert at > 0, "tensor bytes not found in the file"
    for i in range(at + 40, at + 40 + n):
        blob[i] ^= 0xFF
    path.write_bytes(bytes(blob))


def test_flipped_bytes_are_detected_and_previous_is_used(tmp_path):
    w1, w2 = torch.arange(1000, dtype=torch.float32), torch.arange(1000, dtype=torch.float32) * 2
    save_checkpoint({"w": w1, "step": 1}, tmp_path)
    save_checkpoint({"w": w2, "step": 2}, tmp_path)
    flip_tensor_bytes(tmp_path / "last.pt", w2)
    assert torch.load(tmp_path / "last.pt", weights_only=True)["step"] == 2, "torch alone loads the corrupt file"
    with pytest.warns(UserWarning, match="last.pt.*does not match its SHA-256 digest.*resuming from .*previous.pt"):
        state = load_latest(tmp_path)
    assert state["step"] == 1 and torch.equal(state["w"], w1) and "sha256" not in state
    flip_tensor_bytes(tmp_path / "previous.pt", w1)
    with pytest.raises(CheckpointError, match="no readable checkpoint in .*does not match its SHA-256 digest"):
        load_latest(tmp_path)


def test_checkpoint_without_digest_is_refused_like_a_corrupt_one(tmp_path):
    save_checkpoint({"step": 4}, tmp_path)
    save_checkpoint({"step": 5}, tmp_path)
    torch.save({"step": 5}, tmp_path / "last.pt")  # replaced by a file without a digest
    with pytest.warns(UserWarning, match=r"last\.pt: CheckpointError: it carries no digest.*resuming from .*previous"):
        assert load_latest(tmp_path)["step"] == 4
    (tmp_path / "previous.pt").unlink()
    with pytest.raises(CheckpointError, match="no readable checkpoint in .*carries no digest"):
        load_latest(tmp_path)


# --- non-finite training stops, keeping the last good checkpoint -------------------------------------------------


def test_lr_nan_is_refused():
    with pytest.raises(ValueError, match="lr must be a finite number > 0, got nan"):
        TrainConfig(lr=float("nan"))


def test_divergence_stops_with_the_last_good_checkpoint_kept(data, tmp_path):
    class GoesNaN(type(natural())):
        def training_loss(self, model, x, y, ctx):
            loss, stats = super().training_loss(model, x, y, ctx)
            return (loss * float("nan") if ctx.global_step >= 2 else loss), stats

    with pytest.raises(TrainingDiverged, match=r"not finite since step 3.*keeps the checkpoint of step 2 \(last.pt\)"):
        train(make(), data, GoesNaN(), config(epochs=2, checkpoint_every=2, log_every=100), tmp_path, resume=False)
    state = load_latest(tmp_path)
    assert int(state["global_step"]) == 2
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())
    assert not (tmp_path / "model.pt").exists(), "a diverged run must not be marked finished"


# --- torn metrics, whole-epoch summaries after a resume ----------------------------------------------------------


def test_torn_last_metrics_line_is_dropped_on_resume(data, tmp_path):
    train(make(), data, natural(), config(epochs=2, stop_after_steps=3, checkpoint_every=2, log_every=1), tmp_path,
          resume=False)
    with open(tmp_path / "metrics.jsonl", "a") as fh:
        fh.write('{"kind": "step", "epoch": 0, "st')  # a kill during the append
    assert [r["global_step"] for r in read_metrics(tmp_path, kind="step")] == [1, 2, 3]
    result = train(make(), data, natural(), config(epochs=2, checkpoint_every=2, log_every=1), tmp_path)
    assert result.finished
    assert [r["global_step"] for r in read_metrics(tmp_path, kind="step")] == list(range(1, 9))


def test_bad_metrics_line_in_the_middle_names_file_and_line(tmp_path):
    (tmp_path / "metrics.jsonl").write_text('{"kind": "step"}\n{oops\n{"kind": "epoch"}\n')
    with pytest.raises(ValueError, match=r"metrics.jsonl line 2 is not a JSON record"):
        read_metrics(tmp_path)


def test_epoch_summary_after_a_mid_epoch_resume_covers_the_whole_epoch(data, tmp_path):
    scheme = lambda: build_scheme("eat", fashion_mnist_threats(), n_iter=1)  # noqa: E731
    full = train(make(), data, scheme(), config(log_every=1), tmp_path / "full", resume=False)
    train(make(), data, scheme(), config(log_every=1, stop_after_steps=2), tmp_path / "part", resume=False)
    resumed = train(make(), data, scheme(), config(log_every=1), tmp_path / "part")

    def strip(records):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in records]

    assert strip(resumed.epochs) == strip(full.epochs)
    assert strip(read_metrics(tmp_path / "part")) == strip(read_metrics(tmp_path / "full"))
    assert resumed.epochs[0]["seconds"] > 0


# --- disk faults: one clear message, no temporary files ----------------------------------------------------------


def test_disk_full_while_checkpointing(data, tmp_path, monkeypatch):
    def full_disk(obj, fh, *a, **k):
        fh.write(b"x" * 100)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(OSError, match=r"could not write .*last\.pt: the disk is full"):
        train(make(), data, natural(), config(checkpoint_every=1), tmp_path / "run", resume=False)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [".lock", ".lpgeom-run.json", "config.json"], \
        "no temp file left"


def test_run_dir_that_is_a_file(data, tmp_path):
    (tmp_path / "run").write_text("x")
    with pytest.raises(NotADirectoryError, match=r"run_dir .*run is a file, not a folder"):
        train(make(), data, natural(), config(), tmp_path / "run")


def test_read_only_run_dir(data, tmp_path, monkeypatch):
    import lpgeom.training.lock as lock

    def read_only(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(lock.os, "open", read_only)
    with pytest.raises(OSError, match=r"could not create the lock file .*\.lock: Read-only file system"):
        train(make(), data, natural(), config(), tmp_path)


# --- statistics are read only at log steps -----------------------------------------------------------------------


def test_statistics_are_read_only_at_log_steps_and_epoch_ends(data, tmp_path, monkeypatch):
    from lpgeom.training import stats as stats_module

    reads = []
    real_to_floats, real_means = stats_module.StepStats.to_floats, stats_module.StatsTotals.means
    monkeypatch.setattr(stats_module.StepStats, "to_floats", lambda self: reads.append("step") or real_to_floats(self))
    monkeypatch.setattr(stats_module.StatsTotals, "means", lambda self: reads.append("epoch") or real_means(self))
    train(make(), data, natural(), config(epochs=2, batch_size=32, log_every=3), tmp_path, resume=False)
    # 8 steps per epoch: global steps 3, 6, 8 (epoch end) | 9, 12, 15, 16 (epoch end)
    assert reads == ["step"] * 3 + ["epoch"] + ["step"] * 4 + ["epoch"]


def test_bad_config_values_are_named():
    with pytest.raises(ValueError, match="workers must be an integer >= 0, got -1"):
        TrainConfig(workers=-1)
    with pytest.raises(ValueError, match="select must be 'last' or 'best', got 'first'"):
        TrainConfig(select="first")
    with pytest.raises(ValueError, match="select='best' needs holdout > 0"):
        TrainConfig(select="best")
    with pytest.raises(ValueError, match="checkpoint_every must be an integer >= 0, got -2"):
        TrainConfig(checkpoint_every=-2)
    with pytest.raises(ValueError, match="stop_after_steps must be an integer >= 1, got 0"):
        TrainConfig(stop_after_steps=0)


def test_fingerprint_lists_the_attacks(data):
    from lpgeom.training.fingerprint import run_fingerprint

    fp = run_fingerprint(make(), data, build_scheme("eat", fashion_mnist_threats(), n_iter=3), config().fingerprint())
    assert len(fp["attacks"]) >= 2 and all("n_iter=3" in a for a in fp["attacks"])
    assert json.loads(json.dumps(fp)) == fp
    assert fp["data"]["size"] == 256 and fp["model"]["class"]
    assert LpBall(1, 1.0).name in json.dumps(fp["attacks"]) or "L1" in json.dumps(fp["scheme"])


def test_resume_under_another_thread_count_warns(data, tmp_path):
    threads = torch.get_num_threads()
    train(make(), data, natural(), config(stop_after_steps=1), tmp_path, resume=False)
    torch.set_num_threads(threads + 1)
    try:
        with pytest.warns(UserWarning, match=rf"another numerical environment \(threads: {threads} \(saved\) vs "
                                             rf"{threads + 1} \(now\)\).*not be bit-identical"):
            assert train(make(), data, natural(), config(), tmp_path).finished
    finally:
        torch.set_num_threads(threads)
    assert json.loads((tmp_path / "config.json").read_text())["environment"]["threads"] == threads


def test_checkpoint_of_an_older_lpgeom_is_refused_clearly(data, tmp_path):
    model = make()
    state = {"model": model.state_dict(), "optimizer": {}, "scheme": {}, "epoch": 0, "step": 1, "global_step": 1,
             "config": "{}"}
    save_checkpoint(state, tmp_path)
    with pytest.raises(ValueError, match="written by an older lpgeom without a run fingerprint"):
        train(model, data, natural(), config(), tmp_path)


# --- no file lpgeom did not write is replaced or deleted without overwrite (issue 27) -----------------------------


def test_foreign_config_and_metrics_are_never_replaced_without_overwrite(data, tmp_path):
    """A folder holding a config.json and metrics.jsonl lpgeom did not write: refused; with overwrite, a warning."""
    foreign = {"config.json": '{"mine": "a notebook\'s settings"}\n', "metrics.jsonl": '{"loss": 0.1}\n' * 50}
    for name, text in foreign.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(ValueError, match=r"holds config\.json, metrics\.jsonl, which starting this run would "
                                         r"replace or delete.*overwrite=True"):
        train(make(), data, natural(), config(), tmp_path)
    assert {n: (tmp_path / n).read_text() for n in foreign} == foreign
    with pytest.warns(UserWarning, match=r"overwrite=True: replacing the earlier contents of .*metrics\.jsonl deleted, "
                                         r"config\.json replaced"):
        train(make(), data, natural(), config(stop_after_steps=1), tmp_path, overwrite=True)
    assert "mine" not in (tmp_path / "config.json").read_text()


def test_a_run_whose_weights_were_moved_away_is_not_replaced_silently(data, tmp_path):
    run = tmp_path / "run"
    train(make(), data, natural(), config(), run)
    away = tmp_path / "away"
    away.mkdir()
    for name in os.listdir(run):
        if name.endswith((".pt", ".sha256")):
            os.replace(run / name, away / name)
    metrics = (run / "metrics.jsonl").read_text()
    with pytest.raises(ValueError, match=r"holds config\.json, metrics\.jsonl.*weights were moved away"):
        train(make(), data, natural(), config(), run)
    assert (run / "metrics.jsonl").read_text() == metrics


def test_a_start_killed_before_its_first_checkpoint_restarts_without_overwrite(data, tmp_path, monkeypatch):
    """The files a start of this very run left before its first checkpoint are its own: the restart is allowed,
    and ends with the weights of an uninterrupted run."""
    import lpgeom.training.loop as loop

    clean = make()
    train(clean, data, natural(), config(log_every=1), tmp_path / "clean")
    real, calls = loop.training_step, []

    def killed(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(loop, "training_step", killed)
    with pytest.raises(KeyboardInterrupt):
        train(make(), data, natural(), config(log_every=1), tmp_path / "run")
    monkeypatch.setattr(loop, "training_step", real)
    assert not (tmp_path / "run" / "last.pt").exists() and (tmp_path / "run" / "metrics.jsonl").exists()
    model = make()
    train(model, data, natural(), config(log_every=1), tmp_path / "run")
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), clean.state_dict().values()))
    # another configuration in the same folder is not this run: refused
    (tmp_path / "run" / "model.pt").unlink()
    (tmp_path / "run" / "model.pt.sha256").unlink()
    for name in ("last.pt", "previous.pt"):
        (tmp_path / "run" / name).unlink(missing_ok=True)
    with pytest.raises(ValueError, match="lpgeom did not write them for it"):
        train(make(), data, natural(), config(seed=5), tmp_path / "run")
