"""The curated public API: every advertised name resolves, and importing is side-effect free."""
import subprocess
import sys

import pytest

import lpgeom


@pytest.mark.parametrize("name", sorted(set(lpgeom.__all__) - {"__version__"}))
def test_every_public_name_resolves(name):
    obj = getattr(lpgeom, name)
    assert obj is not None
    assert getattr(obj, "__doc__", None), f"lpgeom.{name} has no docstring"


def test_unknown_name_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'not_a_thing'"):
        lpgeom.not_a_thing  # noqa: B018


def test_import_has_no_heavy_side_effects():
    code = (
        "import sys, lpgeom\n"
        "heavy = [m for m in ('torch', 'matplotlib', 'plotly', 'ipywidgets') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import lpgeom pulled in: {out.stdout.strip()}"


def test_every_layer_declares_all():
    import importlib

    for layer in ("geometry", "threats", "attacks", "evaluation", "models", "data", "training", "viz", "exercises", "experiments"):
        try:
            module = importlib.import_module(f"lpgeom.{layer}")
        except ModuleNotFoundError:
            pytest.fail(f"layer lpgeom.{layer} is missing")
        assert hasattr(module, "__all__"), f"lpgeom.{layer} has no __all__"
        for name in module.__all__:
            assert hasattr(module, name), f"lpgeom.{layer}.__all__ lists {name!r}, which is not defined"
