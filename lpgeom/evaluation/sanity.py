"""Sanity checks against gradient masking, run by every evaluation method; their verdict travels with the report.

In the spirit of AutoAttack's ``checks.py`` (Croce & Hein), each check can *flag* an
evaluation: a flagged model's robust accuracy is an upper bound that gradient attacks may
have overestimated badly, and lpgeom never shows it without the flag.

``zero_gradients``
    The input gradient of the margin loss (true logit minus the largest other one, which does
    not saturate as cross-entropy does) on up to :data:`PROBE_POINTS` correctly classified
    points: a point whose gradient is exactly zero, vanishing (l_1 norm at most
    :data:`VANISHING`, in logit units per unit of input) or not finite gives gradient attacks
    nothing to follow (input quantisation, a step function, ``torch.round`` in the forward).
``randomness``
    Three forward passes on the same points: outputs that differ (AutoAttack's rule: normalised
    outputs further apart than 1e-4 in l_2, or another prediction) make a random defence, which
    needs EOT, not one deterministic attack.
``probabilities``
    Outputs in [0, 1] whose rows sum to 1: a softmax inside the model saturates the losses'
    gradients.
``cross_check``
    A gradient-free attack on the points the gradient attacks left robust: Square
    (pyautoattack's score-based random search, :data:`CROSS_CHECK_QUERIES` queries on up to
    :data:`CROSS_CHECK_POINTS` points per norm; for ``"autoattack-standard"`` its own Square
    with the full budget). It needs nothing but the model's outputs, so a masked gradient
    cannot hide from it; it is the one generic cross-check (a transfer attack needs a
    differentiable surrogate of the model, which lpgeom cannot build for an arbitrary model).
    Flagged when it breaks more than 0.2% of the points it attacks (AutoAttack's threshold for
    its own Square check), at least one. The points it breaks are adversarial examples like any
    other: they count as not robust. Norms without a Square attack (other than l_1, l_2,
    l_inf) are not cross-checked, and the verdict says so.
``pyautoattack``
    On the AutoAttack paths, pyautoattack's own checks (its zero-gradient, randomised-defence,
    probability-output and Square warnings): any of them flags the evaluation.
"""
from __future__ import annotations

import dataclasses

import torch
from torch import nn

__all__ = ["SanityVerdict", "masking_checks", "PROBE_POINTS", "CROSS_CHECK_POINTS", "CROSS_CHECK_QUERIES",
           "CROSS_CHECK_RATE", "VANISHING"]

PROBE_POINTS = 64
CROSS_CHECK_POINTS = 100
CROSS_CHECK_QUERIES = 200
#: the share of attacked points Square may break before the evaluation is flagged (AutoAttack's check_square_sr)
CROSS_CHECK_RATE = 0.002
#: a gradient whose l_1 norm is at most this is vanishing (a margin in logits over inputs in [0, 1])
VANISHING = 1e-10
CHECKS = ("zero_gradients", "randomness", "probabilities", "cross_check", "pyautoattack")


@dataclasses.dataclass
class SanityVerdict:
    """The outcome of the sanity checks of one evaluation.

    Attributes
    ----------
    checks : dict[str, dict]
        Per check (``"zero_gradients"``, ``"randomness"``, ``"probabilities"``,
        ``"cross_check"``, ``"pyautoattack"``): ``{"passed": bool or None, "detail": str}``;
        ``passed`` is None where the check did not apply (said in ``detail``).
    """

    checks: dict[str, dict] = dataclasses.field(default_factory=dict)

    @property
    def flagged(self) -> bool:
        """Whether any check failed: the robust accuracies may be overestimated by gradient masking."""
        return any(c.get("passed") is False for c in self.checks.values())

    @property
    def reasons(self) -> list[str]:
        """One sentence per failed check."""
        return [f"{name}: {c['detail']}" for name, c in self.checks.items() if c.get("passed") is False]

    def record(self, name: str, passed: bool | None, detail: str) -> None:
        """Add an outcome of check ``name`` (one per norm for the cross-check): it fails if any outcome failed,
        passes if none failed and one passed, and does not apply (None) otherwise; the details are joined."""
        old = self.checks.get(name)
        if old is not None:
            states = (old["passed"], passed)
            passed = False if False in states else True if True in states else None
            detail = f"{old['detail']}; {detail}"
        self.checks[name] = {"passed": passed, "detail": detail}

    def summary(self) -> str:
        """``"passed"`` or ``"FLAGGED (possible gradient masking): <reasons>"``; a line for tables and logs."""
        if self.flagged:
            return "FLAGGED (possible gradient masking, robust accuracy may be far too high): " + "; ".join(self.reasons)
        return "passed (" + ", ".join(n for n, c in self.checks.items() if c.get("passed")) + ")"

    def to_dict(self) -> dict:
        return {"flagged": self.flagged, "checks": {k: dict(v) for k, v in self.checks.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> SanityVerdict:
        if not isinstance(data, dict) or not isinstance(data.get("checks"), dict):
            raise ValueError(f"a sanity verdict is an object with 'checks', got {data!r}")
        return cls({k: dict(v) for k, v in data["checks"].items()})


def _margin_gradients(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(n,) l_1 norms of the input gradient of the margin loss per point (NaN where not finite)."""
    probe = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        logits = model(probe).float()
        true = logits.gather(1, y[:, None]).squeeze(1)
        others = logits.masked_fill(torch.nn.functional.one_hot(y, logits.shape[1]).bool(), float("-inf"))
        margin = true - others.amax(1)
        grad = torch.autograd.grad(margin.sum(), probe, allow_unused=True)[0] if margin.requires_grad else None
    if grad is None:
        return torch.zeros(len(x), device=x.device)
    norms = grad.float().flatten(1).abs().sum(1)
    return torch.where(torch.isfinite(grad.float().flatten(1)).all(1), norms, torch.full_like(norms, float("nan")))


def masking_checks(model: nn.Module, x: torch.Tensor, y: torch.Tensor, verdict: SanityVerdict) -> None:
    """Run the zero-gradient, randomness and probability checks on up to :data:`PROBE_POINTS` points.

    Parameters
    ----------
    model : torch.nn.Module
        In eval mode, on the points' device.
    x : torch.Tensor, shape (N, C, H, W)
        Correctly classified points (the ones the attacks attack); N may be 0.
    y : torch.Tensor, shape (N,)
    verdict : SanityVerdict
        Filled in place.
    """
    if len(x) == 0:
        for name in ("zero_gradients", "randomness", "probabilities"):
            verdict.record(name, None, "no correctly classified point to probe")
        return
    x, y = x[:PROBE_POINTS], y[:PROBE_POINTS]
    norms = _margin_gradients(model, x, y)
    bad = ~(norms > VANISHING)  # NaN counts as bad
    n_bad = int(bad.sum())
    if n_bad:
        verdict.record("zero_gradients", False, f"{n_bad} of {len(x)} probed points have a zero, vanishing or non-finite "
                                                "input gradient (a non-differentiable step such as rounding in the "
                                                "forward?): gradient attacks have nothing to follow")
    else:
        verdict.record("zero_gradients", True, f"input gradients non-zero at all {len(x)} probed points")
    with torch.no_grad():
        outputs = [model(x).float() for _ in range(3)]
    normed = [o / (o.norm(dim=1, keepdim=True) + 1e-10) for o in outputs]
    spread = max(float((a - b).norm(dim=1).max()) for a in normed for b in normed)
    predictions_differ = any(not torch.equal(o.argmax(1), outputs[0].argmax(1)) for o in outputs)
    if spread > 1e-4 or predictions_differ or not all(torch.isfinite(o).all() for o in outputs):
        verdict.record("randomness", False, "three forward passes on the same points differ: a randomised model needs "
                                            "an EOT attack, one deterministic attack overestimates its robustness")
    else:
        verdict.record("randomness", True, "the forward pass is deterministic")
    out = outputs[0]
    if bool((out >= -1e-5).all() and (out <= 1 + 1e-5).all() and ((out.sum(1) - 1).abs() < 1e-5).all()):
        verdict.record("probabilities", False, "the model outputs probabilities (rows in [0, 1] summing to 1): a softmax "
                                               "in the model saturates the losses' gradients; return logits")
    else:
        verdict.record("probabilities", True, "the outputs are not probabilities")


def judge_cross_check(verdict: SanityVerdict, ball_name: str, broken: int, attacked: int, how: str) -> None:
    """Record the gradient-free cross-check of one norm: ``broken`` of ``attacked`` points the gradient attacks left robust."""
    if attacked == 0:
        verdict.record("cross_check", None, f"{ball_name}: no point left robust to cross-check")
        return
    if broken > max(0, CROSS_CHECK_RATE * attacked):
        verdict.record("cross_check", False, f"{ball_name}: {how} broke {broken} of the {attacked} points the gradient "
                                             "attacks left robust (counted as not robust)")
    else:
        verdict.record("cross_check", True, f"{ball_name}: {how} broke {broken} of {attacked} robust points")
