"""The loop's extension point: a scheme that replaces the step and adds epoch-level work, resumed bit-identically."""
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from lpgeom.training import Scheme, StepStats, TrainConfig, read_metrics, train
from lpgeom.training.fingerprint import RunConflictError

from scheme_digests import tiny_model


class TwoHalves(Scheme):
    """Replaces the step: two backward passes (one per half batch) and one optimiser step; after each epoch it
    trains a copy one clean epoch in its own order and moves the weights halfway to it; keeps a running tensor."""

    name = "two-halves"

    def __init__(self, mix: float = 0.5):
        self.mix, self.snapshot, self.epochs_seen = mix, {}, torch.zeros(())
        self.calls = []

    def training_step(self, model, x, y, ctx):
        ctx.optimizer.zero_grad(set_to_none=True)
        half = len(x) // 2
        total = 0.0
        for part in (slice(0, half), slice(half, None)):
            with ctx.autocast():
                loss = F.cross_entropy(model(x[part]).float(), y[part]) / 2
            loss.backward()
            total = total + loss.detach()
        ctx.optimizer.step()
        return total, StepStats(extra={"halves": torch.tensor(2.0)})

    def before_epoch(self, run):
        self.calls.append(("before", run.epoch))
        self.snapshot = {k: v.detach().clone() for k, v in run.model.state_dict().items()}

    def after_epoch(self, run):
        self.calls.append(("after", run.epoch))
        copy = tiny_model().to(run.device)
        copy.load_state_dict(self.snapshot)
        opt = torch.optim.SGD(copy.parameters(), lr=0.1)
        lrs = []
        for x, y, lr in run.batches(seed=run.settings.seed + 11):
            opt.zero_grad()
            F.cross_entropy(copy(x), y).backward()
            run.average_gradients(copy)
            opt.step()
            lrs.append(lr)
        assert len(lrs) == run.steps_per_epoch and lrs[0] == run.lr(run.first_global_step)
        with torch.no_grad():
            for (k, v), w in zip(run.model.state_dict().items(), copy.state_dict().values()):
                if v.is_floating_point():
                    v.lerp_(w, self.mix)
        self.epochs_seen += 1
        self.snapshot = {}

    def state_dict(self):
        return {"epochs_seen": self.epochs_seen, **{f"snap.{k}": v for k, v in self.snapshot.items()}}

    def load_state_dict(self, state):
        self.epochs_seen = state["epochs_seen"]
        self.snapshot = {k[5:]: v for k, v in state.items() if k.startswith("snap.")}

    def describe(self):
        return {"scheme": self.name, "mix": self.mix}


def data():
    gen = torch.Generator().manual_seed(0)
    return TensorDataset(torch.rand(48, 1, 12, 12, generator=gen), torch.randint(0, 10, (48,), generator=gen))


def run(run_dir, scheme, resume=False, **config):
    torch.manual_seed(1)
    model = tiny_model()
    settings = dict(epochs=2, batch_size=16, lr=0.1, milestones=(0.5,), seed=4, progress=False, log_every=1,
                    checkpoint_every=1)
    return model, train(model, data(), scheme, TrainConfig(**{**settings, **config}), run_dir, resume=resume)


def test_hooks_run_in_order_and_change_the_weights(tmp_path):
    scheme = TwoHalves()
    model, result = run(tmp_path / "a", scheme)
    assert result.finished and scheme.calls == [("before", 0), ("after", 0), ("before", 1), ("after", 1)]
    assert float(scheme.epochs_seen) == 2
    assert all(r["halves"] == 2.0 for r in read_metrics(tmp_path / "a", kind="step"))
    _, plain = run(tmp_path / "b", TwoHalves(mix=0.0))
    a = torch.load(tmp_path / "a" / "model.pt", weights_only=True)
    b = torch.load(tmp_path / "b" / "model.pt", weights_only=True)
    assert not all(torch.equal(a[k], b[k]) for k in a), "the after-epoch hook changed nothing"


@pytest.mark.parametrize("stop", [2, 3, 4])  # mid-epoch 0, at the epoch end, mid-epoch 1
def test_a_run_stopped_anywhere_resumes_bit_identically(tmp_path, stop):
    full_model, _ = run(tmp_path / "full", TwoHalves())
    _, part = run(tmp_path / "part", TwoHalves(), stop_after_steps=stop)
    assert not part.finished and part.global_step == stop
    resumed = TwoHalves()
    model, result = run(tmp_path / "part", resumed, resume=True)
    assert result.finished
    a, b = full_model.state_dict(), model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a), "resumed weights differ"
    assert float(resumed.epochs_seen) == 2
    strip = lambda rs: [{k: v for k, v in r.items() if k != "seconds"} for r in rs]  # noqa: E731
    assert strip(read_metrics(tmp_path / "part")) == strip(read_metrics(tmp_path / "full"))


def test_the_schemes_settings_are_in_the_fingerprint(tmp_path):
    run(tmp_path / "r", TwoHalves(), stop_after_steps=1)
    with pytest.raises(RunConflictError, match="mix"):
        run(tmp_path / "r", TwoHalves(mix=0.25), resume=True)


def test_the_default_step_is_the_plain_update_under_autocast(tmp_path):
    """A scheme giving only training_loss gets backward and one step; with amp its forward runs in bf16."""
    seen = []

    class Probe(Scheme):
        name = "probe"

        def training_loss(self, model, x, y, ctx):
            out = model(x)
            seen.append(out.dtype)
            return F.cross_entropy(out.float(), y), StepStats()

    model, result = run(tmp_path / "p", Probe(), amp=True, epochs=1)
    assert result.finished and seen and set(seen) == {torch.bfloat16}
    torch.manual_seed(1)
    assert not torch.equal(model.state_dict()["0.weight"], tiny_model().state_dict()["0.weight"]), "no step taken"
