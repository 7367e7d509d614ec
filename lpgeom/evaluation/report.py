"""Evaluation results as a tidy table that serialises to JSON / CSV and renders like the paper's tables.

One unit per output: tables for people (:meth:`RobustnessReport.to_frame`, the notebook view,
``lpgeom eval``'s printout) are in percent, shown with one decimal; files for programs
(:meth:`~RobustnessReport.to_json`, :meth:`~RobustnessReport.to_csv`, ``lpgeom eval --out``)
hold fractions in [0, 1], rounded to what the evaluation can resolve: with n points every
accuracy is k/n, written with enough decimals to tell k/n from (k+1)/n and nothing more
(:func:`resolution_digits`), so no float32 noise such as ``20.000000298``.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import pathlib
from dataclasses import asdict, dataclass, field

import torch

from ..utils import atomic_write_text, pack_flags, unpack_flags

__all__ = ["RobustnessReport", "resolution_digits", "FLAG"]


def resolution_digits(n_points: int) -> int:
    """Decimals that tell every k/n apart for n points (and no more): ``ceil(log10(n)) + 1``."""
    if isinstance(n_points, bool) or not isinstance(n_points, int) or n_points < 1:
        raise ValueError(f"n_points must be a positive int, got {n_points!r}")
    return math.ceil(math.log10(n_points)) + 1 if n_points > 1 else 1


@dataclass
class RobustnessReport:
    """Clean, per-norm and union robust accuracy of one model, with per-point flags.

    Attributes
    ----------
    model : str
        A name for the model (free text).
    n_points : int
    clean_accuracy, union_accuracy : float
        Fractions in [0, 1]; union = per point, robust under every norm.
    robust_accuracy : dict[str, float]
        Per norm name (``"Linf"``, ``"L2"``, ``"L1"``).
    eps : dict[str, float]
    per_point : dict[str, torch.Tensor]
        (N,) bool flags: ``"clean"``, each norm, ``"union"``.
    method, n_iter, seed, seconds, warnings : how it was computed
    n_target_classes : int or None
        Target classes of APGD-T when not AutoAttack's standard (9 for l_inf/l_2, 5 for l_1).
    attack_log : dict[str, dict[str, float]]
        ``"autoattack-standard"`` only: per norm, pyautoattack's own robust accuracy on the
        attacked (clean-correct) points after each attack (``"apgd-ce"``, ``"apgd-t"``,
        ``"fab-t"``, ``"square"``): which attack broke how much. The per-point flags are
        decided by lpgeom, not by these.
    sanity : dict
        The gradient-masking sanity checks (:class:`~lpgeom.evaluation.sanity.SanityVerdict`
        as a dict: ``"flagged"`` and ``"checks"``, each ``{"passed", "detail"}``); empty for a
        report written before the checks existed ("not checked"). A flagged report's row and
        tables carry the flag.
    weights : dict
        What was evaluated, where known (filled by ``lpgeom eval``): ``"file"``, ``"sha256"``
        (digest of the weights as read) and ``"verified"`` (the file carried lpgeom's digest
        and matched it; False for a file from elsewhere, whose integrity is unknown).
    """

    model: str
    n_points: int
    clean_accuracy: float
    robust_accuracy: dict[str, float]
    union_accuracy: float
    eps: dict[str, float]
    method: str
    n_iter: int
    seed: int
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    per_point: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)
    n_target_classes: int | None = None
    attack_log: dict[str, dict[str, float]] = field(default_factory=dict)
    weights: dict[str, object] = field(default_factory=dict)
    sanity: dict = field(default_factory=dict)

    @property
    def flagged(self) -> bool:
        """Whether a sanity check flagged possible gradient masking (the robust accuracies may be far too high)."""
        return bool(self.sanity.get("flagged"))

    def sanity_line(self) -> str:
        """One line: the sanity checks' verdict (``"not checked"`` for a report without them)."""
        from .sanity import SanityVerdict

        if not self.sanity:
            return "sanity checks: not run (report written before lpgeom checked for gradient masking)"
        return "sanity checks: " + SanityVerdict.from_dict(self.sanity).summary()

    def label(self) -> str:
        """The model's name, with ``" [FLAGGED]"`` when a sanity check flagged it: every table and plot uses it."""
        return f"{self.model} {FLAG}" if self.flagged else self.model

    def radii_line(self) -> str:
        """The radii evaluated, one line (``"radii: Linf 0.03137, L2 0.5, L1 12"``)."""
        return "radii: " + ", ".join(f"{name} {eps:.4g}" for name, eps in self.eps.items())

    def row(self) -> dict:
        """One row in percent, columns as in the paper's tables: clean, each norm, union (model: :meth:`label`)."""
        out = {"model": self.label(), "clean": 100 * self.clean_accuracy}
        out.update({name.lower(): 100 * acc for name, acc in self.robust_accuracy.items()})
        out["union"] = 100 * self.union_accuracy
        return out

    def to_frame(self):
        """pandas DataFrame with one row, in percent (for people; show it with one decimal)."""
        import pandas as pd

        return pd.DataFrame([self.row()]).set_index("model")

    def fractions(self) -> dict:
        """One row of fractions in [0, 1] (for files), each rounded to :func:`resolution_digits` decimals."""
        digits = resolution_digits(self.n_points)
        out = {"model": self.label(), "n_points": self.n_points, "clean": round(self.clean_accuracy, digits)}
        out.update({name.lower(): round(acc, digits) for name, acc in self.robust_accuracy.items()})
        out["union"] = round(self.union_accuracy, digits)
        return out

    def to_dict(self, per_point: bool = False) -> dict:
        """Every field; accuracies as fractions rounded to the evaluation's resolution (:meth:`fractions`)."""
        out = {k: v for k, v in asdict(self).items() if k != "per_point"}
        rounded = self.fractions()
        out["clean_accuracy"], out["union_accuracy"] = rounded["clean"], rounded["union"]
        out["robust_accuracy"] = {name: rounded[name.lower()] for name in self.robust_accuracy}
        if per_point:
            out["per_point"] = pack_flags(self.per_point)   # bit-packed (lpgeom.utils.flags)
        return out

    def to_json(self, path: str | os.PathLike, per_point: bool = True) -> pathlib.Path:
        """Write the report as JSON (atomically; ``ValueError`` for a path that is not a regular file)."""
        path = _regular_file(path)
        return atomic_write_text(path, json.dumps(self.to_dict(per_point=per_point), indent=2))

    def table(self, digits: int = 1) -> str:
        """The report as printed text: the table with each norm's radius in its column, how it was evaluated,
        and the sanity checks' verdict (a flagged model's accuracies never appear without it)."""
        frame = self.to_frame().round(digits)
        frame.columns = [_with_radius(c, self.eps) for c in frame.columns]
        lines = [frame.to_string(), f"{self.radii_line()}; {self.n_points} points, {self.method} "
                                    f"({self.n_iter} iterations{self._targets_note()}), seed {self.seed}",
                 self.sanity_line()]
        return "\n".join(lines)

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> RobustnessReport:
        try:
            data = json.loads(pathlib.Path(path).read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not a robustness report (not JSON: {err})") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path} is not a robustness report: it holds a {type(data).__name__}, not an object")
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown, missing = sorted(set(data) - fields), sorted(
            f.name for f in dataclasses.fields(cls) if f.name not in data
            and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
        if unknown or missing:
            raise ValueError(f"{path} is not a robustness report of this lpgeom: "
                             + "; ".join(filter(None, [unknown and f"unknown field(s) {unknown}",
                                                       missing and f"missing field(s) {missing}"])))
        flags = unpack_flags(data.pop("per_point", {}))
        report = cls(**data, per_point=flags)
        robust = [v for v in report.robust_accuracy.values() if isinstance(v, (int, float))]
        if robust and isinstance(report.union_accuracy, (int, float)) and report.union_accuracy > min(robust) + 1e-9:
            raise ValueError(f"{path}: union accuracy {report.union_accuracy} exceeds the per-norm accuracy "
                             f"{min(robust)}: an impossible report (union <= every norm)")
        return report

    def to_csv(self, path: str | os.PathLike) -> pathlib.Path:
        """Write the row as CSV in fractions (:meth:`fractions`; atomically; ``ValueError`` for a path that is
        not a regular file)."""
        import pandas as pd

        return atomic_write_text(_regular_file(path), pd.DataFrame([self.fractions()]).set_index("model").to_csv())

    def _targets_note(self) -> str:
        return "" if self.n_target_classes is None else f", {self.n_target_classes} target classes"

    def _repr_html_(self) -> str:
        import html as html_escape

        frame = self.to_frame().round(1)
        frame.columns = [_with_radius(c, self.eps) for c in frame.columns]
        table = frame.to_html()
        eps = ", ".join(f"{k}: {v:.4g}" for k, v in self.eps.items())
        warn = "".join(f"<li>{html_escape.escape(w)}</li>" for w in self.warnings)
        colour = "#b00" if self.flagged else "#555"
        sanity = f"<p style='color:{colour}'><b>{html_escape.escape(self.sanity_line())}</b></p>"
        return (f"{table}<small>{self.n_points} points, {self.method} ({self.n_iter} iterations{self._targets_note()}), eps {eps}, "
                f"seed {self.seed}, {self.seconds:.1f} s</small>{sanity}" +
                (f"<ul style='color:#b00'>{warn}</ul>" if warn else ""))


#: appended to a flagged model's name in every table and plot
FLAG = "[FLAGGED: possible gradient masking]"


def _with_radius(column: str, eps: dict[str, float]) -> str:
    """A norm's column name with its radius (``"linf (eps 0.03137)"``); other columns unchanged."""
    radius = {name.lower(): value for name, value in eps.items()}.get(column)
    return column if radius is None else f"{column} (eps {radius:.4g})"


def _regular_file(path: str | os.PathLike) -> pathlib.Path:
    """``path``, unless it exists as something other than a regular file (replacing it would destroy a folder,
    a device node or a pipe)."""
    path = pathlib.Path(path)
    if path.exists() and not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file (a device, a pipe or a socket)"
        raise ValueError(f"cannot write the report to {path}: it is {kind}")
    return path
