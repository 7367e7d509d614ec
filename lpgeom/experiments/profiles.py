"""Sizes of the study per profile (LPGEOM_PROFILE = smoke | cpu | full)."""
from __future__ import annotations

from dataclasses import dataclass

from ..profiles import active_profile

__all__ = ["StudySize", "study_size", "SIZES"]


@dataclass(frozen=True, kw_only=True)
class StudySize:
    """How large every unit of the study is (built by keywords).

    dataset / arch / width : data and model (Fashion-MNIST + small CNN except ``full``)
    n_train : training examples (None: all)
    epochs : training from scratch; ft_epochs: fine-tuning (the paper's 3)
    steps : attack steps in training (paper: 10)
    eval_method / eval_iter / n_eval : the evaluation (paper: AutoAttack, 100 iterations, 1000 points)
    batch_size : training batch
    schemes : the Table 1 rows trained
    table1_seeds : seeds of every Table 1 row (the paper reports one; three give a spread)
    seeds : seeds for the Table 7 analogue and the calibrated-sampling experiment
    ft_epochs_grid : Tables 8/9 analogue
    switch_epoch : l_2-init then E-AT switches here
    aa_target_classes : APGD-T target classes (None: AutoAttack's standard, 9 for l_inf/l_2, 5 for l_1)
    eval_batch_size : batch of the evaluation
    curve_iter : APGD iterations per radius of the Figure 1 curve
    calibration_every / calibration_iter / calibration_points : ``eat-calibrated``'s measurement
        (``EATCalibration``: every that many steps, APGD with that many iterations, on that many
        examples of the batch); the default 200 steps suits the paper's 390 steps per epoch
    """

    name: str
    dataset: str
    arch: str
    width: int | None
    n_train: int | None
    epochs: int
    ft_epochs: int
    steps: int
    eval_method: str
    eval_iter: int
    n_eval: int
    batch_size: int
    schemes: tuple[str, ...]
    table1_seeds: tuple[int, ...] = (0,)
    seeds: tuple[int, ...]
    ft_epochs_grid: tuple[int, ...]
    switch_epoch: int
    aa_target_classes: int | None = None
    eval_batch_size: int = 500
    curve_iter: int = 50
    calibration_every: int = 200
    calibration_iter: int = 100
    calibration_points: int = 128


ALL_SCHEMES = ("linf", "l2", "l1", "eat", "l2-eat", "max", "avg", "msd", "sat")

SIZES = {
    # CI: the whole pipeline end to end in about a minute on 2 cores; numbers say little about the paper
    "smoke": StudySize(name="smoke", dataset="fashion_mnist", arch="small_cnn", width=16, n_train=2048, epochs=2,
                       ft_epochs=1, steps=3, eval_method="apgd", eval_iter=10, n_eval=200, batch_size=64,
                       schemes=("linf", "l2", "l1", "eat"), seeds=(0,), ft_epochs_grid=(1,), switch_epoch=1,
                       curve_iter=10),
    # the recorded study at 2-CPU scale (measured here: 2-8 minutes per unit, of which AutoAttack
    # takes 1.5-4; about 2.7 hours for the first 30 units, plus the 10- and 15-epoch fine-tuning
    # runs of Tables 8/9, resumable): 10,000 training
    # images, 5 epochs, a width-16 small CNN (139 us per image forward+backward here, 2.6x
    # cheaper than width 32); AutoAttack's APGD-CE + APGD-T, 100 iterations, on 1000 test
    # points, with 3 target classes instead of 9 (l_1: instead of 5; its 5 APGD-CE restarts kept):
    # the standard evaluation took 500 s per width-32 model here, too much for 28 models.
    # Table 1 with 3 seeds per scheme (issue 12: E-AT and SAT differ by less than the seed spread).
    "cpu": StudySize(name="cpu", dataset="fashion_mnist", arch="small_cnn", width=16, n_train=10_000, epochs=5,
                     ft_epochs=3, steps=10, eval_method="autoattack", eval_iter=100, n_eval=1000, batch_size=128,
                     schemes=ALL_SCHEMES, table1_seeds=(0, 1, 2), seeds=(0, 1, 2), ft_epochs_grid=(1, 3, 6, 10, 15),
                     switch_epoch=3, aa_target_classes=3, eval_batch_size=128, curve_iter=25,
                     # 79 steps per epoch: a measurement every 40 steps (10 from scratch, 6 when
                     # fine-tuning), APGD with 50 iterations, about 20 % more attack work
                     calibration_every=40, calibration_iter=50),
    # the paper's scale on a GPU: PreAct ResNet-18, 80 epochs, CIFAR-10 (downloaded)
    "full": StudySize(name="full", dataset="cifar10", arch="preact_resnet18", width=None, n_train=None, epochs=80,
                      ft_epochs=3, steps=10, eval_method="autoattack", eval_iter=100, n_eval=1000, batch_size=128,
                      schemes=ALL_SCHEMES, seeds=(0, 1, 2, 3, 4), ft_epochs_grid=(3, 5, 7, 10, 15),
                      switch_epoch=45, curve_iter=100),
}


def study_size(profile: str | None = None) -> StudySize:
    """The sizes for ``profile`` (default: the active profile)."""
    return SIZES[active_profile(profile)]
