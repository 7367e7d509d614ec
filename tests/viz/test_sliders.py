"""Slider figures: one frame per setting/p, closed forms next to independent numerics."""
import math

import pytest

from lpgeom.geometry import hull_radius, union_radius
from lpgeom.viz.sliders import (
    P_GRID, PAPER_SETTINGS, Setting, check_radii_numerically, plane_slider_figure, radii_slider_figure,
)


def test_paper_settings_are_on_the_grid():
    values = {(s.eps1, s.eps_inf, s.d) for s in PAPER_SETTINGS}
    assert (12.0, 8 / 255, 3072) in values and (255.0, 4 / 255, 150528) in values
    assert 2.0 in P_GRID and math.inf in P_GRID and 1.0 in P_GRID


@pytest.mark.parametrize("p", [1, 1.5, 2, math.inf])
def test_numerical_check_agrees_with_closed_forms(p):
    c = check_radii_numerically(12, 8 / 255, p, 3072)
    assert c.hull_method == "LP search" and c.n_lp >= 2
    assert c.hull_numeric == pytest.approx(hull_radius(12, 8 / 255, p, 3072), rel=1e-9)
    assert c.union_numeric == pytest.approx(union_radius(12, 8 / 255, p, 3072), rel=1e-9)
    assert c.hull_gap < 1e-9 and c.union_gap < 1e-9


def test_large_d_uses_one_lp_at_p2_only():
    c = check_radii_numerically(12, 8 / 255, 3, 150528)
    assert c.hull_numeric is None and c.hull_method == "none" and c.n_lp == 0 and c.hull_gap is None


def test_radii_figure_frames_differ_and_carry_their_check():
    settings = (Setting("A", 12.0, 8 / 255, 3072), Setting("B", 40.0, 8 / 255, 3072))
    fig = radii_slider_figure(settings, ps=(1.5, 2.0, math.inf))
    assert [f.name for f in fig.frames] == ["A", "B"]
    assert [s.label for s in fig.layout.sliders[0].steps] == ["A", "B"]
    a, b = fig.frames
    assert a.data[2].y != b.data[2].y  # the hull's closed-form radii change with eps1
    assert a.layout.annotations[0].text != b.layout.annotations[0].text
    assert "max rel. gap" in a.layout.annotations[0].text
    assert a.data[3].y[1] == pytest.approx(hull_radius(12, 8 / 255, 2, 3072), rel=1e-9)  # LP marker at p = 2


def test_plane_figure_starts_at_p2_and_has_a_frame_per_p():
    fig = plane_slider_figure(ps=(1.0, 2.0, math.inf))
    assert [f.name for f in fig.frames] == ["1", "2", "∞"]
    assert fig.layout.sliders[0].active == 1
    assert "p = 2" in fig.layout.annotations[0].text and "LP search 1.341641" in fig.layout.annotations[0].text
    assert list(fig.frames[0].data[4].x) != list(fig.frames[2].data[4].x)  # the hull's inscribed ball changes with p


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="at least one"):
        radii_slider_figure(settings=())
    with pytest.raises(ValueError, match="contained in"):
        plane_slider_figure(eps1=3.0, eps_inf=1.0)
