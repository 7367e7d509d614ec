"""Small unit records that satisfy lpgeom.experiments.record_schema, for tests that write synthetic results."""
import dataclasses


def full_record(name, profile, report=None, provenance=None, **extra):
    """A valid record of unit ``name``: ``report`` and ``provenance`` entries override the defaults.

    Robust accuracies default to 0.5/0.4/0.3 (raised to the union if it is higher), the clean accuracy to 0.8.
    """
    from lpgeom.experiments import unit_from_name

    report = dict(report or {})
    union = report.get("union_accuracy", 0.2)
    robust = report.pop("robust_accuracy", {"Linf": max(0.5, union), "L2": max(0.4, union), "L1": max(0.3, union)})
    full = {"clean_accuracy": max(0.8, *robust.values()), "robust_accuracy": robust, "union_accuracy": union,
            "eps": {k: 0.1 for k in robust}, "method": "autoattack", "n_points": 10, "n_iter": 10, **report}
    prov = {"ended": "2026-01-01T00:00:00+00:00", "machine": {}, "versions": {}, **(provenance or {})}
    return {"name": name, "unit": dataclasses.asdict(unit_from_name(name)), "profile": profile, "report": full,
            "provenance": prov, **extra}
