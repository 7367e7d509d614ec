"""The one schema of a unit's record, ``data/results/<profile>[/r<revision>]/<unit>.json``, on read and on write.

Every reader of the recorded study (:func:`~lpgeom.experiments.load_result`, hence
``reproduce``, the book's tables, histories and re-attacks) and its writer
(:func:`~lpgeom.experiments.run_unit`) go through :func:`read_record` / :func:`write_record`,
which apply :func:`check_record`. What it checks is the summary a table shows, not the
per-point arrays (their storage may change):

- the file is one JSON object (a truncated file or a JSON list is refused);
- ``name`` is a unit name equal to the file's name, and ``unit`` describes that unit;
  ``profile`` is the folder's profile;
- ``report``: ``clean_accuracy``, each ``robust_accuracy`` and ``union_accuracy`` are
  numbers in [0, 1] (not bools, not strings, not NaN); a norm's robust accuracy is at
  most the clean accuracy and the union at most every norm's (up to float32 rounding,
  :data:`TOLERANCE`); ``eps`` names the same norms, each radius positive and finite;
  ``n_points`` and ``n_iter`` are positive integers; ``method`` a string;
- optional summaries (``time_per_epoch_s``, ``train_seconds``, ``l2_curve``) have the
  right types and ranges; ``provenance`` is an object with ``ended``, ``machine`` and
  ``versions``.

A bad record raises :class:`RecordError` (a ``ValueError``) naming the file and the field.
Readers fail on it rather than skip it: a table that silently lost a row, or showed an
impossible number, would be a silently wrong result; ``reproduce`` and the book stop with
that one clear line (the record must be recomputed or restored from git, never edited).
"""
from __future__ import annotations

import json
import math
import os
import pathlib
from typing import Any

from ..utils.files import atomic_write_json

__all__ = ["RecordError", "check_record", "read_record", "write_record", "TOLERANCE"]

TOLERANCE = 1e-6  # accuracies are float32 fractions of the points: their comparisons allow that rounding


class RecordError(ValueError):
    """A unit's record that is not a valid record: the message names the file and the field."""


def _fail(where: str, field: str, problem: str) -> RecordError:
    return RecordError(f"{where}: {field} {problem}; the record is damaged or was edited (recompute the unit, "
                       "or restore the file from git)")


def _number(where: str, field: str, value: Any, low: float | None = None, high: float | None = None,
            integer: bool = False, positive: bool = False) -> float:
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        raise _fail(where, field, f"is {json.dumps(value)[:40]}, not {kind}")
    if not math.isfinite(value):
        raise _fail(where, field, f"is {value}, not a finite number")
    if positive and value <= 0:
        raise _fail(where, field, f"is {value}, not positive")
    if (low is not None and value < low) or (high is not None and value > high):
        raise _fail(where, field, f"is {value}, outside [{low}, {high}]")
    return float(value)


def _object(where: str, field: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise _fail(where, field, f"is {type(value).__name__ if value is not None else 'null'}, not a JSON object")
    return value


def _string(where: str, field: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(where, field, f"is {json.dumps(value)[:40]}, not a non-empty string")
    return value


def _check_report(where: str, report: Any) -> None:
    report = _object(where, "report", report)
    for key in ("clean_accuracy", "robust_accuracy", "union_accuracy", "eps", "n_points", "method", "n_iter"):
        if key not in report:
            raise _fail(where, f"report.{key}", "is missing")
    clean = _number(where, "report.clean_accuracy", report["clean_accuracy"], 0.0, 1.0)
    robust = _object(where, "report.robust_accuracy", report["robust_accuracy"])
    if not robust:
        raise _fail(where, "report.robust_accuracy", "names no norm")
    values = {}
    for norm, acc in robust.items():
        values[norm] = _number(where, f"report.robust_accuracy.{norm}", acc, 0.0, 1.0)
        if values[norm] > clean + TOLERANCE:
            raise _fail(where, f"report.robust_accuracy.{norm}", f"is {values[norm]}, above the clean accuracy {clean} "
                        "(a robust point is a correctly classified one)")
    union = _number(where, "report.union_accuracy", report["union_accuracy"], 0.0, 1.0)
    lowest = min(values, key=values.get)
    if union > values[lowest] + TOLERANCE:
        raise _fail(where, "report.union_accuracy", f"is {union}, above the {lowest} accuracy {values[lowest]} (the "
                    "union's robust points are robust against every norm)")
    eps = _object(where, "report.eps", report["eps"])
    if set(eps) != set(robust):
        raise _fail(where, "report.eps", f"names {sorted(eps)}, the robust accuracies {sorted(robust)}")
    for norm, radius in eps.items():
        _number(where, f"report.eps.{norm}", radius, positive=True)
    _number(where, "report.n_points", report["n_points"], integer=True, positive=True)
    _number(where, "report.n_iter", report["n_iter"], integer=True, positive=True)
    _string(where, "report.method", report["method"])
    if not isinstance(report.get("warnings", []), list) or not all(isinstance(w, str) for w in report.get("warnings", [])):
        raise _fail(where, "report.warnings", "is not a list of strings")


def _check_unit(where: str, record: dict, path: pathlib.Path | None) -> None:
    from .study import unit_from_name

    name = _string(where, "name", record.get("name"))
    try:
        unit = unit_from_name(name)
    except ValueError as err:
        raise _fail(where, "name", str(err)) from None
    if path is not None and path.stem != name:
        raise _fail(where, "name", f"is {name!r}, but the file is named {path.name!r} (a record copied over another "
                    "unit's file)")
    described = _object(where, "unit", record.get("unit"))
    for key in ("scheme", "epochs", "seed", "init"):
        if described.get(key) != getattr(unit, key):
            raise _fail(where, f"unit.{key}", f"is {json.dumps(described.get(key))}, but the name {name!r} says "
                        f"{json.dumps(getattr(unit, key))}")


def check_record(record: Any, path: str | os.PathLike | None = None) -> dict:
    """Check a unit's record against the schema (see the module docstring); returns it.

    Parameters
    ----------
    record : object
        The parsed JSON.
    path : path-like, optional
        Its file: the file's name must be the unit's name, its folder the record's profile.

    Raises
    ------
    RecordError
        Naming the file (or "the record") and the first bad field.
    """
    path = None if path is None else pathlib.Path(path)
    where = str(path) if path is not None else "the record"
    if not isinstance(record, dict):
        raise RecordError(f"{where} holds a JSON {type(record).__name__ if record is not None else 'null'}, not a "
                          "unit's record (a JSON object); the file is damaged or is not a record")
    _check_unit(where, record, path)
    profile = _string(where, "profile", record.get("profile"))
    if path is not None and profile not in path.parent.parts[-2:]:
        raise _fail(where, "profile", f"is {profile!r}, but the file lies in {path.parent}")
    _check_report(where, record.get("report"))
    for key in ("time_per_epoch_s", "train_seconds"):
        if record.get(key) is not None:
            _number(where, key, record[key], low=0.0)
    curve = record.get("l2_curve")
    if curve is not None:
        curve = _object(where, "l2_curve", curve)
        eps, acc = curve.get("eps"), curve.get("accuracy")
        if not isinstance(eps, list) or not isinstance(acc, list) or len(eps) != len(acc):
            raise _fail(where, "l2_curve", "does not hold lists eps and accuracy of one length")
        for i, (e, a) in enumerate(zip(eps, acc)):
            _number(where, f"l2_curve.eps[{i}]", e, low=0.0)
            _number(where, f"l2_curve.accuracy[{i}]", a, 0.0, 1.0)
    provenance = _object(where, "provenance", record.get("provenance"))
    _string(where, "provenance.ended", provenance.get("ended"))
    _object(where, "provenance.machine", provenance.get("machine"))
    _object(where, "provenance.versions", provenance.get("versions"))
    return record


def read_record(path: str | os.PathLike) -> dict:
    """Read and check a unit's record.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    RecordError
        If it is not valid JSON (truncated, damaged: the line and column are named), or not
        a valid record (the field is named).
    """
    path = pathlib.Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RecordError(f"{path} is not UTF-8 text: the record is damaged") from None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        raise RecordError(f"{path} is not valid JSON ({err.msg} at line {err.lineno} column {err.colno}): the record "
                          "is truncated or damaged (recompute the unit, or restore the file from git)") from None
    return check_record(record, path)


def write_record(path: str | os.PathLike, record: dict, root: str | os.PathLike | None = None) -> pathlib.Path:
    """Check ``record`` and write it atomically (never through a link; inside ``root`` if given).

    Tensors of one number become floats (``default=float``).

    Raises
    ------
    RecordError
        If the record breaks the schema: nothing is written.
    """
    path = pathlib.Path(path)
    record = json.loads(json.dumps(record, default=float))
    check_record(record, path)
    return atomic_write_json(path, record, indent=1, default=float, root=root)
