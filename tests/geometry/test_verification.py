import math

import numpy as np
import pytest
from hypothesis import given, settings as hsettings

from lpgeom.geometry import RadiusReport, hull_gauge, in_hull, in_union, verify_radius

from strategies import geometry_settings


@given(geometry_settings(max_d=60))
@hsettings(max_examples=40, deadline=None)
def test_verification_passes_and_witnesses_straddle_the_boundary(setting):
    eps1, eps_inf, p, d = setting
    report = verify_radius(eps1, eps_inf, p, d)
    assert report.passed, str(report)
    assert bool(in_hull(report.hull_boundary, eps1, eps_inf, tol=1e-7))
    assert not bool(in_hull(report.hull_beyond, eps1, eps_inf, tol=1e-7))
    assert bool(in_union(report.union_boundary, eps1, eps_inf, tol=1e-7))
    assert not bool(in_union(report.union_beyond, eps1, eps_inf, tol=1e-7))


@pytest.mark.parametrize(
    "eps1, eps_inf, d, n_starts",
    [(12, 8 / 255, 3072, 2), pytest.param(255, 4 / 255, 150528, 1, marks=pytest.mark.slow)],
)
@pytest.mark.parametrize("p", [1, 1.5, 2, 4, math.inf])
def test_paper_settings_verify(eps1, eps_inf, d, n_starts, p):
    report = verify_radius(eps1, eps_inf, p, d, n_starts=n_starts)
    assert report.passed, str(report)
    assert report.hull_boundary.shape == (d,)
    assert float(hull_gauge(report.hull_boundary, eps1, eps_inf)) == pytest.approx(1.0, abs=1e-9)


def test_qhull_second_check_for_small_d():
    report = verify_radius(2.5, 1, 2, 3)
    assert report.hull_qhull == pytest.approx(report.hull_closed, rel=1e-9)
    assert verify_radius(12, 8 / 255, 2, 3072).hull_qhull is None


def test_report_serialises_and_renders():
    report = verify_radius(12, 8 / 255, 2, 3072)
    assert isinstance(report, RadiusReport)
    summary = report.to_dict()
    assert summary["passed"] is True and "union_boundary" not in summary
    assert len(report.to_dict(witnesses=True)["hull_beyond"]) == 3072
    assert "PASS" in str(report) and "Thm. 3.1" in str(report)
    assert "<table>" in report._repr_html_()


def test_a_wrong_closed_form_would_be_caught():
    """The check is not circular: perturbing the closed form makes the report fail."""
    report = verify_radius(12, 8 / 255, 2, 3072)
    report.hull_closed *= 1.001
    assert not report.passed
    assert report.hull_gap == pytest.approx(1e-3, rel=1e-2)
    np.testing.assert_allclose(np.linalg.norm(report.hull_boundary), report.hull_numeric, rtol=1e-9)
