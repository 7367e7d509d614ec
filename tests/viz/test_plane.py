import math

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lpgeom.geometry import hull_radius, union_radius  # noqa: E402
from lpgeom.viz.plane import PANELS, draw_sets, lp_ball_boundary, plot_union_and_hull  # noqa: E402


@pytest.mark.parametrize("p", [1, 1.5, 2, 3, math.inf])
def test_boundary_points_have_the_right_norm(p):
    xs, ys = lp_ball_boundary(p, 0.7)
    pts = np.stack([xs, ys], 1)
    norms = np.abs(pts).max(1) if math.isinf(p) else (np.abs(pts) ** p).sum(1) ** (1 / p)
    np.testing.assert_allclose(norms, 0.7, rtol=1e-12)


def test_figure_has_four_panels_with_the_drawn_radii():
    import matplotlib.pyplot as plt

    fig = plot_union_and_hull(1.5, 1.0, 2)
    assert [ax.get_title() for ax in fig.axes] == list(PANELS)
    labels = [t.get_text() for t in fig.axes[3].get_legend().get_texts()]
    assert any(f"{hull_radius(1.5, 1.0, 2, 2):.3g}" in s for s in labels)
    assert any(f"{union_radius(1.5, 1.0, 2, 2):.3g}" in s for s in labels)
    plt.close(fig)


def test_drawn_hull_ball_has_hull_radius():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    radii = draw_sets(ax, 1.5, 1.0, 3, "hull ball")
    line = next(l for l in ax.get_lines() if "in $C$" in l.get_label())
    pts = np.stack([line.get_xdata(), line.get_ydata()], 1)
    np.testing.assert_allclose((np.abs(pts) ** 3).sum(1) ** (1 / 3), radii["hull"], rtol=1e-12)
    plt.close(fig)


def test_bad_panel_and_degenerate_radii():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="panel must be one of"):
        draw_sets(ax, 1.5, 1.0, 2, "everything")
    with pytest.raises(ValueError, match="contained in B_1"):
        draw_sets(ax, 2.5, 1.0, 2)  # 2.5 >= d * eps_inf = 2
    plt.close(fig)


def test_lp_ball_boundary_stays_finite_for_huge_p_and_refuses_bad_radii():
    """|c|^p + |s|^p underflowed to 0 for p >= 1e4: the boundary had infinite coordinates."""
    import numpy as np

    from lpgeom.viz import lp_ball_boundary

    for p in (1e3, 1e4, 1e6):
        xs, ys = lp_ball_boundary(p, 1.0)
        assert np.isfinite(xs).all() and np.isfinite(ys).all()
        assert abs(np.abs(np.concatenate([xs, ys])).max() - 1) < 1e-9
    for radius, error in ((-1.0, ValueError), (float("nan"), ValueError), (True, TypeError), ("1", TypeError)):
        with pytest.raises(error, match="radius"):
            lp_ball_boundary(2, radius)
    with pytest.raises(ValueError, match="n .points of a closed curve. must be"):
        lp_ball_boundary(2, 1.0, n=0)
    with pytest.raises(TypeError, match="n .points of a closed curve. must be"):
        lp_ball_boundary(2, 1.0, n=2.5)


def test_figure_builders_refuse_what_they_cannot_draw():
    from lpgeom.viz import draw_sets, geometry_panel, plane_slider_figure, plot_union_and_hull

    with pytest.raises(ValueError, match="dimensions"):
        geometry_panel(d=1)
    with pytest.raises(ValueError, match="at least one norm"):
        plane_slider_figure(ps=())
    with pytest.raises(TypeError, match="matplotlib Axes"):
        draw_sets(None, 1.5, 1.0, 2)
    with pytest.raises(ValueError, match="panels"):
        plot_union_and_hull(panels=())
