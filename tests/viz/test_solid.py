import numpy as np
import pytest

from lpgeom.geometry import hull_gauge, hull_radius
from lpgeom.viz.solid import hull_figure_3d


def test_traces_and_inscribed_ball_radius():
    fig = hull_figure_3d(1.8, 1.0)
    names = [t.name for t in fig.data]
    assert names == ["hull", "octahedron B_1", "cube B_inf", "l2 ball in hull", "l2 ball in union"]
    sphere = fig.data[3]
    radii = np.sqrt(np.asarray(sphere.x) ** 2 + np.asarray(sphere.y) ** 2 + np.asarray(sphere.z) ** 2)
    np.testing.assert_allclose(radii, hull_radius(1.8, 1.0, 2, 3), rtol=1e-12)
    # the sphere touches the hull: every point inside, the farthest gauge is 1
    pts = np.stack([np.ravel(sphere.x), np.ravel(sphere.y), np.ravel(sphere.z)], 1)
    g = hull_gauge(pts, 1.8, 1.0)
    assert g.max() <= 1 + 1e-9 and g.max() > 0.98


def test_mesh_vertices_are_the_ball_vertices_and_deterministic():
    a, b = hull_figure_3d(1.8, 1.0), hull_figure_3d(1.8, 1.0)
    assert a.to_json() == b.to_json()
    mesh = a.data[0]
    assert len(mesh.x) == 6 + 8


def test_degenerate_radii_rejected():
    with pytest.raises(ValueError, match="contained in B_1"):
        hull_figure_3d(3.5, 1.0)
