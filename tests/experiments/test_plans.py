"""Chapter plans print at every profile without a GPU, and their sizes are consistent."""
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from lpgeom.experiments.chapter_runs import evaluate_resumable
from lpgeom.experiments.plans import CHAPTERS, chapter_plan
from lpgeom.threats import LpBall, ThreatUnion


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_full_plans_print_without_touching_a_gpu(chapter, monkeypatch):
    monkeypatch.setenv("LPGEOM_PROFILE", "full")
    plan = chapter_plan(chapter)
    text = str(plan)
    assert plan.profile == "full" and f"{chapter} chapter, profile full" in text
    assert not torch.cuda.is_initialized()
    for step in plan.steps:
        assert step.sizes, step.name
        if step.seconds is not None:
            assert step.seconds > 0 and step.gpu_mib > 0 and step.basis


def test_full_gpu_chapters_run_the_issue_sizes():
    cifar, imagenet = chapter_plan("cifar10", "full"), chapter_plan("imagenet", "full")
    assert cifar.checkpoint.robustbench_name == "Carmon2019Unlabeled" and cifar["epochs"] == 3
    assert cifar["n_points"] == 1000 and cifar["eval_method"] == "autoattack" and cifar["n_train"] == 50_000
    assert imagenet.checkpoint.architecture == "resnet50" and imagenet["epochs"] == 1 and imagenet["n_points"] == 5000
    # the step count in the plan follows from its sizes
    assert cifar.steps[0].sizes["steps"] == 3 * -(-50_000 // 128)
    # 1 GiB < memory < 80 GiB
    assert all(1024 < s.gpu_mib < 80 * 1024 for p in (cifar, imagenet) for s in p.steps)
    assert "estimate" in str(cifar) and "not measured" in str(cifar)


def _gpu_record(monkeypatch, record):
    from lpgeom.experiments import tables

    def fake(name="training_cost"):
        if record is None:
            raise FileNotFoundError("no recorded benchmark")
        return record

    monkeypatch.setattr(tables, "benchmark_record", fake)


def test_imagenet_plan_falls_back_to_the_facts_step_without_a_gpu_record(monkeypatch):
    _gpu_record(monkeypatch, None)
    step = chapter_plan("imagenet", "full").steps[0]
    # ImageNet E-AT epoch ~2.2 h on one H100 (the facts' step: 0.392 s at batch 64; 5005 steps of 256)
    assert step.seconds == pytest.approx(0.392 * 4 * 5005, rel=1e-6)
    assert "392 ms" in step.basis and "shared facts" in step.basis


def test_imagenet_plan_uses_the_recorded_gpu_step(monkeypatch):
    record = {"tiny": False, "sizes": {"imagenet_batch": 32, "imagenet_model": "resnet50"},
              "raw": {"imagenet_eat_step_ms": 125.0},
              "provenance": {"device": "Some GPU 80GB", "git_commit": "abcdef0123456789"}}
    _gpu_record(monkeypatch, record)
    step = chapter_plan("imagenet", "full").steps[0]
    # 125 ms at batch 32 -> 250 ms at 64 -> 1 s at the plan's 256, for 5005 steps
    assert step.seconds == pytest.approx(1.0 * 5005, rel=1e-6)
    assert "Some GPU 80GB" in step.basis and "abcdef0" in step.basis and "125 ms" in step.basis
    # a dry-run record (tiny sizes) or another model is not a reference for ResNet-50
    for changed in ({"tiny": True}, {"sizes": {"imagenet_batch": 32, "imagenet_model": "small_cnn"}},
                    {"raw": {"imagenet_eat_step_ms": float("nan")}}):
        _gpu_record(monkeypatch, {**record, **changed})
        assert chapter_plan("imagenet", "full").steps[0].seconds == pytest.approx(0.392 * 4 * 5005, rel=1e-6)


def test_smoke_plans_use_shipped_weights_and_small_sizes():
    for chapter in CHAPTERS:
        plan = chapter_plan(chapter, "smoke")
        assert plan.checkpoint.shipped_name is not None and plan.estimated_seconds is None
    assert chapter_plan("cifar10", "smoke")["n_points"] <= 20


def test_unknown_chapter_and_setting_are_named():
    with pytest.raises(ValueError, match="unknown chapter 'gpu'"):
        chapter_plan("gpu")
    with pytest.raises(KeyError, match="no setting 'n_pionts'"):
        chapter_plan("cifar10", "smoke")["n_pionts"]


def test_resumable_evaluation_reuses_saved_chunks(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3)).eval()
    data = TensorDataset(torch.rand(10, 3, 2, 2), torch.randint(0, 3, (10,)))
    threats = ThreatUnion([LpBall("inf", 0.05), LpBall(1, 0.5)])
    kw = dict(method="apgd", n_iter=5, batch_size=4, device="cpu", progress=False)
    first = evaluate_resumable(model, data, threats, tmp_path, chunk=4, **kw)
    assert sorted(p.name for p in (tmp_path / "eval").iterdir()) == ["chunk_000000.json", "chunk_000004.json", "chunk_000008.json"]
    (tmp_path / "eval" / "chunk_000008.json").unlink()   # a kernel that died during the last chunk
    again = evaluate_resumable(model, data, threats, tmp_path, chunk=4, **kw)
    assert again.n_points == 10 and torch.equal(again.per_point["union"], first.per_point["union"])
    assert again.union_accuracy == pytest.approx(float(first.per_point["union"].float().mean()))
    with pytest.raises(ValueError, match="evaluated with n_iter=5, now n_iter=7"):
        evaluate_resumable(model, data, threats, tmp_path, chunk=4, **{**kw, "n_iter": 7})
    with pytest.raises(ValueError, match="chunk must be a positive"):
        evaluate_resumable(model, data, threats, tmp_path, chunk=0, **kw)


def test_instructor_page_quotes_the_plans_current_estimates():
    import pathlib

    from lpgeom.experiments.plans import _duration

    page = (pathlib.Path(__file__).resolve().parents[2] / "book" / "jupyterlab.md").read_text()
    for chapter in ("cifar10", "imagenet"):
        for step in chapter_plan(chapter, "full").steps:
            quoted = f"~{_duration(step.seconds)}, ~{step.gpu_mib / 1024:.1f} GiB"
            assert quoted in page, f"book/jupyterlab.md should quote {chapter}'s '{step.name}' estimate as {quoted!r}"


@pytest.mark.slow
def test_chapter_finetuning_resumes_a_finished_run(tmp_path):
    from lpgeom.experiments.chapter_runs import finetune_chapter_model

    plan = chapter_plan("cifar10", "smoke")
    _, first = finetune_chapter_model(plan, tmp_path, "cpu", progress=False)
    assert (tmp_path / "last.pt").is_file() and first.global_step == 2
    stamp = (tmp_path / "last.pt").stat().st_mtime_ns
    _, again = finetune_chapter_model(plan, tmp_path, "cpu", progress=False)   # the cell run again
    assert (tmp_path / "last.pt").stat().st_mtime_ns == stamp, "a finished run was trained again"
    assert again.global_step == first.global_step and again.epochs[-1]["loss"] == pytest.approx(first.epochs[-1]["loss"])


def test_gpu_summary_names_the_full_runs_cost_the_smallest_gpu_and_batches_for_small_cards():
    from lpgeom.experiments.plans import chapter_plan

    full = chapter_plan("cifar10", profile="full")
    peak = full.estimated_gpu_mib / 1024
    text = full.gpu_summary()
    assert f"peak ~{peak:.1f} GiB" in text
    smallest = min(c for c in (16, 24, 40, 48, 80) if peak <= 0.9 * c)
    assert f"smallest common GPU that fits: {smallest} GB" in text
    for card in (c for c in (16, 24) if c < smallest):  # each smaller card gets a batch that fits it
        line = next(l for l in text.splitlines() if f"on a {card} GB GPU" in l)
        batch = int(line.split("eval_batch_size=")[1].split(")")[0].split(",")[0])
        per_image = next(s for s in full.steps if s.name.startswith("AutoAttack")).gpu_mib / 1024 / full["eval_batch_size"]
        assert batch * per_image <= 0.9 * card < (batch + 1) * per_image or full["eval_chunk"] % (batch + 1) != 0
        assert full["eval_chunk"] % batch == 0
    assert "no GPU estimate" in chapter_plan("cifar10", profile="smoke").gpu_summary()


def test_with_settings_changes_only_known_settings_of_the_same_type():
    import pytest

    from lpgeom.experiments.plans import chapter_plan

    full = chapter_plan("cifar10", profile="full")
    smaller = full.with_settings(eval_batch_size=125)
    assert smaller["eval_batch_size"] == 125 and full["eval_batch_size"] == 250 and smaller["batch_size"] == full["batch_size"]
    with pytest.raises(KeyError, match="no setting 'eval_batch'"):
        full.with_settings(eval_batch=125)
    with pytest.raises(TypeError, match="eval_batch_size must be of type int"):
        full.with_settings(eval_batch_size=125.0)
