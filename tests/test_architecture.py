"""The layer rule of ARCHITECTURE.md, read from the imports themselves.

Every ``import`` / ``from ... import`` in ``lpgeom/`` (module level or inside functions) is
parsed; a module may import its own layer and the layers *below* it, never one above, and
never another layer's private (``_``-prefixed) module or name.
"""
from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "lpgeom"

# lower rank = lower layer; a layer imports only strictly lower ranks (and itself)
LAYER_RANK = {
    "utils": 0,
    "profiles": 0,
    "datasets": 0,
    "geometry": 1,
    "threats": 2,
    "attacks": 3,
    "models": 3,
    "data": 3,
    "evaluation": 4,
    "training": 5,
    "experiments": 6,
    "viz": 7,
    "exercises": 8,
    "cli": 9,
    "__main__": 10,
    "__init__": 10,
}


def _layer_of(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return parts[0]


def _imports(path: pathlib.Path) -> list[tuple[int, list[str], list[str]]]:
    """(line, target module parts inside lpgeom, imported names) for every lpgeom import in ``path``."""
    package = list(path.relative_to(ROOT).parent.parts)
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == "lpgeom":
                target = node.module.split(".")[1:]
            else:
                continue
            names = [a.name for a in node.names]
            if not target:  # `from .. import x` at the package root: x is a layer or a module
                for name in names:
                    found.append((node.lineno, [name], []))
                continue
            found.append((node.lineno, target, names))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "lpgeom" and len(parts) > 1:
                    found.append((node.lineno, parts[1:], []))
    return found


MODULES = sorted(p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_layer_has_a_rank():
    layers = {_layer_of(p) for p in MODULES}
    assert layers <= set(LAYER_RANK), f"layers without a place in the order: {sorted(layers - set(LAYER_RANK))}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_respect_the_layer_order(path):
    layer = _layer_of(path)
    wrong = []
    for line, target, _ in _imports(path):
        other = target[0]
        if other == layer or other not in LAYER_RANK:
            continue
        if LAYER_RANK[other] >= LAYER_RANK[layer]:
            wrong.append(f"line {line}: {layer} (rank {LAYER_RANK[layer]}) imports {'.'.join(target)} "
                         f"(rank {LAYER_RANK[other]})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_names_of_another_layer(path):
    layer = _layer_of(path)
    wrong = []
    for line, target, names in _imports(path):
        if target[0] == layer:
            continue
        private_modules = [p for p in target[1:] if p.startswith("_")]
        private_names = [n for n in names if n.startswith("_")]
        if private_modules or private_names:
            wrong.append(f"line {line}: imports {'.'.join(target)} {private_names or ''}".rstrip())
    assert not wrong, f"{layer} reaches into another layer's private names:\n" + "\n".join(wrong)


def test_the_rule_catches_a_violation(tmp_path):
    """The checker itself: an upward import and a private import are both reported."""
    fake_root = tmp_path / "lpgeom"
    (fake_root / "geometry").mkdir(parents=True)
    bad = fake_root / "geometry" / "bad.py"
    bad.write_text("from ..training import train\nfrom ..attacks._model_mode import eval_mode\n")
    global ROOT
    saved, ROOT = ROOT, fake_root
    try:
        with pytest.raises(AssertionError, match="imports training"):
            test_imports_respect_the_layer_order(bad)
        with pytest.raises(AssertionError, match="private"):
            test_no_private_names_of_another_layer(bad)
    finally:
        ROOT = saved
