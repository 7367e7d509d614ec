"""A run is never replaced without asking, config.json follows the checkpoint, amp is real on the CPU, bad
arguments and data are refused with one sentence naming them."""
import json

import pytest
import torch
from torch.utils.data import TensorDataset

from lpgeom.data import fashion_mnist, subset, tensors
from lpgeom.models import build_model
from lpgeom.threats import fashion_mnist_threats
from lpgeom.training import TrainConfig, build_scheme, load_latest, read_metrics, train


@pytest.fixture(scope="module")
def data():
    x, y = tensors(subset(fashion_mnist(True), 128, seed=0))
    return TensorDataset(x, y)


def make(seed=0):
    torch.manual_seed(seed)
    return build_model("small_cnn", width=4)


def natural():
    return build_scheme("natural", fashion_mnist_threats())


def config(**kw):
    return TrainConfig(**{"epochs": 1, "batch_size": 64, "progress": False, **kw})


# --- a finished (or unfinished) run is never deleted without overwrite=True --------------------------------------


def test_resume_false_on_a_finished_run_is_refused_and_keeps_it(data, tmp_path):
    train(make(), data, natural(), config(), tmp_path)
    weights = (tmp_path / "model.pt").read_bytes()
    with pytest.raises(ValueError, match=r"holds a finished run \(model\.pt\) that starting afresh would delete; "
                                         r"pass overwrite=True \(CLI: --overwrite\)"):
        train(make(), data, natural(), config(seed=3), tmp_path, resume=False)
    assert (tmp_path / "model.pt").read_bytes() == weights and (tmp_path / "last.pt").exists()
    assert len(read_metrics(tmp_path, kind="epoch")) == 1


def test_resume_false_on_an_unfinished_run_is_refused(data, tmp_path):
    train(make(), data, natural(), config(stop_after_steps=1), tmp_path)
    with pytest.raises(ValueError, match=r"holds an unfinished run \(last\.pt\) that resume=False would delete"):
        train(make(), data, natural(), config(), tmp_path, resume=False)
    assert int(load_latest(tmp_path)["global_step"]) == 1


def test_weights_without_checkpoints_are_not_deleted_by_a_fresh_start(data, tmp_path):
    train(make(), data, natural(), config(), tmp_path)
    (tmp_path / "last.pt").unlink()  # a finished run whose checkpoints were cleaned up
    with pytest.raises(ValueError, match=r"holds a finished run \(model\.pt\)"):
        train(make(), data, natural(), config(), tmp_path)
    assert (tmp_path / "model.pt").exists()


def test_overwrite_replaces_the_run(data, tmp_path):
    train(make(), data, natural(), config(), tmp_path)
    result = train(make(), data, natural(), config(seed=3, stop_after_steps=1), tmp_path, resume=False, overwrite=True)
    assert result.global_step == 1 and not (tmp_path / "model.pt").exists()
    assert json.loads((tmp_path / "config.json").read_text())["config"]["seed"] == 3


# --- config.json is the run's record again on resume ------------------------------------------------------------


@pytest.mark.parametrize("damage", ["corrupt", "deleted", "edited"])
def test_config_json_is_restored_on_resume(data, tmp_path, damage):
    train(make(), data, natural(), config(epochs=2, stop_after_steps=1), tmp_path, describe={"command": "first"})
    original = (tmp_path / "config.json").read_text()
    path = tmp_path / "config.json"
    if damage == "corrupt":
        path.write_text('{"config": {"epochs": 2, "l')
    elif damage == "deleted":
        path.unlink()
    else:
        path.write_text(original.replace('"lr": 0.05', '"lr": 0.5'))
    problem = {"corrupt": "was not a readable JSON record", "deleted": "was missing",
               "edited": "differed from the run's settings"}[damage]
    with pytest.warns(UserWarning, match=rf"config\.json {problem}; rewritten from the run's checkpoint"):
        assert train(make(), data, natural(), config(epochs=2, log_every=3), tmp_path,
                     describe={"command": "second"}).finished
    assert path.read_text() == original
    assert not list(tmp_path.glob(".*tmp")), "the rewrite left a temporary file"


def test_intact_config_json_is_left_alone_on_resume(data, tmp_path, recwarn):
    train(make(), data, natural(), config(epochs=2, stop_after_steps=1), tmp_path, describe={"command": "first"})
    before = (tmp_path / "config.json").stat().st_mtime_ns
    train(make(), data, natural(), config(epochs=2), tmp_path, describe={"command": "second"})
    assert (tmp_path / "config.json").stat().st_mtime_ns == before
    assert json.loads((tmp_path / "config.json").read_text())["command"] == "first"
    assert not [w for w in recwarn if "config.json" in str(w.message)]


# --- amp is real on the CPU, and the default path is untouched ---------------------------------------------------


def test_amp_autocasts_on_the_cpu_and_is_recorded(data, tmp_path):
    dtypes = set()
    model = make()
    model.register_forward_hook(lambda module, args, out: dtypes.add(out.dtype) if module.training else None)
    result = train(model, data, natural(), config(amp=True), tmp_path / "amp")
    assert result.finished and dtypes == {torch.bfloat16}
    assert json.loads((tmp_path / "amp" / "config.json").read_text())["autocast"] == "bfloat16"
    plain = make()
    dtypes.clear()
    plain.register_forward_hook(lambda module, args, out: dtypes.add(out.dtype) if module.training else None)
    train(plain, data, natural(), config(), tmp_path / "fp32")
    assert dtypes == {torch.float32}
    assert json.loads((tmp_path / "fp32" / "config.json").read_text())["autocast"] is None
    assert any(not torch.equal(a, b) for a, b in zip(model.state_dict().values(), plain.state_dict().values()))


def test_amp_runs_an_adversarial_scheme_on_the_cpu(data, tmp_path):
    result = train(make(), data, build_scheme("eat", fashion_mnist_threats(), n_iter=2), config(amp=True, log_every=1),
                   tmp_path)
    assert result.finished and all(torch.isfinite(torch.tensor(r["loss"])) for r in read_metrics(tmp_path, "step"))


# --- TrainConfig fields -------------------------------------------------------------------------------------------


BAD_FIELDS = [
    (dict(device="foo"), ValueError, "device must be 'cpu', 'cuda' or 'cuda:N', got 'foo'"),
    (dict(device=0), ValueError, r"device must be 'cpu', 'cuda' or 'cuda:N' \(a str or torch.device\), got 0"),
    (dict(device="meta"), ValueError, "device must be 'cpu', 'cuda' or 'cuda:N', got 'meta'"),
    (dict(momentum=2.0), ValueError, r"momentum must be a finite number in \[0, 1\), got 2.0"),
    (dict(momentum=1), ValueError, r"momentum must be a finite number in \[0, 1\), got 1"),
    (dict(momentum=-0.5), ValueError, r"momentum must be a finite number in \[0, 1\), got -0.5"),
    (dict(lr_factor=10.0), ValueError, r"lr_factor must be a finite number in \(0, 1\], got 10.0"),
    (dict(weight_decay=float("inf")), ValueError, r"weight_decay must be a finite number in \[0, 1\], got inf"),
    (dict(weight_decay=1e300), ValueError, r"weight_decay must be a finite number in \[0, 1\], got 1e\+300"),
    (dict(weight_decay=10**400), ValueError, r"weight_decay must be .*beyond the float range"),
    (dict(lr="0.1"), TypeError, r"lr must be a finite number > 0, got '0.1' \(str\)"),
    (dict(seed=2**70), ValueError, r"seed must be an integer in \[0, 2\*\*64 - 1\], got 1180591620717411303424"),
    (dict(seed=-1), ValueError, r"seed must be an integer in \[0, 2\*\*64 - 1\], got -1"),
    (dict(epochs=True), TypeError, r"epochs must be an integer >= 1, got True \(bool\)"),
    (dict(epochs=0), ValueError, "epochs must be an integer >= 1, got 0"),
    (dict(batch_size=float("nan")), TypeError, r"batch_size must be an integer >= 1, got nan \(float\)"),
    (dict(stop_after_steps=0), ValueError, "stop_after_steps must be an integer >= 1, got 0"),
    (dict(workers=-1), ValueError, "workers must be an integer >= 0, got -1"),
    (dict(amp="no"), TypeError, "amp must be True or False, got 'no'"),
    (dict(augment=1), TypeError, "augment must be True or False, got 1"),
    (dict(milestones="0.5"), ValueError, r"milestones must be a sequence of fractions of training in \(0, 1\), got '0.5'"),
    (dict(milestones=None), ValueError, r"milestones must be a sequence of fractions of training in \(0, 1\), got None"),
    (dict(milestones=(float("nan"),)), ValueError, "milestones must be increasing fractions"),
]


@pytest.mark.parametrize("fields, error, message", BAD_FIELDS, ids=[str(f) for f, _, _ in BAD_FIELDS])
def test_bad_config_fields_are_named(fields, error, message):
    """TypeError for the wrong kind of value, ValueError out of range: the contract of geometry.check_integer /
    check_real and utils.check_seed (TrainConfig had its own copy raising ValueError for both)."""
    with pytest.raises(error, match=message):
        TrainConfig(**fields)


def test_numpy_numbers_are_accepted_as_plain_ones():
    np = pytest.importorskip("numpy")
    cfg = TrainConfig(epochs=np.int64(3), lr=np.float64(0.1), seed=np.uint32(7))
    assert (type(cfg.epochs), type(cfg.lr), type(cfg.seed)) == (int, float, int) and cfg.seed == 7


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu_is_refused_at_the_start(data, tmp_path):
    with pytest.raises(ValueError, match="device 'cuda': CUDA is not available on this machine; use device='cpu'"):
        train(make(), data, natural(), config(device="cuda"), tmp_path)
    assert not (tmp_path / "config.json").exists()


# --- train()'s arguments and data ----------------------------------------------------------------------------------


def test_bad_arguments_are_named(data, tmp_path):
    cases = [
        (dict(run_dir=""), ValueError, r"run_dir must name a folder \(not empty, no NUL character\), got ''"),
        (dict(run_dir=None), TypeError, "run_dir must be a path"),
        (dict(model=lambda x: x), TypeError, "model must be a torch.nn.Module, got function"),
        (dict(scheme="eat"), TypeError, r"scheme must be a Scheme \(build_scheme\(name, threats\)\), got str"),
        (dict(config={"epochs": 1}), TypeError, "config must be a TrainConfig, got dict"),
        (dict(resume="no"), TypeError, "resume must be True or False, got 'no'"),
        (dict(select_threats=[1]), TypeError, "select_threats must be a ThreatUnion, got list"),
    ]
    for change, kind, message in cases:
        args = {"model": make(), "dataset": data, "scheme": natural(), "config": config(), "run_dir": tmp_path / "r",
                **change}
        with pytest.raises(kind, match=message):
            train(**args)
    assert not (tmp_path / "r").exists()


def labels(y_dtype_change):
    x = torch.rand(64, 1, 28, 28)
    y = torch.randint(0, 10, (64,))
    return TensorDataset(x, y_dtype_change(y))


BAD_DATA = {
    "float labels": (lambda: labels(lambda y: y.float()), TypeError, "dataset: y must hold integer class labels"),
    "fractional labels": (lambda: labels(lambda y: y.float() + 0.7), TypeError, "dataset: y must hold integer"),
    "bool labels": (lambda: labels(lambda y: y > 4), TypeError, "dataset: y must hold integer class labels"),
    "complex labels": (lambda: labels(lambda y: y.to(torch.complex64)), TypeError, "dataset: y must hold integer"),
    "one-hot labels": (lambda: labels(lambda y: torch.nn.functional.one_hot(y, 10)), ValueError,
                       r"dataset: y must have shape \(64,\)"),
    "label 10 of 10 classes": (lambda: labels(lambda y: torch.where(y == 3, 10, y)), ValueError,
                               r"dataset: y holds a label 10 but the model has 10 classes"),
    "float16 images": (lambda: TensorDataset(torch.rand(64, 1, 28, 28).half(), torch.zeros(64, dtype=torch.long)),
                       TypeError, "dataset: x has dtype torch.float16 but the model's parameters are torch.float32"),
    "float64 images": (lambda: TensorDataset(torch.rand(64, 1, 28, 28).double(), torch.zeros(64, dtype=torch.long)),
                       TypeError, "dataset: x has dtype torch.float64 but the model's parameters are torch.float32"),
    "uint8 images": (lambda: TensorDataset((torch.rand(64, 1, 28, 28) * 255).byte(), torch.zeros(64, dtype=torch.long)),
                     TypeError, "dataset: x must be float16, bfloat16, float32 or float64"),
    "3 channels for a 1-channel model": (lambda: TensorDataset(torch.rand(64, 3, 28, 28), torch.zeros(64, dtype=torch.long)),
                                         ValueError, "dataset: x has 3 channels .* expects 1"),
    "pixels in 0..255": (lambda: TensorDataset(torch.rand(64, 1, 28, 28) * 255, torch.zeros(64, dtype=torch.long)),
                         ValueError, r"dataset: x must lie in \[0, 1\]"),
    "a NaN pixel": (lambda: TensorDataset(torch.rand(64, 1, 28, 28).index_put_((torch.tensor([40]),), torch.tensor(
        float("nan"))), torch.zeros(64, dtype=torch.long)), ValueError, "dataset: x contains NaN or infinite values"),
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_bad_training_data_is_refused_before_the_first_step(tmp_path, case):
    build, kind, message = BAD_DATA[case]
    with pytest.raises(kind, match=message):
        train(make(), build(), natural(), config(), tmp_path)
    assert not (tmp_path / "last.pt").exists() and not (tmp_path / "config.json").exists()


def test_bad_extra_data_is_named(data, tmp_path):
    extra = TensorDataset(torch.rand(16, 1, 28, 28), torch.full((16,), 99))
    with pytest.raises(ValueError, match="extra: y holds a label 99 but the model has 10 classes"):
        train(make(), data, natural(), config(), tmp_path, extra=extra)


def test_a_folder_style_dataset_is_checked_on_its_first_item(tmp_path):
    class Items(torch.utils.data.Dataset):
        def __len__(self):
            return 64

        def __getitem__(self, i):
            return torch.rand(1, 28, 28).double(), 1

    with pytest.raises(TypeError, match="dataset: x has dtype torch.float64"):
        train(make(), Items(), natural(), config(), tmp_path)


# --- found by the third hostile round --------------------------------------------------------------------------------


def test_outputs_overflowing_under_an_attack_are_reported_as_divergence(data, tmp_path):
    from lpgeom.training.step import TrainingDiverged

    with pytest.raises(TrainingDiverged, match=r"training diverged: .*not finite.*keeps no checkpoint"):
        train(make(), data, build_scheme("linf", fashion_mnist_threats(), n_iter=1), config(lr=1e30, log_every=100),
              tmp_path)
    assert not (tmp_path / "model.pt").exists()


def test_a_resume_at_its_stop_does_no_further_step(data, tmp_path):
    train(make(), data, natural(), config(epochs=2, stop_after_steps=2), tmp_path)
    result = train(make(), data, natural(), config(epochs=2, stop_after_steps=1), tmp_path)
    assert result.global_step == 2 and not result.finished and int(load_latest(tmp_path)["global_step"]) == 2


def test_workers_beyond_the_machine_are_refused(data, tmp_path):
    import os

    most = max(8, 4 * os.cpu_count())
    with pytest.raises(ValueError, match=rf"workers {most + 1} is more than {most} \(4 per CPU"):
        train(make(), data, natural(), config(workers=most + 1), tmp_path)


def test_odd_run_dirs(data, tmp_path):
    (tmp_path / "link").symlink_to(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match=r"run_dir .*link is a broken symbolic link \(to .*missing\)"):
        train(make(), data, natural(), config(), tmp_path / "link")
    with pytest.raises(ValueError, match="run_dir must name a folder .*no NUL"):
        train(make(), data, natural(), config(), str(tmp_path / "a\0b"))
    with pytest.raises(OSError, match="could not use the run dir .*: File name too long"):
        train(make(), data, natural(), config(), tmp_path / ("a" * 300))
    (tmp_path / "target").mkdir()
    (tmp_path / "good-link").symlink_to(tmp_path / "target")
    assert train(make(), data, natural(), config(), tmp_path / "good-link").finished
    assert (tmp_path / "target" / "model.pt").exists()


def test_temporary_files_of_a_killed_writer_are_removed(data, tmp_path):
    train(make(), data, natural(), config(epochs=2, stop_after_steps=1), tmp_path)
    # the names atomic writes make: ".<name>.<12 hex digits>.tmp"
    for name in (".last.pt.0123456789ab.tmp", ".model.pt.a1b2c3d4e5f6.tmp", ".config.json.ffffffffffff.tmp",
                 ".metrics.jsonl.000000000000.tmp"):
        (tmp_path / name).write_bytes(b"half a file")
    (tmp_path / ".notes.txt.tmp").write_text("not ours")
    (tmp_path / ".model.pt.backup.tmp").write_text("not ours either: a user's file named like a temporary")
    assert train(make(), data, natural(), config(epochs=2), tmp_path).finished
    assert sorted(p.name for p in tmp_path.glob(".*.tmp")) == [".model.pt.backup.tmp", ".notes.txt.tmp"]


def test_metrics_that_are_not_text_are_named_and_a_torn_binary_tail_is_dropped(data, tmp_path):
    train(make(), data, natural(), config(epochs=2, stop_after_steps=1, log_every=1), tmp_path)
    path = tmp_path / "metrics.jsonl"
    good = path.read_bytes()
    path.write_bytes(good + b'{"kind": "st\xff\xfe')  # a torn append ending in garbage
    assert [r["global_step"] for r in read_metrics(tmp_path)] == [1]
    assert train(make(), data, natural(), config(epochs=2, log_every=1), tmp_path).finished
    path.write_bytes(b'{"kind": "step", "global_step": 1}\n\xff\n' + good)
    with pytest.raises(ValueError, match=r"metrics\.jsonl line 2 is not text .* the file is damaged"):
        read_metrics(tmp_path)


def test_a_metrics_record_with_a_step_that_is_not_a_number_is_named(data, tmp_path):
    train(make(), data, natural(), config(epochs=2, stop_after_steps=1), tmp_path)
    with open(tmp_path / "metrics.jsonl", "a") as fh:
        fh.write('{"kind": "step", "global_step": "7"}\n')
    with pytest.raises(ValueError, match=r"metrics\.jsonl holds a record whose global_step is '7', not a number"):
        train(make(), data, natural(), config(epochs=2), tmp_path)


def test_resume_with_other_selection_threats_is_refused(data, tmp_path):
    threats = fashion_mnist_threats()
    others = type(threats)([b.with_eps(b.eps / 2) for b in threats])
    select = dict(select="best", holdout=16)
    train(make(), data, natural(), config(epochs=2, batch_size=32, stop_after_steps=1, **select), tmp_path,
          select_threats=threats)
    with pytest.raises(ValueError, match=r"another configuration.*select_threats\.L"):
        train(make(), data, natural(), config(epochs=2, batch_size=32, **select), tmp_path, select_threats=others)


def test_the_largest_seed_trains(data, tmp_path):
    extra = TensorDataset(data.tensors[0][:16], data.tensors[1][:16])
    result = train(make(), data, build_scheme("eat", fashion_mnist_threats(), n_iter=1),
                   config(seed=2**64 - 1, augment=True, batch_size=32, stop_after_steps=2), tmp_path, extra=extra)
    assert result.global_step == 2


def test_files_of_the_run_that_are_folders_are_named_without_errno_noise(data, tmp_path):
    (tmp_path / "a" / "metrics.jsonl").mkdir(parents=True)
    with pytest.raises(IsADirectoryError, match=r"^\S*metrics\.jsonl is a folder, not the run's metrics log"):
        train(make(), data, natural(), config(), tmp_path / "a")
    (tmp_path / "b" / ".lock").mkdir(parents=True)
    with pytest.raises(IsADirectoryError, match=r"^could not create the lock file \S*\.lock: Is a directory$"):
        train(make(), data, natural(), config(), tmp_path / "b")
    (tmp_path / "c" / "config.json").mkdir(parents=True)
    with pytest.raises(IsADirectoryError, match=r"^could not write \S*config\.json: the path is a folder$"):
        train(make(), data, natural(), config(), tmp_path / "c")


def test_frozen_and_meta_models_are_refused(data, tmp_path):
    frozen = make()
    for p in frozen.parameters():
        p.requires_grad_(False)
    with pytest.raises(ValueError, match=r"model has no trainable parameters \(none requires_grad\)"):
        train(frozen, data, natural(), config(), tmp_path)
    with pytest.raises(ValueError, match="model's weights are on the meta device"):
        train(make().to("meta"), data, natural(), config(), tmp_path)


def test_read_metrics_refuses_an_unknown_kind(data, tmp_path):
    train(make(), data, natural(), config(), tmp_path)
    with pytest.raises(ValueError, match="kind must be None, 'step' or 'epoch', got 'epochs'"):
        read_metrics(tmp_path, kind="epochs")


def test_resume_on_data_whose_middle_images_changed_is_refused(data, tmp_path):
    x, y = data.tensors
    train(make(), data, natural(), config(epochs=2, stop_after_steps=1), tmp_path)
    changed = x.clone()
    changed[1:-1] = changed[1:-1].flip(0)  # first and last image and every label kept
    with pytest.raises(ValueError, match=r"another configuration.*data\.content_sha256"):
        train(make(), TensorDataset(changed, y), natural(), config(epochs=2), tmp_path)


def test_a_checkpoint_from_before_a_fingerprint_field_resumes_with_a_warning(data, tmp_path):
    from lpgeom.training import save_checkpoint

    train(make(), data, natural(), config(epochs=2, stop_after_steps=1), tmp_path)
    state = load_latest(tmp_path)
    del state["fingerprint"]["data"]["content_sha256"]
    (tmp_path / "last.pt").unlink()
    save_checkpoint(state, tmp_path)
    with pytest.warns(UserWarning, match=r"fingerprint lacks data\.content_sha256: the run resumes"):
        assert train(make(), data, natural(), config(epochs=2), tmp_path).finished


def test_resuming_an_amp_run_on_the_cpu_written_when_amp_was_cuda_only_warns(data, tmp_path):
    """Checkpoints without the run's record come from an lpgeom whose amp did nothing on the CPU: resumed now, the
    rest of the run is autocast to bf16, so it is not the run that was started (it resumed without a word)."""
    from lpgeom.training import save_checkpoint

    scheme = build_scheme("linf", fashion_mnist_threats(), n_iter=1)
    train(make(), data, scheme, config(amp=True, stop_after_steps=1), tmp_path)
    old = load_latest(tmp_path)
    del old["record"]
    (tmp_path / "last.pt").unlink()
    save_checkpoint(old, tmp_path)
    with pytest.warns(UserWarning, match=r"amp did nothing on the CPU.*bf16 autocast from step 2 on"):
        train(make(), data, scheme, config(amp=True, stop_after_steps=2), tmp_path)
    assert load_latest(tmp_path)["record"]["autocast"] == "bfloat16 from step 2 on (float32 before)"
