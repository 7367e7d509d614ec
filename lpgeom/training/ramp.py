"""RAMP (Jiang & Singh, NeurIPS 2024): l_inf and l_1 attacks per batch, logit pairing, gradient projection.

Read from the authors' public code (github.com/uiuc-focal-lab/RAMP: ``RAMP.py``,
``RAMP_imagenet.py``, ``utils.py``'s ``gp``, ``autopgd_train.py``'s ``train_clean``,
``scripts/``) and written anew for lpgeom. Per batch:

1. With the model in eval mode (lpgeom's attacks do so and restore the mode), APGD-l_inf
   and APGD-l_1 from the clean point (no random start), 10 steps each (ImageNet: 5 for
   l_inf and 15 for l_1, as ``RAMP_imagenet.py``; the recipes' ``n_iter`` / ``l1_steps``).
   l_2 is never attacked in training.
2. In train mode, three forward passes in RAMP's order: the l_1 point, the l_inf point,
   then per example the point of the two with the higher attack loss (a tie goes to l_1,
   the first of RAMP's ``torch.stack([loss_t, loss_s]).max(0)``); cross-entropy on it.
3. Logit pairing: on the examples whose l_inf point is classified correctly (in train
   mode, as RAMP), ``KL(softmax(f(x_inf)) || softmax(f(x_1)))`` summed over them and
   divided by their number (0 when there is none); nothing is detached.
   Loss = CE + ``ramp_lambda`` * KL.

Gradient projection (``gradient_projection=True``, RAMP's ``--gp``, its from-scratch
runs): at the start of an epoch the weights ``theta_old`` are kept; after the epoch's
adversarial steps a copy of ``theta_old`` is trained one clean epoch (cross-entropy, SGD
with the run's momentum, weight decay and per-step learning rate; its momentum carries
over from epoch to epoch, as RAMP's ``optimizer_nat``), and then per state-dict tensor,
with ``D_adv = theta_adv - theta_old`` and ``D_nat = theta_nat - theta_old``:
``theta = theta_old + 0.5 cos(D_adv, D_nat) D_nat + 0.5 D_adv`` if the cosine is > 0,
else ``theta_old + 0.5 D_adv`` (:func:`gradient_projection`). As RAMP's ``gp``, this
applies to every non-scalar entry, BatchNorm running statistics included; 0-dim entries
(``num_batches_tracked``) are the adversarial model's.

Deliberate differences from the public code:

- The attacks are lpgeom's APGD (AutoAttack's rules; exact l_1 ∩ box projection and the
  AutoAttack l_1 sparsity rule, see :mod:`lpgeom.attacks.apgd`), not ``apgd_train``.
- RAMP trains the clean copy before the adversarial epoch, lpgeom after it (in
  :meth:`RAMP.after_epoch`, from the kept ``theta_old``): the two copies never interact,
  so the result is the same rule; the clean epoch's order is its own seeded permutation
  (seed derived from the run's, :data:`CLEAN_SEED_SALT`) with the run's augmentation, as
  RAMP's loader reshuffles for it; with extra data it takes only the standard examples.
  The clean copy runs eager (not through ``torch.compile``); under DDP its gradients are
  averaged over the ranks.
- The learning rate and schedule are lpgeom's (``TrainConfig``); RAMP's from-scratch script
  uses a constant lr 0.05 (``--lr-schedule static``), its fine-tuning ``piecewise-ft``.
  Weight decay applies to every parameter (RAMP exempts BatchNorm and biases when
  training from scratch).
- RAMP adds 1e-12 to the l_1 logits before ``log_softmax``; the log-softmax is shift
  invariant, so lpgeom leaves it out.
- The logit-pairing selection is a mask (no boolean indexing): no host synchronisation.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from ..attacks import APGD
from ..geometry import check_real
from ..threats import ThreatUnion
from .epoch import EpochContext
from .registry import SchemeOption, register_scheme
from .schemes import AttackSteps, Scheme, StepContext, robust_error, run_attack
from .stats import StepStats

__all__ = ["RAMP", "logit_pairing_kl", "higher_loss_points", "gradient_projection", "CLEAN_SEED_SALT"]

CLEAN_SEED_SALT = 0x9E3779B97F4A7C15
"""The clean epoch's order and augmentation are seeded by ``run seed XOR CLEAN_SEED_SALT``."""
_GP_BETA = 0.5  # RAMP's gp(0.5, ...): half of each update


def logit_pairing_kl(logits_inf: torch.Tensor, logits_1: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """RAMP's logit pairing: mean over the examples whose l_inf point is correct of KL(p_inf || p_1).

    Parameters
    ----------
    logits_inf, logits_1 : Tensor, shape (B, K)
        The model's logits at the l_inf and the l_1 adversarial points (gradients flow into both).
    y : Tensor of int64, shape (B,)

    Returns
    -------
    Tensor, shape ()
        ``sum_{i: argmax logits_inf[i] = y[i]} KL(softmax(logits_inf[i]) || softmax(logits_1[i]))``
        divided by the number of such examples; 0 when there is none. Computed in float32.
    """
    if logits_inf.shape != logits_1.shape or logits_inf.ndim != 2 or y.shape != logits_inf.shape[:1]:
        raise ValueError(f"logits_inf and logits_1 must both be (B, K) and y (B,), got {tuple(logits_inf.shape)}, "
                         f"{tuple(logits_1.shape)} and {tuple(y.shape)}")
    logits_inf, logits_1 = logits_inf.float(), logits_1.float()
    selected = (logits_inf.argmax(1) == y).float()
    p_inf = F.softmax(logits_inf, dim=1)
    # torch's kl_div(input=log q, target=p): xlogy(p, p) - p * log q, as RAMP's nn.KLDivLoss(reduction="sum")
    per_example = F.kl_div(F.log_softmax(logits_1, dim=1), p_inf, reduction="none").sum(1)
    count = selected.sum()
    return torch.where(count > 0, (per_example * selected).sum() / count.clamp_min(1), torch.zeros_like(count))


def higher_loss_points(x_inf: torch.Tensor, loss_inf: torch.Tensor, x_1: torch.Tensor, loss_1: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per example the adversarial point with the higher attack loss (a tie: the l_1 point, as RAMP).

    Parameters
    ----------
    x_inf, x_1 : Tensor, shape (B, ...)
    loss_inf, loss_1 : Tensor, shape (B,)

    Returns
    -------
    x : Tensor, shape (B, ...)
    took_inf : Tensor of bool, shape (B,)
    """
    took_inf = loss_inf > loss_1
    return torch.where(took_inf.view(-1, *([1] * (x_inf.ndim - 1))), x_inf, x_1), took_inf


def gradient_projection(old: Mapping[str, torch.Tensor], natural: Mapping[str, torch.Tensor],
                        adversarial: Mapping[str, torch.Tensor], beta: float = _GP_BETA) -> dict[str, torch.Tensor]:
    """RAMP's model fusion (``utils.gp`` with one clean model of weight 1), per state-dict entry.

    For every floating entry with at least one dimension, with ``D_adv = adversarial - old`` and
    ``D_nat = natural - old`` (each flattened for the cosine):
    ``old + beta cos(D_adv, D_nat) D_nat + (1 - beta) D_adv`` if the cosine is > 0, else
    ``old + (1 - beta) D_adv``. 0-dim and integer entries are the adversarial model's.

    Parameters
    ----------
    old, natural, adversarial : mapping of str to Tensor
        State dicts with the same keys and shapes (epoch start, after the clean epoch, after the
        adversarial epoch).
    beta : float
        In [0, 1]; RAMP uses 0.5.

    Returns
    -------
    dict of str to Tensor
    """
    beta = check_real(beta, "beta", 0.0, 1.0)
    if not (old.keys() == natural.keys() == adversarial.keys()):
        raise ValueError("gradient_projection needs three state dicts with the same keys")
    out = {}
    for key, theta in old.items():
        adv = adversarial[key]
        if theta.ndim == 0 or not theta.is_floating_point():
            out[key] = adv.clone()
            continue
        d_adv, d_nat = adv - theta, natural[key] - theta
        cos = F.cosine_similarity(d_adv.reshape(1, -1), d_nat.reshape(1, -1))[0]
        fused = theta + beta * torch.where(cos > 0, cos, torch.zeros_like(cos)) * d_nat
        out[key] = fused + (1 - beta) * d_adv
    return out


class RAMP(Scheme):
    """RAMP training against the l_inf and l_1 balls of a union (see the module docstring for every rule).

    Parameters
    ----------
    threats : ThreatUnion
        Must hold an ``Linf`` and an ``L1`` ball.
    n_iter : int or AttackSteps
        APGD steps per attack (10; ImageNet 5).
    l1_steps : int, optional
        Steps of the l_1 attack if different (ImageNet 15).
    ramp_lambda : float
        Weight of the logit-pairing KL term, >= 0 (RAMP: 1.5 CIFAR-10 fine-tuning, 5 from scratch
        ResNet-18, 2 WRN, 3 ImageNet; :func:`~lpgeom.training.paper_recipe` holds them).
    gradient_projection : bool
        Once per epoch, fuse with a copy trained one clean epoch (RAMP's ``--gp``).
    """

    name = "RAMP"

    def __init__(self, threats: ThreatUnion, n_iter: int | AttackSteps = 10, l1_steps: int | None = None,
                 ramp_lambda: float = 1.5, gradient_projection: bool = False) -> None:
        if not isinstance(threats, ThreatUnion):
            raise TypeError(f"RAMP needs threats as a ThreatUnion, got {type(threats).__name__}")
        if not isinstance(gradient_projection, bool):
            raise TypeError(f"gradient_projection must be True or False, got {gradient_projection!r}")
        self.linf, self.l1 = threats["Linf"], threats["L1"]
        self.steps = AttackSteps.of(n_iter, l1_steps)
        self.attack_inf = APGD(self.linf, n_iter=self.steps.for_ball(self.linf))
        self.attack_1 = APGD(self.l1, n_iter=self.steps.for_ball(self.l1))
        self.ramp_lambda = check_real(ramp_lambda, "ramp_lambda", 0.0)
        self.gp = gradient_projection
        self.name = "RAMP+GP" if gradient_projection else "RAMP"
        self.old: dict[str, torch.Tensor] = {}  # theta_old of the running epoch (GP)
        self.nat_momentum: list[torch.Tensor] = []  # the clean copy's SGD momentum (GP)

    def training_loss(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, ctx: StepContext):
        r_inf = run_attack(self.attack_inf, ctx, x, y)
        r_1 = run_attack(self.attack_1, ctx, x, y)
        logits_1 = model(r_1.x_adv)  # RAMP's order of the three train-mode passes: target (l_1), source, best
        logits_inf = model(r_inf.x_adv)
        x_best, took_inf = higher_loss_points(r_inf.x_adv, r_inf.loss, r_1.x_adv, r_1.loss)
        ce = F.cross_entropy(model(x_best).float(), y)
        kl = logit_pairing_kl(logits_inf, logits_1, y)
        stats = StepStats(rerr={self.linf.name: robust_error(r_inf), self.l1.name: robust_error(r_1)},
                          share={self.linf.name: took_inf.float().mean(), self.l1.name: (~took_inf).float().mean()},
                          extra={"kl": kl.detach(), "paired": (logits_inf.argmax(1) == y).float().mean()})
        return ce + self.ramp_lambda * kl, stats

    def before_epoch(self, run: EpochContext) -> None:
        if self.gp:
            self.old = {k: v.detach().clone() for k, v in run.model.state_dict().items()}

    def after_epoch(self, run: EpochContext) -> None:
        if not self.gp:
            return
        if not self.old:
            raise RuntimeError("RAMP's gradient projection found no epoch-start weights (before_epoch did not run)")
        natural = self._clean_epoch(run)
        fused = gradient_projection(self.old, natural, run.model.state_dict())
        run.model.load_state_dict(fused)
        self.old = {}

    def _clean_epoch(self, run: EpochContext) -> dict[str, torch.Tensor]:
        """A copy of ``theta_old`` trained one clean epoch (cross-entropy, SGD as the run's); its state dict."""
        net = copy.deepcopy(run.model)
        net.load_state_dict(self.old)
        group = run.optimizer.param_groups[0]
        opt = torch.optim.SGD(net.parameters(), lr=group["lr"], momentum=group["momentum"],
                              weight_decay=group["weight_decay"])
        params = [p for p in net.parameters()]
        if self.nat_momentum:
            opt.load_state_dict({"state": {i: {"momentum_buffer": m.to(p.device)} for i, (m, p) in
                                           enumerate(zip(self.nat_momentum, params))},
                                 "param_groups": opt.state_dict()["param_groups"]})
        net.train()
        for x, y, lr in run.batches(seed=run.settings.seed ^ CLEAN_SEED_SALT):
            for g in opt.param_groups:
                g["lr"] = lr
            opt.zero_grad(set_to_none=True)
            with run.settings.autocast:
                loss = F.cross_entropy(net(x).float(), y)
            loss.backward()
            run.average_gradients(net)
            opt.step()
        buffers = [opt.state.get(p, {}).get("momentum_buffer") for p in params]
        self.nat_momentum = [b.detach().clone() for b in buffers if b is not None]
        if self.nat_momentum and len(self.nat_momentum) != len(params):
            raise RuntimeError("the clean copy's optimiser kept momentum for only some parameters")
        return net.state_dict()

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {**{f"old.{k}": v for k, v in self.old.items()},
                **{f"nat_momentum.{i}": m for i, m in enumerate(self.nat_momentum)}}

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        unknown = [k for k in state if not k.startswith(("old.", "nat_momentum."))]
        if unknown or (state and not self.gp):
            raise ValueError(f"RAMP{'' if self.gp else ' without gradient projection'} cannot take the state keys "
                             f"{sorted(unknown or state)[:3]}")
        self.old = {k[4:]: v for k, v in state.items() if k.startswith("old.")}
        count = sum(k.startswith("nat_momentum.") for k in state)
        self.nat_momentum = [state[f"nat_momentum.{i}"] for i in range(count)]

    def describe(self) -> dict:
        return {"scheme": self.name, "eps": {b.name: b.eps for b in (self.linf, self.l1)},
                "n_iter": self.steps.describe(), "ramp_lambda": self.ramp_lambda,
                "gradient_projection": self.gp, **({"gp_beta": _GP_BETA} if self.gp else {})}


def _non_negative(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"{text!r} is not a finite number >= 0")
    return value


@register_scheme("ramp", label="RAMP (l_1 + l_inf, logit pairing)", cost="all-norms", norms=("L1", "Linf"),
                 options=(SchemeOption("ramp_lambda", "--ramp-lambda", _non_negative,
                                       "ramp: weight of the logit-pairing KL term (default: the recipe's, 1.5 "
                                       "fine-tuning CIFAR-10, 5 from scratch, 2 for WRNs from scratch, 3 ImageNet)"),
                          SchemeOption("gradient_projection", "--gradient-projection", boolean=True,
                                       help="ramp: fuse with a copy trained one clean epoch after every epoch "
                                            "(default: on from scratch, off when fine-tuning, as RAMP)")))
def _ramp(threats: ThreatUnion, n_iter: int = 10, l1_steps: int | None = None, ramp_lambda: float = 1.5,
          gradient_projection: bool = False) -> Scheme:
    return RAMP(threats, n_iter, l1_steps, ramp_lambda, gradient_projection)
